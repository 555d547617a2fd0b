"""The dashboard in a real browser (Debian's Chromium under Playwright): sign in, see requests.

The page's own behaviour (live updates, filters, the detail, deletion, phones) is tested in
the other modules here; these two check what the dashboard shows, and hides, around signing
in.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.harness import LiveService, Pages
from tests.support.service import API_TOKEN


def test_the_dashboard_shows_requests_after_signing_in_with_the_token(
    live: LiveService, pages: Pages
) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.post_fixture("radarr/grab.json")
    live.settled()
    page = pages.open()
    page.goto(f"{live.url}/?token={API_TOKEN}")
    card = page.locator(".card")
    expect(card).to_have_count(1)
    expect(card.locator(".card-title")).to_have_text("Violet Evergarden: Recollections (2021)")
    # "grabbing 0%": the state (in plain words on the page) and the progress.
    expect(card).to_have_attribute("data-state", "grabbing")
    expect(card.locator(".state")).to_have_text("Starting download")
    expect(card.locator(".percent")).to_have_text("0%")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
    assert "token=" not in page.url, "the token must not stay in the address bar"


def test_the_dashboard_asks_for_the_token_first(live: LiveService, pages: Pages) -> None:
    live.post_fixture("jellyseerr/media_auto_approved_movie.json")
    live.settled()
    page = pages.open()
    page.goto(f"{live.url}/")
    expect(page.locator('input[name="token"]')).to_be_visible()
    assert "Violet Evergarden" not in page.content()
    api = page.request.get(f"{live.url}/api/requests")
    assert api.status == 401
