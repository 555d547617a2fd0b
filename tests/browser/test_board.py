"""The dashboard in Chromium against the real service: signing in, the live board, filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from status_tracker.storage import SaveRequest

from status_tracker.domain import RequestRow
from tests.browser.harness import (
    HORIMIYA_HASH,
    PHONE,
    LiveService,
    Pages,
    assert_fits_the_phone,
    assert_no_sideways_scroll,
)
from tests.support.packs import horimiya_files
from tests.support.service import API_TOKEN

LIVE_S = 1_000  # ms: a change committed in the service is on the page within a second


def three_requests(live: LiveService) -> None:
    """A movie being grabbed (active), a series waiting for its grab, a failed movie."""
    live.post_fixture(
        "jellyseerr/media_auto_approved_movie.json",
        subject="Chainsaw Man - The Movie: Reze Arc (2025)",
        image="https://image.tmdb.org/t/p/w600_and_h900_bestv2/pZ4kL8qW2eR6tY0uI3oP7aS1dF5.jpg",
        media__tmdbId="1218925",
        request__request_id="74",
    )
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.post_fixture("radarr/grab.json")
    live.post_fixture("jellyseerr/media_approved_tv.json")
    live.post_fixture("jellyseerr/media_failed_movie.json")
    live.settled()


def card(page: Page, title: str) -> Locator:
    return page.locator(".card", has=page.locator(".title-text", has_text=title))


def titles(page: Page) -> list[str]:
    return page.locator(".card .title-text").all_text_contents()


UNDER_A_URL_BASE = pytest.mark.parametrize(
    "live", [{}, {"url_base": "/tracker"}], indirect=True, ids=["root", "url-base"]
)


@UNDER_A_URL_BASE
def test_signing_in_through_the_form_shows_the_board(live: LiveService, pages: Pages) -> None:
    three_requests(live)
    page = pages.open()
    # Under a URL base every page, script, API call and the live feed stay below it.
    local: list[str] = []
    page.on("request", lambda sent: local.append(sent.url))
    page.on("websocket", lambda socket: local.append(socket.url))
    page.goto(f"{live.url}/")
    page.get_by_label("API token").fill("not-the-token")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Wrong token.")).to_be_visible()

    page.get_by_label("API token").fill(API_TOKEN)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".card")).to_have_count(3)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(card(page, "Horimiya")).to_contain_text("Approved")
    expect(card(page, "Chainsaw Man")).to_contain_text("Failed")
    pages.screenshot(page, "board")
    # Nothing but the service itself is loaded: no CDN, no web fonts; posters are the
    # requests' own poster URLs (refused in tests).
    posters = {item["poster_url"] for item in live.requests() if item["poster_url"]}
    assert set(pages.external) <= posters

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API token")).to_be_visible()
    page.goto(f"{live.url}/")
    expect(page.get_by_label("API token")).to_be_visible()
    ours = [url for url in local if url.split("://", 1)[1].startswith("127.0.0.1")]
    ws_url = live.url.replace("http://", "ws://")
    assert {url.startswith((f"{live.url}/", f"{ws_url}/")) for url in ours} == {True}, ours
    assert f"{ws_url}/ws" in ours
    assert any("/static/app.js" in url for url in ours)
    assert any("/api/requests" in url for url in ours)


@UNDER_A_URL_BASE
def test_a_card_and_the_open_detail_follow_progress_within_a_second(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_approved_tv.json")
    live.post_fixture("sonarr/grab_season_pack.json")
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.signed_in()
    horimiya = card(page, "Horimiya")
    expect(horimiya.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    # Keyed updates: the posters already on the page must survive every change.
    page.evaluate(
        """() => {
          for (const img of document.querySelectorAll('.card img')) img.keep = true;
          window.addedImages = 0;
          new MutationObserver((records) => {
            for (const r of records) for (const n of r.addedNodes)
              if (n.nodeName === 'IMG' || n.querySelector?.('img')) window.addedImages += 1;
          }).observe(document.getElementById('requests'), {childList: true, subtree: true});
        }"""
    )
    horimiya.get_by_role("button", name=re.compile("Horimiya")).click()
    dialog = page.get_by_role("dialog", name="Horimiya (2021)")
    episode_4 = dialog.get_by_role("progressbar", name="S01E04 progress")
    expect(episode_4).to_have_attribute("aria-valuenow", "0")

    progress = {n: 0.05 * n for n in range(1, 14)}
    progress[4] = 0.95
    live.observe_torrent(HORIMIYA_HASH, progress=0.6, files=horimiya_files(progress))
    (item,) = live.requests(q="Horimiya")
    expected = live.request(item["id"])
    overall = str(expected["progress"])
    expect(episode_4).to_have_attribute("aria-valuenow", "95", timeout=LIVE_S)
    expect(
        dialog.get_by_role("progressbar", name="Overall progress", exact=True)
    ).to_have_attribute("aria-valuenow", overall, timeout=LIVE_S)
    expect(horimiya.get_by_role("progressbar")).to_have_attribute(
        "aria-valuenow", overall, timeout=LIVE_S
    )
    expect(dialog.locator(".entry .words", has_text="Download started").first).to_be_visible()
    expect(dialog.locator(".download")).to_contain_text("Downloading")

    progress[4] = 1.0
    live.observe_torrent(HORIMIYA_HASH, progress=0.65, files=horimiya_files(progress))
    cell = dialog.locator(".ep", has_text="S01E04")
    expect(cell).to_have_attribute("data-state", "downloaded", timeout=LIVE_S)
    expect(cell).to_contain_text("Downloaded")
    expect(episode_4).to_have_attribute("aria-valuenow", "100", timeout=LIVE_S)
    pages.screenshot(page, "detail-live")

    assert page.evaluate("() => [...document.querySelectorAll('.card img')].every((i) => i.keep)")
    assert page.evaluate("() => window.addedImages") == 0


def test_the_keyboard_opens_a_card_and_escape_closes_it(live: LiveService, pages: Pages) -> None:
    three_requests(live)
    page = pages.signed_in()
    expect(page.locator(".card")).to_have_count(3)
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('.card button.open')"):
            break
    else:
        raise AssertionError("Tab never reached a card")
    focused_title = page.evaluate("() => document.activeElement.textContent")

    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=focused_title)
    expect(dialog).to_be_visible()
    assert page.evaluate("() => document.getElementById('detail').contains(document.activeElement)")
    expect(page).to_have_url(re.compile(r"#open=\d+$"))

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("() => document.activeElement.textContent") == focused_title
    expect(page).not_to_have_url(re.compile("open="))


def test_filters_and_search_narrow_the_list_and_survive_a_reload(
    live: LiveService, pages: Pages
) -> None:
    three_requests(live)
    page = pages.signed_in()
    expect(page.locator(".card")).to_have_count(3)
    tabs = page.get_by_role("group", name="Show requests")
    expect(tabs.get_by_role("button", name="Active")).to_contain_text("1")

    tabs.get_by_role("button", name="Failed").click()
    assert_titles(page, ["Chainsaw Man - The Movie: Reze Arc"])
    tabs.get_by_role("button", name="Waiting").click()
    assert_titles(page, ["Horimiya"])
    tabs.get_by_role("button", name="All").click()
    expect(page.locator(".card")).to_have_count(3)

    page.get_by_label("Movies or TV").select_option("movie")
    expect(page.locator(".card")).to_have_count(2)
    page.get_by_label("Search titles").fill("VIOLET")
    assert_titles(page, ["Violet Evergarden: Recollections"])
    page.get_by_label("Movies or TV").select_option("")
    page.get_by_label("Search titles").fill("")
    page.get_by_label("Sort").select_option("title")
    expect(page.locator(".card .title-text")).to_have_text(
        ["Chainsaw Man - The Movie: Reze Arc", "Horimiya", "Violet Evergarden: Recollections"]
    )
    page.get_by_label("Search titles").fill("hori")
    tabs.get_by_role("button", name="Waiting").click()
    assert_titles(page, ["Horimiya"])
    expect(page).to_have_url(re.compile(r"#tab=waiting&q=hori&sort=title$"))

    page.reload()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    assert_titles(page, ["Horimiya"])
    expect(page.get_by_label("Search titles")).to_have_value("hori")
    expect(page.get_by_label("Sort")).to_have_value("title")
    expect(tabs.get_by_role("button", name="Waiting")).to_have_attribute("aria-pressed", "true")
    pages.screenshot(page, "filtered")


def assert_titles(page: Page, expected: list[str]) -> None:
    expect(page.locator(".card .title-text")).to_have_text(expected)


def test_the_phone_layout_never_scrolls_sideways(live: LiveService, pages: Pages) -> None:
    three_requests(live)
    live.post_fixture("sonarr/grab_season_pack.json")
    live.settled()
    live.stall(
        HORIMIYA_HASH, progress=0.4, files=horimiya_files({n: 0.03 * n for n in range(1, 14)})
    )
    page = pages.signed_in(viewport=PHONE, is_mobile=True, has_touch=True)
    expect(page.locator(".card")).to_have_count(3)
    # Badges come from the detail the page reads for downloading requests.
    expect(card(page, "Horimiya").locator(".badge")).to_have_text(["Stalled"])
    assert_no_sideways_scroll(page)
    pages.screenshot(page, "phone-board")

    card(page, "Horimiya").get_by_role("button", name=re.compile("Horimiya")).click()
    dialog = page.get_by_role("dialog", name="Horimiya (2021)")
    expect(dialog.locator(".ep")).to_have_count(13)
    expect(dialog.locator(".download")).to_contain_text("stalled: no peers sending")
    assert_fits_the_phone(page, dialog)
    pages.screenshot(page, "phone-detail")


def test_a_download_nothing_reported_is_no_queued_badge_until_qbittorrent_queues_it(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.post_fixture("radarr/grab.json")
    live.settled()
    (item,) = live.requests()
    (download,) = live.request(item["id"])["downloads"]
    assert (download["state"], download["client_state"]) == ("queued", None)
    torrent_hash = download["hash"]
    page = pages.signed_in()
    violet = card(page, item["title"])
    expect(violet.locator(".status")).to_contain_text("Starting download")
    expect(violet.locator(".badge")).to_have_count(0)
    # Nor "Queued · 0%" in the detail: only the reason that says nothing is known of it.
    violet.locator(".open").click()
    row = page.get_by_role("dialog", name=re.compile("Violet Evergarden")).locator(".download")
    expect(row.locator(".reason")).to_have_text(download["reason"])
    expect(row.locator(".status")).to_be_hidden()
    expect(row.locator(".progress-line")).to_be_hidden()
    assert "0%" not in row.inner_text()
    live.observe_torrent(torrent_hash, progress=0.0, state="queued", client_state="queuedDL")
    # Badges are read again at most every 30 s: a page opened now reads them at once.
    page = pages.signed_in()
    expect(card(page, item["title"]).locator(".badge")).to_have_text(["Queued"])


def test_light_and_dark_follow_the_system(live: LiveService, pages: Pages) -> None:
    three_requests(live)
    backgrounds = {}
    panels = {}
    for scheme in ("light", "dark"):
        page = pages.signed_in(color_scheme=scheme)
        expect(page.locator(".card")).to_have_count(3)
        backgrounds[scheme] = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        page.get_by_role("button", name="Health").click()
        health = page.get_by_role("dialog", name="Health")
        expect(health.locator(".health-status")).to_have_attribute(
            "data-status", re.compile("^(ok|degraded)$")
        )
        panels[scheme] = health.evaluate("(el) => getComputedStyle(el).backgroundColor")
        pages.screenshot(page, f"health-{scheme}")
    assert backgrounds["light"] != backgrounds["dark"]
    assert panels["light"] != panels["dark"]


def test_counts_search_and_tabs_reach_past_the_requests_the_page_loaded(
    live: LiveService, pages: Pages
) -> None:
    # 611 requests, newest first: the page loads 500 at first, none of the two failed ones
    # (the oldest), and not "Violet" either.
    rows = (
        [
            RequestRow(
                id=1, media_type="movie", title="Violet Evergarden", state="failed", created_at=1
            ),
            RequestRow(id=2, media_type="tv", title="Failed Show", state="failed", created_at=2),
        ]
        + [
            RequestRow(id=n, media_type="movie", title=f"Done {n}", state="available", created_at=n)
            for n in range(3, 601)
        ]
        + [
            RequestRow(id=n, media_type="tv", title=f"Waiting {n}", state="approved", created_at=n)
            for n in range(601, 612)
        ]
    )
    live.run(live.running.system.store.commit, [SaveRequest(row=row) for row in rows])
    page = pages.signed_in()
    tabs = page.get_by_role("group", name="Show requests")

    def count(tab: str) -> Locator:
        return tabs.get_by_role("button", name=re.compile(f"^{tab}")).locator(".count")

    expected = {"Active": "0", "Waiting": "11", "Failed": "2", "Done": "598", "All": "611"}
    for tab, number in expected.items():
        expect(count(tab)).to_have_text(number)

    page.get_by_label("Search titles").fill("Violet")
    assert_titles(page, ["Violet Evergarden"])
    expect(count("Failed")).to_have_text("1")
    expect(count("All")).to_have_text("1")
    expect(page.get_by_text("No request matches these filters.")).to_be_hidden()

    page.get_by_label("Search titles").fill("")
    tabs.get_by_role("button", name=re.compile("^Failed")).click()
    assert_titles(page, ["Failed Show", "Violet Evergarden"])
    page.get_by_label("Movies or TV").select_option("tv")
    assert_titles(page, ["Failed Show"])
    expect(count("Failed")).to_have_text("1")
    expect(count("Waiting")).to_have_text("11")
    expect(count("All")).to_have_text("12")

    page.get_by_label("Movies or TV").select_option("")
    tabs.get_by_role("button", name=re.compile("^All")).click()
    # The 500 newest, and the two failed ones the Failed tab brought.
    expect(page.locator(".card")).to_have_count(502)
    older = page.get_by_role("button", name="Load older requests (502 of 611 shown)")
    older.click()
    expect(page.locator(".card")).to_have_count(611)
    expect(older).to_be_hidden()

    # The counts follow the feed: one more request.
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    expect(count("All")).to_have_text("612")
    expect(count("Waiting")).to_have_text("12")
