"""Real answers of the running service, a movie and a TV flow and the errors, validated with
``jsonschema`` against the OpenAPI document the service itself serves; with and without a URL
base (``ST_URL_BASE``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from status_tracker.ingress.http import create_app, webhooks
from status_tracker.ingress.http.openapi import document

from tests.openapi.contract import FLOWS, METHODS, Contract, fixture_body, seed
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN, RunningService, started_service

API = {"Authorization": f"Bearer {API_TOKEN}"}
WEBHOOK = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}


@pytest.fixture(params=["", "/tracker"], ids=["root", "url-base"])
async def service(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningService]:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    async with started_service(url, url_base=request.param, body_timeout_s=0.5) as running:
        yield running


def test_the_document_is_openapi_3_1_with_valid_json_schemas() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)  # raises naming the problem
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            assert method in METHODS, (path, method)
            assert operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                assert status.isdigit(), (path, method, status)
                assert "description" in response, (path, method, status)
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    json.dumps(doc)  # plain JSON


async def test_every_route_is_documented_and_every_documented_path_exists(
    service: RunningService,
) -> None:
    app = create_app(service.system)
    routes = {(webhooks.ROUTE, "post")}  # answered in front of the app, as plain ASGI
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":  # Quart's own, for a folder we do not have: never served
            continue
        path = rule.rule.replace("<raw_id>", "{id}").replace("<", "{").replace(">", "}")
        methods = {"get"} if rule.websocket else {m.lower() for m in rule.methods or ()}
        routes |= {(path, m) for m in methods - {"head", "options"}}
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert routes == documented


async def test_the_service_serves_its_document_under_its_base(service: RunningService) -> None:
    base = service.system.config.url_base
    response = await service.http.get(f"{base}/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served == document(base)
    assert served["servers"] == [
        {"url": base or "/", "description": "the service, under ST_URL_BASE if set"}
    ]
    Contract(served).check("GET", "/openapi.json", response)


async def test_real_answers_match_the_document(service: RunningService) -> None:
    base = service.system.config.url_base
    contract = Contract((await service.http.get(f"{base}/openapi.json")).json())
    http = service.http

    async def call(
        method: str, template: str, path: str | None = None, **kwargs: Any
    ) -> tuple[httpx.Response, Any]:
        response = await http.request(method, base + (path or template), **kwargs)
        return response, contract.check(method, template, response)

    # The flows, through the webhooks, and their reads.
    async def post(source: str, body: dict[str, Any]) -> None:
        _, accepted = await call(
            "POST", "/webhooks/{source}", f"/webhooks/{source}", json=body, headers=WEBHOOK
        )
        assert accepted == {"accepted": True, "duplicate": False}

    await seed(service, post)
    _, again = await call(
        "POST", "/webhooks/{source}", "/webhooks/radarr",
        json=fixture_body(FLOWS[1][0], **FLOWS[1][1])[1], headers=WEBHOOK,
    )  # fmt: skip
    assert again["duplicate"] is True

    _, page = await call("GET", "/api/requests", headers=API)
    assert {item["media_type"] for item in page["items"]} == {"movie", "tv"}
    for item in page["items"]:
        _, detail = await call(
            "GET", "/api/requests/{id}", f"/api/requests/{item['id']}", headers=API
        )
        assert detail["timeline"]
    tv = next(item for item in page["items"] if item["media_type"] == "tv")
    _, tv_detail = await call("GET", "/api/requests/{id}", f"/api/requests/{tv['id']}", headers=API)
    assert tv_detail["downloads"]
    assert any(e["state"] == "downloaded" for e in tv_detail["episodes"])
    await call("GET", "/api/requests", params={"state": "downloading,available"}, headers=API)
    await call("GET", "/api/requests", params={"media_type": "tv", "q": "hori"}, headers=API)
    await call("GET", "/api/requests", params={"limit": "1", "offset": "1"}, headers=API)
    _, letters = await call("GET", "/api/dead-letters", headers=API)
    assert len(letters["items"]) == 2
    with_body, without_body = sorted(letters["items"], key=lambda d: d["body"] is None)
    _, health = await call("GET", "/health")
    assert health["status"] in ("ok", "degraded")
    await call("GET", "/ws")  # not a websocket handshake: 400
    await call("GET", "/")
    page_response, _ = await call("GET", "/static/{name}", "/static/app.js")
    await call(
        "GET", "/static/{name}", "/static/app.js",
        headers={"If-None-Match": page_response.headers["ETag"]},
    )  # fmt: skip
    await call("GET", "/static/{name}", "/static/nope.js")

    # Errors.
    await call("POST", "/webhooks/{source}", "/webhooks/sonarr", content=b"{}")  # 401
    await call("POST", "/webhooks/{source}", "/webhooks/plex", content=b"{}", headers=WEBHOOK)
    await call("POST", "/webhooks/{source}", "/webhooks/sonarr", content=b"{", headers=WEBHOOK)
    await call(
        "POST", "/webhooks/{source}", "/webhooks/sonarr",
        content=b" " * (1024 * 1024 + 1), headers=WEBHOOK,
    )  # fmt: skip
    await call("GET", "/api/requests")  # 401
    await call("GET", "/api/requests", params={"limit": "0"}, headers=API)
    await call("GET", "/api/requests", params={"media_type": "book"}, headers=API)
    await call("GET", "/api/requests", params={"state": "lost"}, headers=API)
    await call("GET", "/api/requests/{id}", "/api/requests/99999", headers=API)
    await call("GET", "/api/requests/{id}", "/api/requests/x", headers=API)
    await call("GET", "/api/dead-letters", params={"offset": "-1"}, headers=API)
    await call("GET", "/api/dead-letters")
    await call(
        "DELETE", "/api/requests/{id}/episodes", f"/api/requests/{tv['id']}/episodes",
        json={"episodes": [{"season": 9, "episode": 9}]}, headers=API,
    )  # fmt: skip
    await call(
        "DELETE", "/api/requests/{id}/episodes", f"/api/requests/{tv['id']}/episodes",
        json={"episodes": []}, headers=API,
    )  # fmt: skip
    await call(
        "DELETE", "/api/requests/{id}/episodes", "/api/requests/99999/episodes",
        json={"episodes": [{"season": 1, "episode": 1}]}, headers=API,
    )  # fmt: skip
    await call(
        "POST",
        "/api/dead-letters/{id}/retry",
        f"/api/dead-letters/{without_body['id']}/retry",
        headers=API,
    )  # fmt: skip  (409: no body)
    await call("POST", "/api/dead-letters/{id}/retry", "/api/dead-letters/777/retry", headers=API)
    await call("DELETE", "/api/dead-letters/{id}", "/api/dead-letters/777", headers=API)
    await call("POST", "/login", content=b"token=wrong",
               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    await call(
        "POST", "/login", content=b"token=wrong",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
    )  # fmt: skip
    await call("POST", "/login", content=b"x" * 5000)  # 413
    await _slow_body(service, contract, base)  # 408

    # What changes things, last.
    await call(
        "DELETE", "/api/requests/{id}/episodes", f"/api/requests/{tv['id']}/episodes",
        json={"episodes": [{"season": 1, "episode": 1}]}, headers=API,
    )  # fmt: skip
    await call(
        "POST", "/api/dead-letters/{id}/retry", f"/api/dead-letters/{with_body['id']}/retry",
        headers=API,
    )  # fmt: skip
    await call(
        "DELETE", "/api/dead-letters/{id}", f"/api/dead-letters/{without_body['id']}", headers=API
    )
    movie = next(item for item in page["items"] if item["media_type"] == "movie")
    await call("DELETE", "/api/requests/{id}", f"/api/requests/{movie['id']}", headers=API)
    await service.settled()
    await call("DELETE", "/api/requests/{id}", f"/api/requests/{movie['id']}", headers=API)  # 409
    signed_in, _ = await call(
        "POST", "/login", content=f"token={API_TOKEN}".encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert signed_in.headers["Location"] == f"{base}/"
    assert f"Path={base or '/'};" in signed_in.headers["Set-Cookie"]
    await call("GET", "/", params={"token": API_TOKEN})  # 303
    await call("POST", "/logout")

    # Outside any operation: still the Error shape.
    contract.check_error(await http.put(f"{base}/api/requests"))
    contract.check_error(await http.get(f"{base}/no/such/thing"))
    if base:
        contract.check_error(await http.get("/health"))
        contract.check_error(await http.get("/api/requests", headers=API))

    statuses = {status for _, _, status in contract.seen}
    assert statuses >= {200, 202, 204, 303, 304, 400, 401, 404, 408, 409, 413}


async def _slow_body(service: RunningService, contract: Contract, base: str) -> None:
    """A body that does not arrive within ST_BODY_TIMEOUT_S (0.5 s here): 408."""
    import trio

    async def trickle() -> AsyncIterator[bytes]:
        yield b"{"
        await trio.sleep(2)
        yield b"}"

    response = await service.http.post(
        f"{base}/webhooks/radarr", content=trickle(), headers=WEBHOOK
    )
    contract.check("POST", "/webhooks/{source}", response)
    assert response.status_code == 408
