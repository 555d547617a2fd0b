"""The detail dialog: local times, deleting episodes, what the page says when the API refuses."""

from __future__ import annotations

import datetime
import json
import re
import time
import zoneinfo

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from tests.browser.harness import PHONE, LiveService, Pages
from tests.support.service import wait_until


def open_detail(page: Page, title: str) -> Locator:
    page.locator(".card .open", has_text=title).click()
    dialog = page.get_by_role("dialog", name=re.compile(re.escape(title)))
    expect(dialog).to_be_visible()
    return dialog


def test_times_are_shown_in_the_browsers_time_zone(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.post_fixture("radarr/grab.json")
    live.settled()
    (item,) = live.requests()
    detail = live.request(item["id"])
    page = pages.signed_in(timezone_id="Asia/Tokyo", locale="en-GB")

    card = page.locator(".card")
    expect(card.locator("time.requested")).to_have_text("requested just now")
    expect(card.locator("time.requested")).to_have_attribute(
        "title", re.compile(r"\(Asia/Tokyo\)$")
    )

    dialog = open_detail(page, "Violet Evergarden")
    rows = dialog.locator(".timeline .entry")
    expect(rows).to_have_count(len(detail["timeline"]))
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    # Newest first by default; the first entry of the API (its creation) is the last row.
    for entry, row in zip(reversed(detail["timeline"]), rows.all(), strict=True):
        at = datetime.datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))
        local = at.astimezone(tokyo)
        expected = f"{local.day} {local:%b} {local.year}, {local:%H:%M:%S}"
        expect(row.locator("time.local")).to_have_text(expected)
        expect(row.locator("time.ago")).to_have_text("just now")
    created = at.astimezone(tokyo)
    assert created.utcoffset() == datetime.timedelta(hours=9)
    expect(rows.last).to_contain_text("Approved")
    expect(rows.first).to_contain_text("Release grabbed")

    dialog.get_by_role("button", name=re.compile("Order")).click()
    expect(rows.first).to_contain_text("Approved")
    expect(rows.first).to_contain_text("Jellyseerr")
    pages.screenshot(page, "tokyo")


@pytest.mark.parametrize("live", [{"sonarr": True}], indirect=True, ids=["sonarr"])
def test_two_episodes_deleted_through_the_checkboxes_end_deleted_here_and_in_sonarr(
    live: LiveService, pages: Pages
) -> None:
    sonarr = live.sonarr
    assert sonarr is not None
    # The fixture's series (id 41) and episodes (ids 2101-2113), each with a file in Sonarr.
    sonarr.add_series(41, "Horimiya", 384435, anime=True)
    sonarr.add_episodes(41, 1, 13, first_id=2100, with_files=True)
    item = live.horimiya_with_its_season_pack()
    page = pages.signed_in()
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".ep")).to_have_count(13)

    delete = dialog.get_by_role("button", name=re.compile("^Delete selected"))
    expect(delete).to_be_disabled()
    dialog.get_by_label(re.compile("^Select S01E02")).check()
    dialog.get_by_label(re.compile("^Select S01E03")).check()
    expect(delete).to_have_text("Delete selected (2)")
    expect(dialog.get_by_label("Select all of season 1")).to_have_js_property("indeterminate", True)
    delete.click()

    confirm = page.get_by_role("dialog", name="Delete 2 episodes?")
    expect(confirm).to_contain_text("S01E02, S01E03 of Horimiya")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    pages.screenshot(page, "confirm")
    confirm.get_by_role("button", name="Delete episodes").click()
    expect(confirm).to_be_hidden()

    async def deleted() -> bool:
        detail = await live.running.request(item["id"])
        return {e["episode"] for e in detail["episodes"] if e["state"] == "deleted"} == {2, 3}

    live.run(wait_until, deleted, what="episodes 2 and 3 to be deleted")
    states = {e["episode"]: e["state"] for e in live.request(item["id"])["episodes"]}
    assert [n for n, state in states.items() if state == "deleted"] == [2, 3]
    for code in ("S01E02", "S01E03"):
        cell = dialog.locator(".ep", has_text=code)
        expect(cell).to_have_attribute("data-state", "deleted")
        expect(cell.get_by_role("checkbox")).to_be_disabled()
    expect(dialog.locator(".ep", has_text="S01E04")).not_to_have_attribute("data-state", "deleted")
    expect(dialog.locator(".entry", has_text="S01E02").first).to_contain_text("Deleted")
    expect(delete).to_be_disabled()

    async def passed_on() -> bool:
        return sorted(sonarr.deleted_files) == [42_102, 42_103]

    live.run(wait_until, passed_on, what="Sonarr to be asked to delete the two files")
    assert sorted(sonarr.unmonitored) == [2102, 2103]
    synced = dialog.locator(".entry", has_text="Deletion passed on to Sonarr/Radarr")
    expect(synced).to_contain_text("2 episode(s) unmonitored in Sonarr, 2 file(s) deleted")


