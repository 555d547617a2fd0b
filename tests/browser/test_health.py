"""The health view: problems in words, dependencies, the tree, dead letters; live and truthful."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.harness import PHONE, LiveService, Pages, assert_fits_the_phone
from tests.support.dead_letters import dead_letter
from tests.support.fixtures import load_fixture

# Nothing listens there: qBittorrent is degraded, which /health says in a sentence.
NOWHERE = {"qbittorrent_url": "http://127.0.0.1:1"}


def open_health(page: Page) -> Locator:
    """Opens the view from the header with the keyboard, as a keyboard user would."""
    page.get_by_role("button", name="Health").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Health")
    expect(dialog).to_be_visible()
    return dialog


@pytest.mark.parametrize("live", [NOWHERE], indirect=True, ids=["qbittorrent-down"])
def test_the_health_view_shows_problems_and_retries_a_dead_letter(
    live: LiveService, pages: Pages
) -> None:
    letter_id = live.run(dead_letter, live.running, json.dumps(load_fixture("radarr/grab.json")))
    page = pages.signed_in()
    dialog = open_health(page)

    expect(dialog.locator(".health-status")).to_have_text("Degraded: 1 problem")
    expect(dialog.locator(".problem")).to_have_text(
        [re.compile(r"^qbittorrent is degraded: unreachable: ")]
    )
    qbittorrent = dialog.locator(".dep[data-dependency=qbittorrent]")
    expect(qbittorrent.locator(".state")).to_have_text("Degraded")
    expect(qbittorrent.locator(".reason")).to_contain_text("unreachable")
    expect(dialog.locator(".dep[data-dependency=database] .state")).to_have_text("Reachable")
    expect(dialog.locator(".dep[data-dependency=jellyfin] .state")).to_have_text("Not configured")
    tree = dialog.locator(".tree.root")
    expect(tree.locator(".node-name").first).to_have_text("root")
    poller = tree.locator(".node[data-node=qbittorrent-poller] > .node-head")
    expect(poller).to_contain_text("qbittorrent-poller Running 0 restarts")
    expect(dialog.get_by_role("region", name="Reconciler")).to_contain_text("Not configured")

    letter = dialog.locator(f".letter[data-id='{letter_id}']")
    expect(letter.locator(".letter-title")).to_have_text(
        f"#{letter_id} · Grab from Radarr · stopped at dispatch"
    )
    expect(letter).to_contain_text("RuntimeError: the cause, since fixed")
    expect(dialog.get_by_role("region", name="Dead letters")).to_contain_text(
        "1 message no actor could apply."
    )
    pages.screenshot(page, "health")

    letter.get_by_role("button", name=f"Retry dead letter {letter_id}").click()
    confirm = page.get_by_role("dialog", name=f"Retry dead letter {letter_id}?")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    confirm.get_by_role("button", name="Retry").click()
    expect(dialog.locator(".letter")).to_have_count(0)
    # The button that had the focus is gone with its letter: the keyboard stays in the section.
    expect(dialog.get_by_role("heading", name="Dead letters")).to_be_focused()
    expect(dialog.get_by_role("region", name="Dead letters")).to_contain_text(
        f"Dead letter {letter_id} was posted again."
    )
    expect(dialog.get_by_role("region", name="Dead letters")).to_contain_text(
        "None: every message was applied."
    )
    live.settled()
    assert [item["source"] for item in live.requests()] == ["radarr"]
    # The retried grab is now a request on the board behind the dialog.
    expect(page.locator(".card .title-text")).to_have_text(["Violet Evergarden: Recollections"])

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("button", name="Health")).to_be_focused()


def test_the_health_view_says_unreachable_when_health_fails(
    live: LiveService, pages: Pages
) -> None:
    page = pages.signed_in()
    dialog = open_health(page)
    status = dialog.locator(".health-status")
    expect(status).to_have_text("OK: nothing needs attention")
    expect(dialog.locator(".problem")).to_have_count(0)

    # The service goes away (as the browser sees it): the next poll says so, not the old "OK".
    page.route(re.compile(r"/health$"), lambda route: route.abort("connectionrefused"))
    expect(status).to_have_attribute("data-status", "unreachable")
    expect(status).to_contain_text("Unreachable: the service cannot be reached")
    expect(dialog.locator(".health-sections")).to_have_class(re.compile(r"\bstale\b"))
    pages.screenshot(page, "unreachable")

    page.unroute(re.compile(r"/health$"))
    expect(status).to_have_text("OK: nothing needs attention")
    expect(dialog.locator(".health-sections")).not_to_have_class(re.compile(r"\bstale\b"))


@pytest.mark.parametrize("live", [NOWHERE], indirect=True, ids=["qbittorrent-down"])
def test_the_health_view_fits_a_phone_and_survives_a_reload(
    live: LiveService, pages: Pages
) -> None:
    live.run(dead_letter, live.running, json.dumps(load_fixture("radarr/grab.json")))
    page = pages.signed_in(viewport=PHONE, is_mobile=True, has_touch=True)
    dialog = open_health(page)
    expect(dialog.locator(".problem")).to_have_count(1)
    expect(dialog.locator(".letter")).to_have_count(1)
    dialog.locator(".letter summary").click()
    expect(dialog.locator(".letter-body")).to_be_visible()
    assert_fits_the_phone(page, dialog)
    pages.screenshot(page, "phone-health")

    assert page.url.endswith("#health=1")
    page.reload()
    expect(page.get_by_role("dialog", name="Health")).to_be_visible()
    expect(page.get_by_role("dialog", name="Health").locator(".problem")).to_have_count(1)
