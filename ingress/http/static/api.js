// The JSON API, relative to the page (so a URL base in front of the service keeps working).
// Every failure carries the API's own {"error": ...} text and the HTTP status.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function call(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (exc) {
    throw new ApiError(0, `the service cannot be reached (${exc.message})`);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && typeof data.error === "string" ? data.error : response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  return data;
}

export const listRequests = (params) => call("GET", `api/requests?${new URLSearchParams(params)}`);
export const getRequest = (id) => call("GET", `api/requests/${encodeURIComponent(id)}`);
export const deleteRequest = (id) => call("DELETE", `api/requests/${encodeURIComponent(id)}`);
export const deleteEpisodes = (id, episodes) =>
  call("DELETE", `api/requests/${encodeURIComponent(id)}/episodes`, { episodes });