def test_deleting_the_whole_request_asks_first(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    (item,) = live.requests()
    page = pages.signed_in()
    dialog = open_detail(page, "Violet Evergarden")

    dialog.get_by_role("button", name="Delete request").click()
    asked = page.get_by_role("dialog", name="Delete this request?")
    asked.get_by_role("button", name="Cancel").click()
    assert live.request(item["id"])["state"] == "approved"

    dialog.get_by_role("button", name="Delete request").click()
    asked.get_by_role("button", name="Delete request").click()
    expect(dialog.locator(".detail-head .state")).to_have_text("Deleted")
    expect(dialog.get_by_role("button", name="Delete request")).to_be_disabled()
    assert live.request(item["id"])["state"] == "deleted"
    expect(page.locator(".card")).to_have_attribute("data-state", "deleted")


def test_a_refused_action_shows_the_apis_error(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_approved_tv.json")
    live.post_fixture("sonarr/grab_season_pack.json")
    live.settled()
    page = pages.signed_in()

    def refuse(route: Route) -> None:
        if route.request.method != "DELETE":
            route.fallback()
            return
        body = json.dumps({"error": "this token may only read"})
        route.fulfill(status=403, content_type="application/json", body=body)

    page.route(re.compile(r"/api/requests/\d+(/episodes)?$"), refuse)
    dialog = open_detail(page, "Horimiya")
    dialog.get_by_label(re.compile("^Select S01E01")).check()
    dialog.get_by_role("button", name=re.compile("^Delete selected")).click()
    page.get_by_role("dialog", name="Delete 1 episode?").get_by_role(
        "button", name="Delete episodes"
    ).click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_have_text("Could not delete: 403: this token may only read")
    # What is selected stays selected, to try again.
    expect(dialog.get_by_label(re.compile("^Select S01E01"))).to_be_checked()
    pages.screenshot(page, "refused")


def test_check_again_now_reaches_the_service_and_says_so(live: LiveService, pages: Pages) -> None:
    item = live.horimiya_with_its_season_pack()
    page = pages.signed_in()
    check = re.compile(r"/api/requests/\d+/check$")
    held: list[Route] = []
    page.route(check, lambda route: held.append(route))
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".ep")).to_have_count(13)

    dialog.get_by_role("button", name="Check again now").click()
    # Until the service answers, the button says so and cannot be pressed twice.
    expect(dialog.get_by_role("button", name="Asking…")).to_be_disabled()
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "the page never sent the check"
        page.wait_for_timeout(20)
    held[0].fallback()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Asked to check again now: what the check finds appears in the timeline."
    )
    expect(dialog.get_by_role("button", name="Check again now")).to_be_enabled()

    async def asked() -> bool:
        timeline = (await live.running.request(item["id"]))["timeline"]
        return any(entry["event"] == "check_requested" for entry in timeline)

    live.run(wait_until, asked, what="the check to reach the request's timeline")
    expect(dialog.locator(".entry", has_text="Asked to check again now")).to_have_count(1)
    pages.screenshot(page, "asked")

    page.unroute(check)
    body = json.dumps({"error": "the database is unavailable"})
    page.route(
        check, lambda route: route.fulfill(status=503, content_type="application/json", body=body)
    )
    dialog.get_by_role("button", name="Check again now").click()
    expect(dialog.get_by_role("alert")).to_have_text(
        "Could not ask for a check: 503: the database is unavailable"
    )
    expect(dialog.get_by_role("button", name="Check again now")).to_be_enabled()


