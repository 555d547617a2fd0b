"""The live feed refuses pages from other origins, even when the browser sends the cookie."""

from __future__ import annotations

import ipaddress
import json

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from tests.support.service import API_TOKEN, RunningService, started_service

FOREIGN = "https://evil.example"


async def first_message(url: str, headers: dict[str, str]) -> dict:
    with trio.fail_after(10):
        async with open_websocket_url(url, extra_headers=list(headers.items())) as socket:
            return json.loads(await socket.get_message())


async def refused(url: str, headers: dict[str, str]) -> ConnectionRejected:
    with pytest.raises(ConnectionRejected) as caught, trio.fail_after(10):
        await first_message(url, headers)
    return caught.value


def feed(service: RunningService, *, token: bool = True) -> str:
    url = service.url.replace("http://", "ws://") + "/ws"
    return f"{url}?token={API_TOKEN}" if token else url


async def signed_in(service: RunningService) -> str:
    response = await service.http.post("/login", data={"token": API_TOKEN})
    return response.headers["set-cookie"].split(";")[0]


async def test_a_foreign_origin_is_refused_even_with_the_session_cookie(
    service: RunningService,
) -> None:
    cookie = await signed_in(service)
    rejection = await refused(feed(service, token=False), {"Origin": FOREIGN, "Cookie": cookie})
    assert rejection.status_code == 403
    assert "origin" in json.loads(rejection.body)["error"]
    rejection = await refused(feed(service), {"Origin": FOREIGN})
    assert rejection.status_code == 403


async def test_the_own_origin_with_the_session_cookie_gets_the_snapshot(
    service: RunningService,
) -> None:
    cookie = await signed_in(service)
    message = await first_message(
        feed(service, token=False), {"Origin": service.url, "Cookie": cookie}
    )
    assert message == {"type": "snapshot", "requests": [], "active_total": 0, "more": None}


async def test_a_client_that_sends_no_origin_is_judged_by_its_token_alone(
    service: RunningService,
) -> None:
    assert (await first_message(feed(service), {}))["type"] == "snapshot"
    rejection = await refused(feed(service, token=False), {})
    assert rejection.status_code == 401


async def test_an_origin_listed_in_st_allowed_origins_is_accepted(sqlite_url: str) -> None:
    async with started_service(sqlite_url, allowed_origins=("https://board.example",)) as service:
        message = await first_message(feed(service), {"Origin": "https://board.example"})
        assert message["type"] == "snapshot"
        assert (await refused(feed(service), {"Origin": FOREIGN})).status_code == 403


BEHIND_PROXY = {
    "Origin": "https://status.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "status.example",
}


async def test_behind_a_trusted_proxy_the_forwarded_origin_is_the_own_origin(
    service: RunningService,
) -> None:
    assert (await first_message(feed(service), BEHIND_PROXY))["type"] == "snapshot"


async def test_forwarded_headers_from_an_untrusted_peer_do_not_make_an_origin_own(
    sqlite_url: str,
) -> None:
    elsewhere = (ipaddress.ip_network("10.0.0.0/8"),)
    async with started_service(sqlite_url, trusted_proxies=elsewhere) as service:
        assert (await refused(feed(service), BEHIND_PROXY)).status_code == 403
