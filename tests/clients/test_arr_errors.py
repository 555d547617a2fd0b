"""Sonarr and Radarr, every call: a refused API key, a reply the client cannot read and an outage
each reach the caller (the reconciler, a deletion) as the same kind of error, in the same words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import httpx
import pytest
from status_tracker.clients import (
    ClientError,
    RadarrAuthError,
    RadarrClient,
    ServiceUnavailable,
    SonarrAuthError,
    SonarrClient,
    UnexpectedResponse,
)
from status_tracker.clients._arr import ArrAuthError

Call = Callable[[Any], Awaitable[object]]
Answer = Callable[[httpx.Request], httpx.Response]

RECONCILER_CALLS: dict[str, Call] = {
    "queue": lambda arr: arr.queue(),
    "history_since": lambda arr: arr.history_since(1_700_000_000.0),
    "remove_from_queue": lambda arr: arr.remove_from_queue(7, blocklist=True),
}
SONARR_CALLS: dict[str, Call] = {
    **RECONCILER_CALLS,
    "search_episodes": lambda sonarr: sonarr.search_episodes([1, 2]),
    "series_id_for_tvdb": lambda sonarr: sonarr.series_id_for_tvdb(376435),
    "episodes": lambda sonarr: sonarr.episodes(3),
    "unmonitor_episodes": lambda sonarr: sonarr.unmonitor_episodes([1]),
    "delete_episode_files": lambda sonarr: sonarr.delete_episode_files([1]),
}
RADARR_CALLS: dict[str, Call] = {
    **RECONCILER_CALLS,
    "search_movies": lambda radarr: radarr.search_movies([1]),
    "delete_movie": lambda radarr: radarr.delete_movie(5),
}
RECONCILER_USES = {*RECONCILER_CALLS, "search_episodes", "search_movies"}
READS_NO_BODY = {"remove_from_queue", "unmonitor_episodes", "delete_movie"}


@attrs.frozen
class Case:
    """One call of one client."""

    client_class: type[SonarrClient | RadarrClient]
    auth_error: type[ArrAuthError]
    name: str
    call: Call

    @property
    def service(self) -> str:
        return self.client_class.service_name

    async def failing(self, answer: Answer) -> ClientError:
        """The error the call raises when every request is answered by ``answer``."""
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            arr = self.client_class("http://arr.test:8989", "secret-key", http=http)
            with pytest.raises(ClientError) as caught:
                await self.call(arr)
        return caught.value


CASES = [Case(SonarrClient, SonarrAuthError, n, c) for n, c in SONARR_CALLS.items()] + [
    Case(RadarrClient, RadarrAuthError, n, c) for n, c in RADARR_CALLS.items()
]


def named(case: Case) -> str:
    return f"{case.service}-{case.name}"


@pytest.fixture(params=CASES, ids=named)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture(params=[c for c in CASES if c.name not in READS_NO_BODY], ids=named)
def reading(request: pytest.FixtureRequest) -> Case:
    """A call that reads the body of the answer."""
    return request.param


async def test_a_refused_api_key_is_an_auth_error_naming_the_service(case: Case) -> None:
    error = await case.failing(lambda _: httpx.Response(401))
    assert isinstance(error, ArrAuthError if case.name in RECONCILER_USES else case.auth_error)
    assert error.reason == f"{case.service} refused the API key"
    assert str(error) == f"{case.service} at http://arr.test:8989 refused the API key"
    assert "secret-key" not in str(error)


async def test_an_answer_it_does_not_understand_is_an_unexpected_response(case: Case) -> None:
    error = await case.failing(lambda _: httpx.Response(418, text="teapot"))
    assert isinstance(error, UnexpectedResponse)
    assert (error.status_code, error.reason) == (418, f"{case.service} answered HTTP 418")


async def test_a_body_that_is_not_json_is_an_unexpected_response(reading: Case) -> None:
    error = await reading.failing(lambda _: httpx.Response(200, text="<html>"))
    assert isinstance(error, UnexpectedResponse)
    assert error.reason == f"{reading.service} answered something other than JSON"


@pytest.mark.parametrize("outage", ["503", "refused"])
async def test_an_outage_is_service_unavailable(case: Case, outage: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if outage == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(503)

    error = await case.failing(answer)
    assert isinstance(error, ServiceUnavailable)
    expected = "unreachable: connection refused" if outage == "refused" else "answered HTTP 503"
    assert error.reason.endswith(expected)