def test_the_keyboard_focus_stays_in_the_detail_after_each_action(
    live: LiveService, pages: Pages
) -> None:
    item = live.horimiya_with_its_season_pack()
    page = pages.signed_in()
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".ep")).to_have_count(13)

    check = dialog.get_by_role("button", name="Check again now")
    check.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("alert")).to_have_text(
        "Asked to check again now: what the check finds appears in the timeline."
    )
    expect(check).to_be_focused()

    dialog.get_by_label(re.compile("^Select S01E02")).focus()
    page.keyboard.press("Space")
    dialog.get_by_role("button", name="Delete selected (1)").focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Delete 1 episode?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Delete episodes")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator(".ep", has_text="S01E02")).to_have_attribute("data-state", "deleted")
    expect(dialog.get_by_role("heading", name="Episodes")).to_be_focused()

    dialog.get_by_role("button", name="Delete request").focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Delete this request?")
    page.keyboard.press("Tab")
    expect(confirm.get_by_role("button", name="Delete request")).to_be_focused()
    page.keyboard.press("Enter")
    expect(dialog.locator(".detail-head .state")).to_have_text("Deleted")
    assert live.request(item["id"])["state"] == "deleted"
    expect(dialog.get_by_role("heading", name="Horimiya (2021)")).to_be_focused()
    # And the keyboard goes on from there: Escape closes, back to the card.
    page.keyboard.press("Escape")
    expect(page.locator(".card .open", has_text="Horimiya")).to_be_focused()
    tabs = page.get_by_role("group", name="Show requests")
    expect(tabs.get_by_role("button", name=re.compile("^Active"))).to_have_text("Active 0")
    expect(tabs.get_by_role("button", name=re.compile("^All"))).to_have_text("All 1")


def test_the_focus_goes_to_the_episodes_when_the_feed_tells_of_a_deletion_first(
    live: LiveService, pages: Pages
) -> None:
    """The deletion is applied, and sent on the feed, before the API's answer reaches the page
    (held back here): "Delete selected" is disabled by the feed first, and the focus must not
    drop to the page then."""
    live.horimiya_with_its_season_pack()
    page = pages.signed_in()

    def answer_late(route: Route) -> None:
        response = route.fetch()  # the service deletes now, and tells the feed
        time.sleep(1.5)
        route.fulfill(response=response)

    page.route(re.compile(r".*/api/requests/\d+/episodes$"), answer_late)
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".ep")).to_have_count(13)
    dialog.get_by_label(re.compile("^Select S01E03")).focus()
    page.keyboard.press("Space")
    dialog.get_by_role("button", name="Delete selected (1)").focus()
    page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name="Delete 1 episode?")
    confirm.get_by_role("button", name="Delete episodes").focus()
    page.keyboard.press("Enter")
    expect(dialog.locator(".ep", has_text="S01E03")).to_have_attribute("data-state", "deleted")
    expect(dialog.get_by_role("heading", name="Episodes")).to_be_focused()
    expect(dialog.get_by_role("alert")).to_have_text(re.compile("^Deleting S01E03"))
    expect(dialog.get_by_role("heading", name="Episodes")).to_be_focused()


def test_the_detail_speaks_in_words_and_numbers_agree(live: LiveService, pages: Pages) -> None:
    live.post_fixture("sonarr/grab_single_episode.json")
    live.settled()
    live.observe_torrent(
        "9E3D7C1B5A2F4E6D8C0B2A4F6E8D0C2B4A6F8E0D",
        progress=0.3,
        seeds=1,
        peers=1,
        speed=100_000,
        eta_s=600,
    )
    page = pages.signed_in()
    card = page.locator(".card", has_text="Link Click")
    expect(card.locator(".eta")).to_contain_text("1 seed")
    expect(card.locator(".eta")).not_to_contain_text("1 seeds")
    dialog = open_detail(page, "Link Click")
    expect(dialog.locator(".season-counts")).to_have_text(re.compile(r"^1 episode · 0/1 available"))
    download = dialog.locator(".download")
    expect(download).to_contain_text("single episode")
    expect(download).to_contain_text("1 seed · 1 peer")
    expect(download).not_to_contain_text("single_episode")
    expect(download).not_to_contain_text("1 seeds")
    expect(download).not_to_contain_text("1 peers")


def test_an_address_naming_no_request_says_so_and_offers_nothing(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.open()
    for wrong in ("abc", "99999"):
        page.goto(f"{live.url}/?token=test-api-secret#open={wrong}")
        dialog = page.locator("#detail")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_role("heading", level=2)).to_have_text("No such request")
        expect(dialog.get_by_role("alert")).to_be_visible()
        expect(dialog.get_by_role("button", name="Delete request")).to_be_hidden()
        expect(dialog.get_by_role("button", name="Check again now")).to_be_hidden()


