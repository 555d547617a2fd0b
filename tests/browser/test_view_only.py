"""A session signed in with the view token (ST_VIEW_TOKEN) watches; it is shown no action, and
the server refuses what the page does not offer."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.harness import VIEW_TOKEN, LiveService, Pages
from tests.support.dead_letters import dead_letter
from tests.support.fixtures import load_fixture

ACTIONS = re.compile(r"^(Delete|Check again|Retry|Discard|Select all|Clear)")


@pytest.mark.parametrize("live", [{"view_token": VIEW_TOKEN}], indirect=True, ids=["view-token"])
def test_a_view_only_session_sees_no_action_and_cannot_delete(
    live: LiveService, pages: Pages
) -> None:
    item = live.horimiya_with_its_season_pack()
    letter_id = live.run(dead_letter, live.running, json.dumps(load_fixture("radarr/grab.json")))
    before = live.request(item["id"])

    page = pages.signed_in(token=VIEW_TOKEN)
    expect(page.get_by_text("View only")).to_be_visible()
    page.locator(".card .open", has_text="Horimiya").click()
    dialog = page.get_by_role("dialog", name="Horimiya (2021)")
    expect(dialog.locator(".ep")).to_have_count(13)
    expect(dialog.locator(".download")).to_have_count(1)
    expect(dialog.get_by_role("button", name=ACTIONS)).to_have_count(0)
    expect(dialog.get_by_role("checkbox")).to_have_count(0)
    pages.screenshot(page, "detail")

    # Forced from the page itself (its session cookie): the server refuses and changes nothing.
    forced = page.evaluate(
        """async (id) => {
            const send = (method, path, body) => fetch(path, {
                method, credentials: "same-origin",
                headers: body ? {"Content-Type": "application/json"} : {},
                body: body ? JSON.stringify(body) : undefined,
            }).then(async (r) => [r.status, (await r.json()).error]);
            return [
                await send("DELETE", `api/requests/${id}`),
                await send("DELETE", `api/requests/${id}/episodes`,
                           {episodes: [{season: 1, episode: 1}]}),
                await send("POST", `api/requests/${id}/check`),
            ];
        }""",
        item["id"],
    )
    refused = [403, "the view token (or its session) may only read"]
    assert forced == [refused, refused, refused]
    live.settled()
    after = live.request(item["id"])
    assert (after["state"], after["episode_counts"]) == (before["state"], before["episode_counts"])
    assert after["timeline"] == before["timeline"]

    page.keyboard.press("Escape")
    page.get_by_role("button", name="Health").click()
    health = page.get_by_role("dialog", name="Health")
    letters = health.get_by_role("region", name="Dead letters")
    expect(letters).to_contain_text("1 message no actor could apply.")
    expect(letters).to_contain_text("for a session signed in with the API token")
    expect(letters.locator(".letter-title")).to_have_text(
        [f"#{letter_id} · Grab from Radarr · stopped at dispatch"]
    )
    expect(health.get_by_role("button", name=ACTIONS)).to_have_count(0)
    pages.screenshot(page, "health")
