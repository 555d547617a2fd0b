// The JSON API, relative to the page (so a URL base in front of the service keeps working).
// Every failure carries the API's own {"error": ...} text, the HTTP status and the body.

const HEALTH_TIMEOUT_MS = 5000;

export class ApiError extends Error {
  constructor(status, message, data = null) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

async function call(method, path, body, { timeoutMs } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined,
    });
  } catch (exc) {
    if (exc.name === "TimeoutError") throw new ApiError(0, `the service did not answer within ${timeoutMs / 1000} s`);
    throw new ApiError(0, "the service cannot be reached");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`, data);
  }
  return data;
}

const one = (path, id) => `${path}/${encodeURIComponent(id)}`;

export const listRequests = (params) => call("GET", `api/requests?${new URLSearchParams(params)}`);
export const getRequest = (id) => call("GET", one("api/requests", id));
export const deleteRequest = (id) => call("DELETE", one("api/requests", id));
export const deleteEpisodes = (id, episodes) => call("DELETE", `${one("api/requests", id)}/episodes`, { episodes });
export const checkRequest = (id) => call("POST", `${one("api/requests", id)}/check`);

export const listDeadLetters = (params) => call("GET", `api/dead-letters?${new URLSearchParams(params)}`);
export const retryDeadLetter = (id) => call("POST", `${one("api/dead-letters", id)}/retry`);
export const discardDeadLetter = (id) => call("DELETE", one("api/dead-letters", id));

// /health answers 503 with its whole body when the service is failing: that is an answer too.
export async function health() {
  try {
    return await call("GET", "health", undefined, { timeoutMs: HEALTH_TIMEOUT_MS });
  } catch (exc) {
    if (exc.status === 503 && exc.data?.status === "failing") return exc.data;
    throw exc;
  }
}
