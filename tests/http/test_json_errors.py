"""Every error on every route is JSON with the right status, and shows no internals."""

from __future__ import annotations

import json

import pytest
import trio
from status_tracker.ingress.http import webhooks
from status_tracker.storage import DatabaseUnavailable, Store
from trio_websocket import ConnectionRejected, open_websocket_url

from tests.support.fixtures import load_fixture
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, RunningService, wait_until

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
WEBHOOK_AUTH = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


async def test_an_unknown_route_is_a_json_404(service: RunningService) -> None:
    response = await service.http.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"error": "no such endpoint: GET /no/such/page"}


async def test_a_wrong_method_is_a_json_405_listing_the_allowed_ones(
    service: RunningService,
) -> None:
    response = await service.http.put("/api/requests", headers=AUTH)
    assert response.status_code == 405
    assert response.json() == {"error": "PUT is not allowed on /api/requests"}
    assert "GET" in response.headers["Allow"]


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_a_webhook_path_asked_with_another_method_is_a_json_405(
    service: RunningService, method: str
) -> None:
    response = await service.http.request(method, "/webhooks/radarr")
    assert response.status_code == 405
    assert response.json() == {"error": f"{method} is not allowed on /webhooks/radarr"}
    assert response.headers["Allow"] == "POST"


@pytest.mark.parametrize("path", ["/webhooks/", "/webhooks/radarr/extra"])
async def test_a_webhook_to_no_source_is_a_json_404_and_stores_nothing(
    service: RunningService, path: str
) -> None:
    response = await service.http.post(path, json={}, headers=WEBHOOK_AUTH)
    assert response.status_code == 404
    assert "unknown webhook source" in response.json()["error"]
    assert (await service.system.store.mail_counts())["webhooks"] == 0


async def test_a_failure_inside_a_route_is_a_json_500_without_internals(
    service: RunningService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: object) -> None:
        raise RuntimeError("secret detail of the failure")

    monkeypatch.setattr(service.system.store, "describe_page", broken)
    response = await service.http.get("/api/requests", headers=AUTH)
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": "internal error; the service log has the details"}
    assert "secret detail of the failure" in caplog.text, "the log keeps the traceback"
    assert (await service.http.get("/health")).status_code == 200


async def test_an_unreachable_database_is_a_503_with_retry_after(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*_args: object) -> None:
        raise DatabaseUnavailable("connection refused")

    monkeypatch.setattr(service.system.store, "load_request", down)
    response = await service.http.get("/api/requests/1", headers=AUTH)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "database" in response.json()["error"]


async def test_a_webhook_during_an_outage_is_a_503_at_once_and_stores_nothing(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Store, "available", property(lambda _store: False))
    with trio.fail_after(2):
        response = await service.post_webhook("radarr", {"eventType": "Test"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    monkeypatch.undo()
    assert (await service.system.store.mail_counts())["webhooks"] == 0


async def test_a_webhook_whose_write_is_not_confirmed_in_time_is_a_503(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def stuck(**_fields: object) -> None:
        await trio.sleep_forever()

    monkeypatch.setattr(webhooks, "DURABLE_WRITE_S", 0.2)
    monkeypatch.setattr(service.system.store, "accept_webhook", stuck)
    with trio.fail_after(5):
        response = await service.post_webhook("radarr", load_fixture("radarr/grab.json"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "retry" in response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/requests"),
        ("GET", "/api/requests/1"),
        ("DELETE", "/api/requests/1"),
        ("GET", "/api/dead-letters"),
        ("POST", "/api/dead-letters/1/retry"),
        ("DELETE", "/api/dead-letters/1"),
    ],
)
async def test_the_api_without_the_token_is_a_json_401(
    service: RunningService, method: str, path: str
) -> None:
    response = await service.http.request(method, path)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong API token"}


async def test_a_sign_in_body_over_the_limit_is_a_json_413(service: RunningService) -> None:
    response = await service.http.post("/login", data={"token": "x" * 10_000})
    assert response.status_code == 413
    assert "body over" in response.json()["error"]


async def test_answers_are_compact_utf8_json_with_the_title_as_sent(
    service: RunningService,
) -> None:
    approval = load_fixture("jellyseerr/media_auto_approved_movie.json")
    approval["subject"] = "Amélie — 天気の子 🎬 (2001)"
    sent = await service.http.post("/webhooks/jellyseerr", json=approval, headers=WEBHOOK_AUTH)
    assert sent.content == b'{"accepted":true,"duplicate":false}\n'

    async def listed() -> bool:
        return (await service.http.get("/api/requests", headers=AUTH)).json()["total"] == 1

    await wait_until(listed, what="the approval applied")
    response = await service.http.get("/api/requests", headers=AUTH)
    assert response.headers["content-type"] == "application/json"
    assert '"title":"Amélie — 天気の子 🎬"'.encode() in response.content
    assert response.content.endswith(b"}\n")
    assert response.json()["items"][0]["title"] == "Amélie — 天気の子 🎬"


async def test_a_cookie_that_is_not_utf8_is_no_session(service: RunningService) -> None:
    cookie = {"Cookie": b"st_session=\xff"}
    response = await service.http.get("/api/requests", headers=cookie)
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong API token"}
    response = await service.http.get("/api/requests", headers={**cookie, **AUTH})
    assert response.status_code == 200


async def test_a_webhook_with_too_many_query_fields_is_a_json_400_and_stores_nothing(
    service: RunningService,
) -> None:
    query = "&".join(["a=1"] * 101)
    response = await service.http.post(
        f"/webhooks/radarr?{query}", json={"eventType": "Test"}, headers=WEBHOOK_AUTH
    )
    assert response.status_code == 400
    assert response.json() == {"error": "the query string has more than 100 fields"}
    assert (await service.system.store.mail_counts())["webhooks"] == 0


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/wsx", 404, "no such endpoint: a websocket to /wsx"),
        ("/api/requests", 400, "/api/requests is no websocket endpoint"),
    ],
)
async def test_a_websocket_to_anything_but_the_feed_is_a_json_error(
    service: RunningService,
    caplog: pytest.LogCaptureFixture,
    path: str,
    status: int,
    message: str,
) -> None:
    url = service.url.replace("http://", "ws://") + f"{path}?token={API_TOKEN}"
    with pytest.raises(ConnectionRejected) as caught, trio.fail_after(10):
        async with open_websocket_url(url):
            pass
    assert caught.value.status_code == status
    assert json.loads(caught.value.body) == {"error": message}
    assert "Traceback" not in caplog.text


async def test_an_http_request_to_the_feed_says_it_takes_websockets(
    service: RunningService,
) -> None:
    response = await service.http.get("/ws", headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {"error": "/ws answers websockets only"}


async def test_a_doubled_slash_is_a_json_404_not_a_redirect_to_the_host_asked(
    service: RunningService,
) -> None:
    response = await service.http.get(
        "/api//requests", headers={**AUTH, "Host": "elsewhere.example"}
    )
    assert response.status_code == 404
    assert response.json() == {"error": "no such endpoint: GET /api//requests"}
    assert "location" not in response.headers
