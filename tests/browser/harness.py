"""The service in a Trio thread of its own, and Chromium driven by Playwright, for page tests.

Playwright's Python API is synchronous (or asyncio) and the service is Trio, so the service
runs its own Trio loop on a background thread, started by ``tests/support/service.py``'s
``started_service`` exactly as the end-to-end tests start it; a test reaches into it through
``LiveService.run``. Debian's Chromium is used (browsers cannot be downloaded here).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import queue
import re
import shutil
import threading
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio
import trio_asyncio
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.torrent.messages import ObservedFile, TorrentObserved

from tests.support.ci import require_or_skip
from tests.support.fake_sonarr import FakeSonarr, open_fake_sonarr
from tests.support.service import API_TOKEN, RunningService, started_service

if typing.TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 860}
STARTUP_S = 60.0

HORIMIYA_HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
VIEW_TOKEN = "test-view-secret"
SONARR_KEY = "sonarr-test-key"


def assert_no_sideways_scroll(page: Page) -> None:
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"


def assert_fits_the_phone(page: Page, dialog: Locator) -> None:
    """Neither the page nor the open ``dialog`` scrolls sideways on a phone (``PHONE``)."""
    assert_no_sideways_scroll(page)
    box = dialog.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["width"] <= PHONE["width"]
    sizes = dialog.evaluate("(el) => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] <= sizes[1], f"the dialog is {sizes[0]} px wide in {sizes[1]} px"


@typing.final
@attrs.frozen
class LiveService:
    """The running service, seen from the test's thread."""

    running: RunningService
    token: trio.lowlevel.TrioToken
    stop: trio.Event
    sonarr: FakeSonarr | None = None
    """The fake Sonarr the service talks to, when started with ``sonarr=True``."""

    @property
    def url(self) -> str:
        return self.running.url

    def run(self, function: Callable[..., typing.Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        """Run ``function`` in the service's Trio loop and return what it returned."""
        return trio.from_thread.run(
            functools.partial(function, *args, **kwargs), trio_token=self.token
        )

    def post_fixture(self, relative_path: str, **replace: Any) -> None:
        self.run(self.running.post_fixture, relative_path, **replace)

    def post_webhook(self, source: str, body: object) -> None:
        response = self.run(self.running.post_webhook, source, body)
        assert response.status_code == 200, response.text

    def clock_moves_on(self, seconds: float) -> None:
        """The service's wall clock jumps ``seconds`` ahead, as if that much time had passed
        with nothing happening (what it words as "for 3 min" grows; no message is sent)."""
        clock = self.running.system.clock
        clock._epoch += seconds

    def stall(self, torrent_hash: str, *, progress: float, **observed: Any) -> None:
        """qBittorrent reports the torrent stalled (``stalledDL``), and still does a minute
        later with no progress: the download reads ``stalled`` (a stall of a moment does not)."""
        for moved_on in (61, 0):
            self.observe_torrent(
                torrent_hash,
                progress=progress,
                state="stalled",
                client_state="stalledDL",
                **observed,
            )
            self.clock_moves_on(moved_on)

    def settled(self) -> None:
        self.run(self.running.settled)

    def horimiya_with_its_season_pack(self) -> dict[str, Any]:
        """Horimiya requested and its season pack grabbed: the one request there is."""
        self.post_fixture("jellyseerr/media_approved_tv.json")
        self.post_fixture("sonarr/grab_season_pack.json")
        self.settled()
        (item,) = self.requests()
        return item

    def requests(self, **params: Any) -> list[dict[str, Any]]:
        return self.run(self.running.requests, **params)

    def request(self, request_id: int) -> dict[str, Any]:
        return self.run(self.running.request, request_id)

    def observe_torrent(
        self,
        torrent_hash: str,
        *,
        progress: float,
        state: str = "downloading",
        client_state: str = "downloading",
        name: str | None = None,
        files: tuple[ObservedFile, ...] | None = None,
        **more: Any,
    ) -> None:
        """What the qBittorrent poller delivers to the torrent's actor; returns once applied.
        ``more``: further fields of ``TorrentObserved`` (``seeds``, ``peers``, ``speed``...)."""
        seen = TorrentObserved(
            hash=torrent_hash.lower(),
            name=name,
            state=state,
            client_state=client_state,
            progress=progress,
            files=files,
            **more,
        )
        self.run(
            self.running.system.call_torrent,
            torrent_hash.lower(),
            Deliver(messages=(seen,), source="qbittorrent"),
        )
        self.settled()


@contextlib.contextmanager
def live_service(
    database_url: str, *, sonarr: bool = False, **overrides: Any
) -> Iterator[LiveService]:
    """The whole service on a free loopback port, in a Trio loop on its own thread; its
    ``url`` includes the URL base when ``url_base`` is given. With ``sonarr``, a fake Sonarr
    is started first (in the same loop) and the service is configured with it."""
    handed: queue.Queue[LiveService | BaseException] = queue.Queue()
    failures: list[BaseException] = []

    async def serve() -> None:
        async with trio_asyncio.open_loop(), contextlib.AsyncExitStack() as stack:
            fake = await stack.enter_async_context(open_fake_sonarr(SONARR_KEY)) if sonarr else None
            if fake is not None:
                overrides.update(sonarr_url=fake.url, sonarr_api_key=SONARR_KEY)
            running = await stack.enter_async_context(started_service(database_url, **overrides))
            # Under a URL base (ST_URL_BASE) the service, and so every helper, is below it.
            url = running.url + running.system.config.url_base
            http = await stack.enter_async_context(httpx.AsyncClient(base_url=url, timeout=10.0))
            under_base = RunningService(system=running.system, http=http, url=url)
            stop = trio.Event()
            handed.put(LiveService(under_base, trio.lowlevel.current_trio_token(), stop, fake))
            await stop.wait()

    def thread_main() -> None:
        try:
            trio.run(serve)
        except BaseException as exc:
            failures.append(exc)
            handed.put(exc)

    thread = threading.Thread(target=thread_main, name="status-tracker", daemon=True)
    thread.start()
    started = handed.get(timeout=STARTUP_S)
    if isinstance(started, BaseException):
        raise started
    try:
        yield started
    finally:
        trio.from_thread.run_sync(started.stop.set, trio_token=started.token)
        thread.join(timeout=STARTUP_S)
        if failures:
            raise failures[0]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        require_or_skip("chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium under Playwright (never a downloaded browser)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require_or_skip("playwright is not installed (pip install -e '.[test]')")
        raise
    executable = chromium_path()
    # Importing trio_asyncio makes its policy the process's default, and Playwright would get
    # a trio-asyncio loop from asyncio.new_event_loop(): it gets a plain asyncio loop instead.
    policy = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    try:
        manager = sync_playwright()
        playwright = manager.start()
    finally:
        asyncio.set_event_loop_policy(policy)
    try:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
    finally:
        manager.__exit__(None, None, None)


@typing.final
class Pages:
    """Opens browser pages for one test; keeps the requests that left the machine and the
    page's uncaught errors, and saves a screenshot of every page when the test ends."""

    def __init__(self, browser: Browser, live: LiveService, test_name: str) -> None:
        self.browser = browser
        self.live = live
        self.test_name = re.sub(r"[^A-Za-z0-9_.-]+", "-", test_name)
        self.contexts: list[BrowserContext] = []
        self.pages: list[Page] = []
        self.external: list[str] = []
        self.errors: list[str] = []

    def open(self, **context: Any) -> Page:
        options: dict[str, Any] = {"viewport": DESKTOP, "locale": "en-GB", **context}
        browser_context = self.browser.new_context(**options)
        # Nothing leaves the machine in a test; posters (the only outside URLs) are refused.
        browser_context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), self._refuse)
        self.contexts.append(browser_context)
        page = browser_context.new_page()
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.pages.append(page)
        return page

    def signed_in(self, token: str = API_TOKEN, **context: Any) -> Page:
        """A page on the board, signed in with ``/?token=`` and connected to the live feed."""
        from playwright.sync_api import expect

        page = self.open(**context)
        page.goto(f"{self.live.url}/?token={token}")
        expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
        return page

    def _refuse(self, route: Any) -> None:
        self.external.append(route.request.url)
        route.abort()

    def screenshot(self, page: Page, label: str = "") -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        suffix = f"-{label}" if label else ""
        path = SCREENSHOTS / f"{self.test_name}{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        for index, page in enumerate(self.pages):
            if not page.is_closed():
                with contextlib.suppress(Exception):
                    self.screenshot(page, "end" if index == 0 else f"end-{index + 1}")
        for browser_context in self.contexts:
            browser_context.close()
