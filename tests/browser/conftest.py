"""Fixtures of the page tests: Chromium (one per session), the service, browser pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.harness import LiveService, Pages, chromium, live_service


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    # Per module, not per session: while Playwright's sync API runs, its asyncio loop is the
    # main thread's, and later asyncpg tests there got "attached to a different loop".
    with chromium() as launched:
        yield launched


@pytest.fixture
def live(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[LiveService]:
    """The service; parametrize it indirectly with ``live_service``'s options (a URL base,
    ``sonarr=True``, any setting such as ``view_token``) to run the test with them."""
    options = getattr(request, "param", {})
    with live_service(f"sqlite:///{tmp_path / 'status-tracker.db'}", **options) as running:
        yield running


@pytest.fixture
def pages(browser: object, live: LiveService, request: pytest.FixtureRequest) -> Iterator[Pages]:
    opened = Pages(browser, live, request.node.name)  # type: ignore[arg-type]
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.errors, f"the page raised: {opened.errors}"
