"""The page over time and at scale: reconnecting to the feed, a 1,100-episode series, and more
active requests than the feed's snapshot holds."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Page, WebSocketRoute, expect
from status_tracker.ingress.http import feed
from status_tracker.storage import SaveRequest

from status_tracker.domain import RequestRow
from tests.browser.harness import HORIMIYA_HASH, PHONE, LiveService, Pages
from tests.support.fixtures import load_fixture
from tests.support.packs import horimiya_files
from tests.support.service import API_TOKEN

BIG_HASH = "0123456789abcdef0123456789abcdef01234567"


def relayed_feed(page: Page) -> tuple[list[WebSocketRoute], dict[str, bool]]:
    """The page's ``/ws`` connections, as they are made, each passed on to the service unless
    ``refused["now"]`` is set (then closed with 1011, as a service going away would)."""
    sockets: list[WebSocketRoute] = []
    refused = {"now": False}

    def through(socket: WebSocketRoute) -> None:
        sockets.append(socket)
        if refused["now"]:
            socket.close(code=1011)
        else:
            socket.connect_to_server()

    page.route_web_socket(re.compile(r"/ws$"), through)
    return sockets, refused


def test_the_page_reconnects_and_catches_up_on_what_it_missed(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.open()
    sockets, _ = relayed_feed(page)
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


# Nothing listens there: the reasons are qBittorrent's (not "qBittorrent is not configured").
@pytest.mark.parametrize("live", [{"qbittorrent_url": "http://127.0.0.1:1"}], indirect=True)
def test_a_reason_that_says_for_how_long_stays_true_on_an_open_page(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_approved_tv.json")
    live.post_fixture("sonarr/grab_season_pack.json")
    live.settled()
    live.stall(
        HORIMIYA_HASH,
        progress=0.4,
        files=horimiya_files({n: 0.03 * n for n in range(1, 14)}),
        seeds=0,
    )
    (item,) = live.requests()
    assert item["reason"].startswith("no seeds for 1 min"), item["reason"]
    page = pages.open()
    page.clock.install()  # the page's timers, to let half a minute pass at once
    page.goto(f"{live.url}/?token={API_TOKEN}")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    card = page.locator(".card")
    expect(card.locator(".reason")).to_have_text(item["reason"])
    card.locator(".open").click()
    dialog = page.get_by_role("dialog", name="Horimiya (2021)")
    expect(dialog.locator(".detail-inner > .reason")).to_have_text(item["reason"])

    # Two minutes on, with nothing new to send: the feed stays quiet, the words grow.
    live.clock_moves_on(120)
    later = live.request(item["id"])
    assert later["reason"].startswith("no seeds for 3 min"), later["reason"]
    (download,) = later["downloads"]
    page.clock.run_for(31_000)
    expect(card.locator(".reason")).to_have_text(later["reason"])
    expect(dialog.locator(".detail-inner > .reason")).to_have_text(later["reason"])
    expect(dialog.locator(".download .reason")).to_have_text(download["reason"])
    episode = next(e for e in later["episodes"] if e["episode"] == 4)
    assert episode["reason"]
    expect(dialog.locator(".ep", has_text="S01E04")).to_contain_text(episode["reason"])


def test_a_lost_connection_is_told_in_the_open_detail_and_counts_down(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.open()
    sockets, refused = relayed_feed(page)
    page.goto(f"{live.url}/?token={API_TOKEN}")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    page.locator(".card .open").click()
    dialog = page.get_by_role("dialog", name=re.compile("Violet Evergarden"))
    notice = dialog.get_by_role("status")
    expect(notice).to_be_hidden()

    refused["now"] = True
    sockets[0].close()
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Connection lost")
    # The wait grows at each refused try; once it is 3 s or more, it counts down.
    seen = re.compile(r"retrying in (\d+) s")
    deadline = time.monotonic() + 20
    while True:
        assert time.monotonic() < deadline, "the wait never reached 3 s"
        found = seen.search(notice.text_content() or "")
        if found and int(found[1]) >= 3:
            break
        page.wait_for_timeout(50)
    expect(notice).to_have_text(f"Connection lost, retrying in {int(found[1]) - 1} s")
    expect(page.locator("#live-status")).to_contain_text("Connection lost, retrying in")

    refused["now"] = False
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(notice).to_be_hidden()
