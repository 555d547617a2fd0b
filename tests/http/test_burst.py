"""A burst of webhooks: the last 32 stored within half a second, and never a real stack's pace."""

from __future__ import annotations

import trio
import trio.testing
from status_tracker.ingress.http.burst import BURST_COUNT, BURST_WINDOW_S, WebhookBurst


async def test_a_burst_is_the_last_count_stored_within_the_window_and_ends_after_it(
    autojump_clock: trio.testing.MockClock,
) -> None:
    burst = WebhookBurst()
    for _ in range(BURST_COUNT - 1):
        burst.stored()
        await trio.sleep(0.001)
    assert not burst()
    burst.stored()
    assert burst()
    await trio.sleep(BURST_WINDOW_S)
    assert not burst()


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
