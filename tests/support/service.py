"""Running the whole service in-process on a free port, and waiting for what it should show."""

from __future__ import annotations

import contextlib
import json
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import httpx
import trio

from status_tracker.config import Config
from status_tracker.system import System, running_service

from .webhook_bodies import replaced, source_of

WEBHOOK_TOKEN = "test-webhook-secret"
API_TOKEN = "test-api-secret"
DEADLINE_S = 20.0


@typing.final
@attrs.frozen
class RunningService:
    """The service under test, an HTTP client pointed at it, and helpers a user would use."""

    system: System
    http: httpx.AsyncClient
    url: str

    async def post_webhook(
        self, source: str, body: object, *, token: str | None = WEBHOOK_TOKEN, **kwargs: Any
    ) -> httpx.Response:
        headers = {"Content-Type": "text/plain"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return await self.http.post(
            f"/webhooks/{source}", content=content, headers=headers, **kwargs
        )

    async def post_fixture(self, relative_path: str, **replace: Any) -> httpx.Response:
        body = replaced(relative_path, **replace)
        response = await self.post_webhook(source_of(relative_path), body)
        assert response.status_code == 200, response.text
        return response

    async def api(self, path: str, **params: Any) -> Any:
        response = await self.http.get(
            path, params=params, headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def requests(self, **params: Any) -> list[dict[str, Any]]:
        return (await self.api("/api/requests", **params))["items"]

    async def request(self, request_id: int) -> dict[str, Any]:
        return await self.api(f"/api/requests/{request_id}")

    async def settled(self) -> None:
        """Wait until every accepted webhook and hand-off has been applied."""
        await wait_until(self._inbox_empty, what="the inbox to drain")

    async def _inbox_empty(self) -> bool:
        return (await self.system.store.mail_counts())["pending"] == 0

    async def wait_for_request(
        self, predicate: Callable[[dict[str, Any]], bool], *, what: str
    ) -> dict[str, Any]:
        """Poll the API until a request matches ``predicate``; return it."""
        found: list[dict[str, Any]] = []

        async def check() -> bool:
            for item in await self.requests(limit=500):
                if predicate(item):
                    found.append(await self.request(item["id"]))
                    return True
            return False

        await wait_until(check, what=what)
        return found[0]


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    *,
    what: str,
    deadline: float = DEADLINE_S,
    every: float = 0.05,
) -> None:
    """Re-check ``condition`` every ``every`` seconds until it holds; fail naming ``what``
    after ``deadline`` seconds."""
    with trio.move_on_after(deadline):
        while True:
            if await condition():
                return
            await trio.sleep(every)
    raise AssertionError(f"timed out after {deadline} s waiting for {what}")


def config_for_tests(database_url: str, **overrides: Any) -> Config:
    settings: dict[str, Any] = {
        "database_url": database_url,
        "bind": "127.0.0.1:0",
        "webhook_token": WEBHOOK_TOKEN,
        "api_token": API_TOKEN,
    }
    settings.update(overrides)
    return Config(**settings)


@contextlib.asynccontextmanager
async def started_service(database_url: str, **overrides: Any) -> AsyncIterator[RunningService]:
    """The service with its HTTP server on a free loopback port."""
    async with running_service(config_for_tests(database_url, **overrides)) as system:
        url = system.urls[0]
        async with httpx.AsyncClient(base_url=url, timeout=10.0) as http:
            yield RunningService(system=system, http=http, url=url)
