"""What the HTTP app needs from the running service."""

from __future__ import annotations

import typing
from typing import Any

import trio
from status_tracker.actors.clock import WallClock
from status_tracker.storage import Store

from status_tracker.config import Config

from .live_feed import LiveFeed


class Service(typing.Protocol):
    """The running service as the HTTP app sees it (``status_tracker.system.System``)."""

    config: Config
    store: Store
    feed: LiveFeed
    clock: WallClock
    webhook_token: str
    api_token: str
    webhook_slots: trio.CapacityLimiter

    async def health(self) -> tuple[int, dict[str, Any]]: ...