def test_on_a_phone_episode_states_and_reasons_read_whole_and_targets_fit_a_finger(
    live: LiveService, pages: Pages
) -> None:
    item = live.horimiya_with_its_season_pack()
    episodes = live.request(item["id"])["episodes"]
    page = pages.signed_in(viewport=PHONE, is_mobile=True, has_touch=True)
    page.locator(".card .open").tap()
    dialog = page.get_by_role("dialog", name="Horimiya (2021)")
    cells = dialog.locator(".ep")
    expect(cells).to_have_count(13)
    for episode, cell in zip(episodes, cells.all(), strict=True):
        expect(cell.locator(".ep-state")).to_have_text("Starting download")
        # The reason is text in the cell, not a tooltip a finger cannot open.
        assert episode["reason"]
        expect(cell).to_contain_text(episode["reason"])
    cut = dialog.evaluate(
        "(d) => [...d.querySelectorAll('.ep-state')].filter((e) => e.scrollWidth > e.clientWidth)"
        ".length"
    )
    assert cut == 0, f"{cut} episode states are cut short"
    targets = [
        dialog.get_by_role("button", name="Close"),
        dialog.locator(".ep-head").first,
        dialog.locator(".links a").first,
    ]
    for target in targets:
        box = target.bounding_box()
        assert box is not None
        assert box["height"] >= 40, f"{target} is {box['height']:.0f} px high"
        assert box["width"] >= 40, f"{target} is {box['width']:.0f} px wide"


def test_a_failed_request_says_what_failed_it(live: LiveService, pages: Pages) -> None:
    live.post_fixture(
        "jellyseerr/media_auto_approved_movie.json",
        subject="Chainsaw Man - The Movie: Reze Arc (2025)",
        media__tmdbId="1218925",
        request__request_id="74",
    )
    live.post_fixture("jellyseerr/media_failed_movie.json")
    live.settled()
    (item,) = live.requests()
    detail = live.request(item["id"])
    assert detail["state"] == "failed"
    assert detail["reason"] is None
    (failing,) = [entry for entry in detail["timeline"] if entry["to_state"] == "failed"]
    page = pages.signed_in()
    dialog = open_detail(page, "Chainsaw Man")
    reason = dialog.locator(".detail-inner > .reason")
    # The API gives no reason; its timeline says which event failed it, in words.
    assert failing["event"] == "request_failed"
    expect(reason).to_have_text(f"Request failed: {failing['detail']}")


def test_a_declined_request_says_so_once(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_pending_tv.json")
    live.post_fixture(
        "jellyseerr/media_pending_tv.json",
        notification_type="MEDIA_DECLINED",
        event="Series Request Declined",
    )
    live.settled()
    (item,) = live.requests()
    (declined,) = [e for e in live.request(item["id"])["timeline"] if e["to_state"] == "failed"]
    assert declined["detail"].lower() == "declined in jellyseerr", declined
    page = pages.signed_in()
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".detail-inner > .reason")).to_have_text("Declined in Jellyseerr")


def test_a_detail_the_service_cannot_be_asked_for_says_it_loads_once_back(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    (item,) = live.requests()
    page = pages.signed_in()
    page.route(re.compile(r".*/api/requests/\d+$"), lambda route: route.abort())
    page.goto(f"{live.url}/#open={item['id']}")
    dialog = page.locator("#detail")
    # The heading is the card's title when the board has it, else "Could not load the request".
    expect(dialog.get_by_role("heading", level=2)).not_to_have_text("No such request")
    expect(dialog.get_by_role("alert")).to_have_text(
        "the service cannot be reached; it loads once the connection is back"
    )


def test_an_overview_longer_than_three_lines_can_be_read_whole(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_pending_tv.json")
    live.settled()
    (item,) = live.requests()
    whole = live.request(item["id"])["overview"]
    page = pages.signed_in(viewport=PHONE, is_mobile=True, has_touch=True)
    dialog = open_detail(page, "Horimiya")
    overview = dialog.locator(".overview")
    toggle = dialog.get_by_role("button", name="Read all")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    clamped = overview.bounding_box()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(dialog.get_by_role("button", name="Read less")).to_have_attribute(
        "aria-expanded", "true"
    )
    opened = overview.bounding_box()
    assert clamped is not None
    assert opened is not None
    assert opened["height"] > clamped["height"], "the rest of the overview is shown"
    expect(overview).to_have_text(whole)
    pages.screenshot(page, "phone-overview-whole")


def test_a_short_overview_offers_nothing_more(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_pending_tv.json", message="Short.")
    live.settled()
    page = pages.signed_in()
    dialog = open_detail(page, "Horimiya")
    expect(dialog.locator(".overview")).to_have_text("Short.")
    expect(dialog.locator(".overview-toggle")).to_be_hidden()
