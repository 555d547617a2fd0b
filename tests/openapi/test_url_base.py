"""``ST_URL_BASE``: the setting, and everything of the service below the base, nothing else."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import trio
from trio_websocket import ConnectionRejected, open_websocket_url

from status_tracker.config import Config, ConfigError
from tests.support.service import API_TOKEN, RunningService, started_service

API = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize(
    ("raw", "base"),
    [("", ""), ("/", ""), ("/tracker", "/tracker"), ("/tracker/", "/tracker"),
     (" /media/status-tracker ", "/media/status-tracker"), ("/a.b~c_d-1", "/a.b~c_d-1")],
)  # fmt: skip
def test_the_url_base_is_a_path_without_its_trailing_slash(raw: str, base: str) -> None:
    assert Config.from_env({"ST_URL_BASE": raw}).url_base == base


@pytest.mark.parametrize("raw", ["tracker", "/a//b", "/a/../b", "/a b", "/x?y", "/é", "//host"])
def test_a_url_base_that_is_not_a_plain_path_is_refused(raw: str) -> None:
    with pytest.raises(ConfigError, match=r"^ST_URL_BASE must"):
        Config.from_env({"ST_URL_BASE": raw})


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[RunningService]:
    url = f"sqlite:///{tmp_path / 'status-tracker.db'}"
    async with started_service(url, url_base="/tracker") as running:
        yield running


async def test_everything_is_under_the_base_and_nothing_outside(service: RunningService) -> None:
    http = service.http
    assert (await http.get("/tracker/health")).status_code == 200
    assert (await http.get("/tracker/openapi.json")).json()["servers"][0]["url"] == "/tracker"
    assert (await http.get("/tracker/api/requests", headers=API)).status_code == 200
    assert (await http.get("/tracker/static/app.js")).status_code == 200
    page = await http.get("/tracker/")
    assert '<base href="/tracker/">' in page.text
    assert 'action="/tracker/login"' in page.text
    for method, path in [
        ("GET", "/health"),
        ("GET", "/"),
        ("GET", "/api/requests"),
        ("POST", "/webhooks/sonarr"),
        ("GET", "/trackerx/health"),
        ("GET", "/static/app.js"),
        ("POST", "/tracker"),
    ]:
        answer = await http.request(method, path, headers=API)
        assert answer.status_code == 404, (method, path)
        assert answer.json() == {"error": "no such endpoint: the service is under /tracker/"}
    moved = await http.get("/tracker?token=x")
    assert moved.status_code == 308
    assert moved.headers["Location"] == "/tracker/?token=x"


async def test_the_live_feed_is_under_the_base(service: RunningService) -> None:
    ws = service.url.replace("http://", "ws://")
    with trio.fail_after(10):
        async with open_websocket_url(f"{ws}/tracker/ws?token={API_TOKEN}") as socket:
            assert json.loads(await socket.get_message())["type"] == "snapshot"
    with pytest.raises(ConnectionRejected) as caught, trio.fail_after(10):
        async with open_websocket_url(f"{ws}/ws?token={API_TOKEN}"):
            pass
    assert caught.value.status_code == 404
    assert json.loads(caught.value.body) == {
        "error": "no such endpoint: the service is under /tracker/"
    }


async def test_the_session_cookie_is_scoped_to_the_base(service: RunningService) -> None:
    signed_in = await service.http.get(f"/tracker/?token={API_TOKEN}")
    assert signed_in.status_code == 303
    assert signed_in.headers["Location"] == "/tracker/"
    assert "Path=/tracker;" in signed_in.headers["Set-Cookie"]
    out = await service.http.post("/tracker/logout")
    assert out.status_code == 303
    assert out.headers["Location"] == "/tracker/"
    assert "Path=/tracker;" in out.headers["Set-Cookie"]
