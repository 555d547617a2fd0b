"""Plumbing shared by the outbound HTTP clients: their error family and an httpx session.

Transport failures and 5xx answers become ``ServiceUnavailable``, so callers can back off without
knowing httpx; anything else the client cannot understand becomes ``UnexpectedResponse``.
"""

from __future__ import annotations

import typing

import httpx

if typing.TYPE_CHECKING:
    from types import TracebackType


class ClientError(Exception):
    """Base of every failure an outbound client reports."""


@typing.final
class ServiceUnavailable(ClientError):
    """The service could not be reached, timed out, or answered with a 5xx status."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@typing.final
class UnexpectedResponse(ClientError):
    """The service answered with a status or a body this client does not understand."""

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class HttpService:
    """Base of the clients: sends requests relative to ``base_url`` with a per-request timeout.

    The httpx client is closed by ``aclose()`` only when this object created it.
    """

    service_name: typing.ClassVar[str]

    def __init__(self, base_url: str, *, http: httpx.AsyncClient | None, timeout: float) -> None:
        self._base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self._http = httpx.AsyncClient() if http is None else http
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        """The service's root URL, without a trailing slash."""
        return self._base_url

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

    async def _send(self, method: str, path: str, **kwargs: typing.Any) -> httpx.Response:
        """Send one request; raise ``ServiceUnavailable`` on transport failure or a 5xx answer."""
        try:
            response = await self._http.request(
                method, self._base_url + path, timeout=self._timeout, **kwargs
            )
        except httpx.TransportError as exc:
            raise ServiceUnavailable(
                f"{self.service_name} at {self._base_url} is unreachable: {exc!r}"
            ) from exc
        if response.status_code >= 500:
            raise ServiceUnavailable(
                f"{self.service_name} answered {response.status_code} to {method} {path}",
                status_code=response.status_code,
            )
        return response

    def _unexpected(self, response: httpx.Response) -> UnexpectedResponse:
        request = response.request
        return UnexpectedResponse(
            f"{self.service_name} answered {response.status_code} to {request.method} "
            f"{request.url.path}: {response.text[:200]!r}",
            status_code=response.status_code,
        )

    def _json(self, response: httpx.Response, expected: type[list] | type[dict]) -> typing.Any:
        """Decode a 200 answer's JSON body, which must be a ``list`` or ``dict`` as expected."""
        if response.status_code != httpx.codes.OK:
            raise self._unexpected(response)
        try:
            body = response.json()
        except ValueError as exc:
            raise self._unexpected(response) from exc
        if not isinstance(body, expected):
            raise self._unexpected(response)
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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._base_url!r})"
