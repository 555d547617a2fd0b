"""Slow and idle clients are cut off in bounded time, and cannot lock the operators out."""

from __future__ import annotations

import json

import httpx
import trio

from tests.support.fixtures import load_fixture
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, RunningService, started_service

from .raw import Answer, address, exchange, head, send_nothing, send_slowly

ONE_MIB = 1024 * 1024
BODY_TIMEOUT_S = 2.0
KEEP_ALIVE_S = 5.0
IDLE_BETWEEN_WEBHOOKS_S = 8.0


def webhook_head(length: int, token: str | None) -> bytes:
    headers = {"Host": "status", "Content-Type": "application/json", "Content-Length": str(length)}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return head("POST", "/webhooks/radarr", headers)


def webhook_request(fixture: str) -> bytes:
    body = json.dumps(load_fixture(fixture)).encode()
    return webhook_head(len(body), WEBHOOK_TOKEN) + body


async def test_a_body_that_trickles_in_gets_408_and_the_connection_closes(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url, body_timeout_s=BODY_TIMEOUT_S) as service:
        with trio.fail_after(BODY_TIMEOUT_S + 5):
            answer = await send_slowly(service.url, webhook_head(1000, WEBHOOK_TOKEN))
        assert answer.status == 408
        assert "did not arrive" in answer.json()["error"]
        assert answer.closed_by_server
        assert answer.after_s >= BODY_TIMEOUT_S, "the client had its full time to send"
        assert (await service.system.store.mail_counts())["webhooks"] == 0


async def test_a_flood_of_slow_and_idle_connections_leaves_health_and_the_api_answering(
    sqlite_url: str,
) -> None:
    # Long enough that the flood still holds its connections while the operator is served,
    # however slow a loaded machine is: the test checks that, not how long anything took.
    flood_body_timeout_s = 4 * BODY_TIMEOUT_S
    async with started_service(
        sqlite_url,
        body_timeout_s=flood_body_timeout_s,
        max_concurrent_requests=40,
        keep_alive_s=KEEP_ALIVE_S,
    ) as service:
        answers: dict[str, list[Answer]] = {"signed": [], "unsigned": [], "idle": []}
        flooding = {"slow": 0}
        served_during_flood: list[bool] = []

        timed_out_at: list[float] = []

        async def slow(kind: str, token: str | None) -> None:
            flooding["slow"] += 1
            started = trio.current_time()
            try:
                answer = await send_slowly(service.url, webhook_head(10_000, token))
            finally:
                flooding["slow"] -= 1
            answers[kind].append(answer)
            if answer.status == 408:
                timed_out_at.append(started + answer.after_s)

        async def idle() -> None:
            answers["idle"].append(await send_nothing(service.url))

        async def operator() -> None:
            async with httpx.AsyncClient(base_url=service.url, timeout=30.0) as http:
                for _ in range(5):
                    health = await http.get("/health")
                    listing = await http.get(
                        "/api/requests", headers={"Authorization": f"Bearer {API_TOKEN}"}
                    )
                    assert (health.status_code, listing.status_code) == (200, 200)
                    served_during_flood.append(flooding["slow"] > 0)

        with trio.fail_after(flood_body_timeout_s + KEEP_ALIVE_S + 30):
            async with trio.open_nursery() as nursery:
                for _ in range(100):
                    nursery.start_soon(slow, "signed", WEBHOOK_TOKEN)
                    nursery.start_soon(slow, "unsigned", None)
                    nursery.start_soon(idle)
                await trio.sleep(0.5)  # let the flood take every general slot first
                nursery.start_soon(operator)

        assert served_during_flood == [True] * 5, "the operator must be served during the flood"
        assert all(a.closed_by_server for group in answers.values() for a in group)
        signed = sorted(a.status for a in answers["signed"] if a.status is not None)
        assert set(signed) == {408, 503}, "over the cap, webhooks are told to come back"
        # A 408 goes out ST_BODY_TIMEOUT_S after its request took a slot: slots freed by
        # quick answers let later webhooks in, but never more than the cap at once.
        held = 0.9 * flood_body_timeout_s
        at_once = max(sum(end - held <= t <= end for t in timed_out_at) for end in timed_out_at)
        assert at_once <= 40, "no more requests in progress than the cap"
        assert {a.status for a in answers["unsigned"]} <= {401, 503}
        assert all(a.after_s < flood_body_timeout_s for a in answers["unsigned"]), (
            "a request without the secret is answered without waiting for its body"
        )
        assert all(a.status is None for a in answers["idle"])
        for answer in [*answers["signed"], *answers["unsigned"]]:
            assert "error" in answer.json()


async def test_a_keep_alive_connection_left_idle_after_an_answer_is_closed(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url, keep_alive_s=KEEP_ALIVE_S) as service:
        with trio.fail_after(KEEP_ALIVE_S + 30):  # a connection held open forever fails here
            answer = await send_nothing(service.url, head("GET", "/health", {"Host": "status"}))
    assert answer.status == 200
    assert answer.json()["status"] == "ok"
    assert answer.closed_by_server
    assert answer.after_s >= KEEP_ALIVE_S, "an idle connection gets its keep-alive time"


async def test_a_webhook_sent_on_a_connection_idle_for_a_while_is_answered_and_kept(
    service: RunningService,
) -> None:
    # Sonarr and Radarr (.NET) reuse a pooled connection for up to 60 s and do not send a
    # webhook again when the server closed that connection under it; 8 s is past the 5 s
    # most servers (and this one, once) keep an idle connection.
    stream = await trio.open_tcp_stream(*address(service.url))
    async with stream:
        statuses = []
        for fixture in ("radarr/grab.json", "radarr/download.json"):
            if statuses:
                await trio.sleep(IDLE_BETWEEN_WEBHOOKS_S)
            statuses.append(await exchange(stream, webhook_request(fixture)))
    assert statuses == [200, 200]
    assert (await service.system.store.mail_counts())["webhooks"] == 2


async def test_an_early_401_on_a_large_body_closes_cleanly_and_the_next_request_works(
    service: RunningService,
) -> None:
    with trio.fail_after(10):
        answer = await send_slowly(
            service.url, webhook_head(8 * ONE_MIB, None), piece=b" " * 65536, every_s=0
        )
    assert answer.status == 401
    assert answer.headers["connection"] == "close"
    assert "secret" in answer.json()["error"]
    assert answer.closed_by_server
    response = await service.post_fixture("radarr/grab.json")
    assert response.json() == {"accepted": True, "duplicate": False}


async def test_an_early_413_on_a_large_body_closes_cleanly_and_the_next_request_works(
    service: RunningService,
) -> None:
    with trio.fail_after(10):
        answer = await send_slowly(
            service.url, webhook_head(8 * ONE_MIB, WEBHOOK_TOKEN), piece=b" " * 65536, every_s=0
        )
    assert answer.status == 413
    assert answer.headers["connection"] == "close"
    assert answer.json() == {"error": f"body over {ONE_MIB} bytes"}
    response = await service.post_fixture("radarr/grab.json")
    assert response.json() == {"accepted": True, "duplicate": False}


async def test_httpx_sees_the_early_answers_and_then_carries_on(service: RunningService) -> None:
    large = b"x" * (4 * ONE_MIB)
    refused = await service.post_webhook("radarr", large, token=None)
    assert (refused.status_code, refused.headers["connection"]) == (401, "close")
    too_large = await service.post_webhook("radarr", large)
    assert (too_large.status_code, too_large.headers["connection"]) == (413, "close")
    accepted = await service.post_fixture("radarr/grab.json")
    assert accepted.status_code == 200
