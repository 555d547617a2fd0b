"""The page over time and at scale: reconnecting to the feed, a 1,100-episode series, and more
active requests than the feed's snapshot holds."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import WebSocketRoute, expect
from status_tracker.ingress.http import feed
from status_tracker.storage import SaveRequest

from status_tracker.domain import RequestRow
from tests.browser.harness import PHONE, LiveService, Pages
from tests.support.fixtures import load_fixture

BIG_HASH = "0123456789abcdef0123456789abcdef01234567"


def test_the_page_reconnects_and_catches_up_on_what_it_missed(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.open()
    sockets: list[WebSocketRoute] = []

    def through(socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/ws$"), through)
    page.goto(f"{live.url}/?token=test-api-secret")
    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "live")
    card = page.locator(".card")
    expect(card).to_have_attribute("data-state", "approved")

    sockets[0].close()
    expect(status).to_have_attribute("data-state", "offline")
    expect(status).to_contain_text("retrying in")
    live.post_fixture("radarr/grab.json")
    live.settled()
    # A new connection, a new snapshot: the change made while away is there.
    expect(status).to_have_attribute("data-state", "live")
    expect(card).to_have_attribute("data-state", "grabbing")
    assert len(sockets) == 2


def big_series_grab() -> dict[str, Any]:
    """A Sonarr grab of 11 seasons of 100 episodes each, in one download."""
    body = load_fixture("sonarr/grab_season_pack.json")
    body["series"].update(id=999, title="Endless Anime", tvdbId=999999, tmdbId=999998, year=1999)
    body["series"]["titleSlug"] = "endless-anime"
    body["episodes"] = [
        {
            "id": season * 1000 + number,
            "episodeNumber": number,
            "seasonNumber": season,
            "title": f"Episode {number}",
            "seriesId": 999,
            "tvdbId": 5_000_000 + season * 1000 + number,
        }
        for season in range(1, 12)
        for number in range(1, 101)
    ]
    body["release"]["releaseTitle"] = "Endless.Anime.S01-S11.1080p.WEB-DL-GROUP"
    body["downloadId"] = BIG_HASH.upper()
    return body


def test_a_series_of_1100_episodes_stays_usable(live: LiveService, pages: Pages) -> None:
    live.post_webhook("sonarr", big_series_grab())
    live.settled()
    (item,) = live.requests()
    assert sum(item["episode_counts"].values()) == 1100
    page = pages.signed_in(viewport=PHONE)

    started = time.monotonic()
    page.locator(".card .open").click()
    dialog = page.get_by_role("dialog", name=re.compile("Endless Anime"))
    seasons = dialog.locator("details.season")
    expect(seasons).to_have_count(11)
    expect(seasons.first.locator(".ep")).to_have_count(100)
    opened = time.monotonic() - started
    # Only the first season still in progress starts open; the others cost nothing yet.
    expect(dialog.locator(".ep")).to_have_count(100)
    expect(seasons.nth(4)).to_contain_text("100 episodes · 0/100 available · 100 starting download")
    seasons.nth(4).locator("summary").click()
    expect(dialog.locator(".ep")).to_have_count(200)
    expect(seasons.nth(4).get_by_role("progressbar", name="S05E100 progress")).to_be_attached()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1]
    pages.screenshot(page, "1100-episodes")
    print(f"detail of 1,100 episodes open in {opened:.2f} s")


def test_active_requests_left_out_of_the_snapshot_are_listed_too(
    live: LiveService, pages: Pages, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feed, "ACTIVE_IN_SNAPSHOT", 2)
    # Five waiting requests older than the 500 finished ones the page loads first: three of
    # them are neither in that page nor in the snapshot.
    rows = [
        RequestRow(id=n, media_type="movie", title=f"Waiting {n}", state="approved", created_at=n)
        for n in range(1, 6)
    ] + [
        RequestRow(id=n, media_type="movie", title=f"Done {n}", state="available", created_at=n)
        for n in range(6, 506)
    ]
    live.run(live.running.system.store.commit, [SaveRequest(row=row) for row in rows])
    page = pages.signed_in()
    page.get_by_role("group", name="Show requests").get_by_role("button", name="Waiting").click()
    expect(page.locator(".card .title-text")).to_have_text(
        [f"Waiting {n}" for n in range(5, 0, -1)]
    )
