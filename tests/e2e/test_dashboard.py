"""The dashboard in a real browser (Debian's headless Chromium): sign in, see requests live."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import trio

from tests.conftest import require_or_skip
from tests.support.service import API_TOKEN, RunningService

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@pytest.fixture
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        require_or_skip("chromium is not installed (apt-get install chromium)")
    assert path is not None
    return path


async def rendered_page(chromium: str, url: str, profile: Path) -> str:
    """The page's DOM after its scripts ran for a few seconds."""
    result = await trio.run_process(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--virtual-time-budget=4000",
            "--dump-dom",
            url,
        ],
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    return result.stdout.decode()


async def test_the_dashboard_shows_requests_after_signing_in_with_the_token(
    service: RunningService, chromium: str, tmp_path: Path
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json")
    await service.settled()
    page = await rendered_page(chromium, f"{service.url}/?token={API_TOKEN}", tmp_path / "profile")
    assert "Violet Evergarden: Recollections (2021)" in page
    assert "grabbing 0%" in page
    assert 'class="card"' in page


async def test_the_dashboard_asks_for_the_token_first(
    service: RunningService, chromium: str, tmp_path: Path
) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.settled()
    page = await rendered_page(chromium, f"{service.url}/", tmp_path / "profile")
    assert 'name="token"' in page
    assert "Violet Evergarden" not in page
