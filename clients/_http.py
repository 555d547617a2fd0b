"""Plumbing shared by the outbound HTTP clients: their error family, URL redaction, a session.

Transport failures and 5xx answers become ``ServiceUnavailable``, so callers can back off without
knowing httpx; anything else the client cannot understand becomes ``UnexpectedResponse``. Every
message names a service by its redacted URL, and never carries an API key.
"""

from __future__ import annotations

import re
import typing

import httpx
import trio

from status_tracker.strict import load_json

from ._health import DependencyHealth

if typing.TYPE_CHECKING:
    from collections.abc import Container
    from types import TracebackType

_AUTHORITY = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<authority>[^/?#]*)")
_ERRNO_PREFIX = re.compile(r"^\[Errno -?\d+\]\s*")
_BODY_PREVIEW = 200
WHOLE_ANSWER_TIMEOUTS = 6
"""How many per-read timeouts a whole answer may take: a server trickling its answer a byte at a
time (each read inside the timeout) is as good as down after that."""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
"""The largest answer, decompressed, a client reads: the biggest real ones (a large library's
items, a long series' episodes) are a few MB; past this a reply only costs memory."""


@typing.final
class UnreadableAnswer(Exception):
    """An answer that did not arrive whole in time, or was too large to read."""

    def __init__(self, problem: str, *, status_code: int | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status_code = status_code
        """The answer's status when it was too large; None when it was too slow."""


async def read_answer(
    http: httpx.AsyncClient, method: str, url: str, *, read_timeout: float, **kwargs: typing.Any
) -> httpx.Response:
    """Send one request and read its whole answer: within ``WHOLE_ANSWER_TIMEOUTS`` times
    ``read_timeout`` (httpx's limit for each step) and ``MAX_ANSWER_BYTES`` once decompressed.

    Raises:
        UnreadableAnswer: the answer was too slow or too large.
        httpx.HTTPError, httpx.InvalidURL: as ``httpx.AsyncClient.request`` raises them.
    """
    whole = read_timeout * WHOLE_ANSWER_TIMEOUTS
    chunks: list[bytes] = []
    size = 0
    try:
        with trio.fail_after(whole):
            async with http.stream(method, url, timeout=read_timeout, **kwargs) as response:
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_ANSWER_BYTES:
                        limit = MAX_ANSWER_BYTES // 2**20
                        raise UnreadableAnswer(
                            f"sent an answer over {limit} MB", status_code=response.status_code
                        )
                    chunks.append(chunk)
    except trio.TooSlowError:
        raise UnreadableAnswer(f"took over {whole:g} s to answer") from None
    # The body is decompressed already: the answer handed on no longer says how it was sent.
    headers = [
        (name, value)
        for name, value in response.headers.raw
        if name.lower() not in (b"content-encoding", b"content-length", b"transfer-encoding")
    ]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=response.request,
        extensions=response.extensions,
    )


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``, for logs, messages and /health."""
    found = _AUTHORITY.match(url)
    if found is None or "@" not in found["authority"]:
        return url
    host = found["authority"].rpartition("@")[2]
    return f"{found['scheme']}***@{host}{url[found.end() :]}"


class ClientError(Exception):
    """Base of every failure an outbound client reports.

    ``reason`` is one sentence for /health (no URL, no reply excerpt); the message adds detail
    for the log.
    """

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


@typing.final
class ServiceUnavailable(ClientError):
    """The service could not be reached, timed out, or answered with a 5xx status."""

    def __init__(
        self, message: str, *, status_code: int | None = None, reason: str | None = None
    ) -> None:
        super().__init__(message, reason=reason)
        self.status_code = status_code


@typing.final
class UnexpectedResponse(ClientError):
    """The service answered with a status or a body this client does not understand."""

    def __init__(self, message: str, *, status_code: int, reason: str | None = None) -> None:
        super().__init__(message, reason=reason)
        self.status_code = status_code


def json_kind(value: object) -> str:
    """What kind of JSON value ``value`` is, in words (``a list``, ``null``...)."""
    match value:
        case None:
            return "null"
        case bool():
            return "true or false"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(value).__name__


def transport_problem(exc: Exception) -> str:
    """A transport failure in a few words (httpx's own text may name the URL, so it is not used)."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.InvalidURL):
        return "the configured URL is invalid"
    if isinstance(exc, httpx.ConnectError):
        text = _ERRNO_PREFIX.sub("", str(exc)).strip()
        return text[:1].lower() + text[1:] if text else "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the connection broke the HTTP protocol"
    return type(exc).__name__


class HttpService:
    """Base of the clients: sends requests relative to ``base_url`` with a per-request timeout.

    The httpx client is closed by ``aclose()`` only when this object created it.
    """

    service_name: typing.ClassVar[str]

    def __init__(self, base_url: str, *, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._shown_url = redact_url(self._base_url)
        self._owns_http = http is None
        self._http = httpx.AsyncClient() if http is None else http
        self._timeout = timeout
        self.health = DependencyHealth(self.service_name)
        """Kept on the client so every user of it (and every restart of them) shares one record."""

    @property
    def base_url(self) -> str:
        """The service's root URL, without a trailing slash."""
        return self._base_url

    @property
    def shown_url(self) -> str:
        """``base_url`` with its credentials redacted: the form logs and /health show."""
        return self._shown_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._shown_url!r})"

    async def aclose(self) -> None:
        """Close the underlying httpx client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> typing.Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(
        self, method: str, path: str, *, answered: Container[int] = (), **kwargs: typing.Any
    ) -> httpx.Response:
        """Send one request; raise ``ServiceUnavailable`` on transport failure or a 5xx answer
        (but those in ``answered``, which the caller reads).

        A body that cannot be decoded (a broken ``Content-Encoding``) is an ``UnexpectedResponse``.
        """
        try:
            response = await read_answer(
                self._http, method, self._base_url + path, read_timeout=self._timeout, **kwargs
            )
        except UnreadableAnswer as exc:
            message = f"{self.service_name} at {self._shown_url} {exc.problem}: {method} {path}"
            if exc.status_code is None:
                raise ServiceUnavailable(message, reason=f"unreachable: {exc.problem}") from None
            raise UnexpectedResponse(
                message, status_code=exc.status_code, reason=f"{self.service_name} {exc.problem}"
            ) from None
        except httpx.DecodingError as exc:
            raise UnexpectedResponse(
                f"{self.service_name} at {self._shown_url} sent an undecodable body to "
                f"{method} {path}",
                status_code=httpx.codes.OK,
                reason=f"{self.service_name} answered with a body that cannot be decoded",
            ) from exc
        except (httpx.RequestError, httpx.InvalidURL) as exc:
            problem = transport_problem(exc)
            raise ServiceUnavailable(
                f"{self.service_name} at {self._shown_url} is unreachable: {problem}",
                reason=f"unreachable: {problem}",
            ) from None
        if response.status_code >= 500 and response.status_code not in answered:
            raise ServiceUnavailable(
                f"{self.service_name} at {self._shown_url} answered {response.status_code} "
                f"to {method} {path}",
                status_code=response.status_code,
                reason=f"{self.service_name} answered HTTP {response.status_code}",
            )
        return response

    def _unexpected(
        self, response: httpx.Response, problem: str | None = None
    ) -> UnexpectedResponse:
        request = response.request
        problem = problem or f"answered HTTP {response.status_code}"
        return UnexpectedResponse(
            f"{self.service_name} at {self._shown_url} {problem} to {request.method} "
            f"{request.url.path}: {response.text[:_BODY_PREVIEW]!r}",
            status_code=response.status_code,
            reason=f"{self.service_name} {problem}",
        )

    def _json(
        self,
        response: httpx.Response,
        expected: type[list] | type[dict],
        *,
        statuses: Container[int] = (httpx.codes.OK,),
    ) -> typing.Any:
        """Decode the JSON body of an answer with one of ``statuses`` (200 unless said), which
        must be a ``list`` or ``dict`` as expected."""
        if response.status_code not in statuses:
            raise self._unexpected(response)
        try:
            body = load_json(response.content)
        except ValueError:
            raise self._unexpected(response, "answered something other than JSON") from None
        if not isinstance(body, expected):
            wanted = json_kind(expected())
            raise self._unexpected(response, f"answered {json_kind(body)} instead of {wanted}")
        return body


class KeyedService(HttpService):
    """A service called with an API key, sent in the header ``key_header(api_key)`` gives."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, http=http, timeout=timeout)
        self._headers = self.key_header(api_key)

    @staticmethod
    def key_header(api_key: str) -> dict[str, str]:
        """The *arr convention; Jellyfin overrides it."""
        return {"X-Api-Key": api_key}
