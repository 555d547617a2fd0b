"""A burst of webhooks: the last 32 stored within half a second, the last of them moments ago,
and never a real stack's pace."""

from __future__ import annotations

import trio
import trio.testing
from status_tracker.ingress.http.burst import (
    BURST_COUNT,
    BURST_QUIET_S,
    WebhookBurst,
)


def a_burst() -> WebhookBurst:
    """A burst: ``BURST_COUNT`` webhooks stored at once."""
    burst = WebhookBurst()
    for _ in range(BURST_COUNT):
        burst.stored()
    return burst


async def test_a_burst_is_the_last_count_stored_within_the_window_and_a_trickle_ends_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    burst = WebhookBurst()
    for _ in range(BURST_COUNT - 1):
        burst.stored()
        await trio.sleep(0.001)
    assert not burst()
    burst.stored()
    assert burst()
    # Webhooks keep coming, each within the quiet time, but at 20 a second: the last 32 soon
    # span more than the window.
    seen = []
    for _ in range(40):
        await trio.sleep(BURST_QUIET_S / 2)
        burst.stored()
        seen.append(burst())
    assert seen[0]
    assert not any(seen[-20:])


async def test_a_webhook_being_stored_keeps_the_burst_going(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # A commit slower than the quiet time, which the senders wait for, is no pause.
    burst = a_burst()
    with burst.storing():
        await trio.sleep(BURST_QUIET_S * 2)
        assert burst()
    assert not burst()


async def test_a_burst_ends_once_webhooks_stop_coming_not_a_window_later(
    autojump_clock: trio.testing.MockClock,
) -> None:
    # What waits for the burst's end (the backlog) starts soon after the last webhook.
    burst = a_burst()
    await trio.sleep(BURST_QUIET_S / 2)
    assert burst()
    await trio.sleep(BURST_QUIET_S)
    assert not burst(), "over, though the last 32 came within the window"
    burst.stored()
    assert burst(), "the next webhook within the window makes it a burst again"


async def test_four_senders_at_ten_webhooks_a_second_each_make_no_burst(
    autojump_clock: trio.testing.MockClock,
) -> None:
    burst = WebhookBurst()
    seen = []
    for _ in range(200):
        for _sender in range(4):
            burst.stored()
        seen.append(burst())
        await trio.sleep(0.1)
    assert not any(seen)
