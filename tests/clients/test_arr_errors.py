"""Sonarr and Radarr, every call: a refused API key, a reply the client cannot read and an outage
each reach the caller (the reconciler, a deletion) as the same kind of error, in the same words."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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
CASES = [
    (SonarrClient, "Sonarr", SonarrAuthError, name, call) for name, call in SONARR_CALLS.items()
] + [(RadarrClient, "Radarr", RadarrAuthError, name, call) for name, call in RADARR_CALLS.items()]
IDS = [f"{service}-{name}" for _, service, _, name, _ in CASES]
READING = [
    case
    for case in CASES
    if case[3] not in ("remove_from_queue", "unmonitor_episodes", "delete_movie")
]


async def failing(
    client_class: type[SonarrClient | RadarrClient],
    call: Call,
    answer: Callable[[httpx.Request], httpx.Response],
) -> ClientError:
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        arr = client_class("http://arr.test:8989", "secret-key", http=http)
        with pytest.raises(ClientError) as caught:
            await call(arr)
    return caught.value


@pytest.mark.parametrize(("client_class", "service", "auth_error", "name", "call"), CASES, ids=IDS)
async def test_a_refused_api_key_is_an_auth_error_naming_the_service(
    client_class: type[SonarrClient | RadarrClient],
    service: str,
    auth_error: type[Exception],
    name: str,
    call: Call,
) -> None:
    error = await failing(client_class, call, lambda _: httpx.Response(401))
    assert isinstance(error, ArrAuthError if name in RECONCILER_USES else auth_error)
    assert error.reason == f"{service} refused the API key"
    assert str(error) == f"{service} at http://arr.test:8989 refused the API key"
    assert "secret-key" not in str(error)


@pytest.mark.parametrize(("client_class", "service", "auth_error", "name", "call"), CASES, ids=IDS)
async def test_an_answer_it_does_not_understand_is_an_unexpected_response(
    client_class: type[SonarrClient | RadarrClient],
    service: str,
    auth_error: type[Exception],
    name: str,
    call: Call,
) -> None:
    error = await failing(client_class, call, lambda _: httpx.Response(418, text="teapot"))
    assert isinstance(error, UnexpectedResponse)
    assert (error.status_code, error.reason) == (418, f"{service} answered HTTP 418")


@pytest.mark.parametrize(
    ("client_class", "service", "auth_error", "name", "call"),
    READING,
    ids=[f"{service}-{name}" for _, service, _, name, _ in READING],
)
async def test_a_body_that_is_not_json_is_an_unexpected_response(
    client_class: type[SonarrClient | RadarrClient],
    service: str,
    auth_error: type[Exception],
    name: str,
    call: Call,
) -> None:
    error = await failing(client_class, call, lambda _: httpx.Response(200, text="<html>"))
    assert isinstance(error, UnexpectedResponse)
    assert error.reason == f"{service} answered something other than JSON"


@pytest.mark.parametrize(("client_class", "service", "auth_error", "name", "call"), CASES, ids=IDS)
@pytest.mark.parametrize("outage", ["503", "refused"])
async def test_an_outage_is_service_unavailable(
    client_class: type[SonarrClient | RadarrClient],
    service: str,
    auth_error: type[Exception],
    name: str,
    call: Call,
    outage: str,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if outage == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return httpx.Response(503)

    error = await failing(client_class, call, answer)
    assert isinstance(error, ServiceUnavailable)
    expected = "unreachable: connection refused" if outage == "refused" else "answered HTTP 503"
    assert error.reason.endswith(expected)
