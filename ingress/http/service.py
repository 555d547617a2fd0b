"""What the HTTP app needs from the running service."""

from __future__ import annotations

import typing
from typing import Any

import trio
from status_tracker.actors.clock import WallClock
from status_tracker.storage import Store

from status_tracker.strict import Network

from .burst import WebhookBurst
from .items import RequestItems
from .live_feed import LiveFeed
from .metrics import Metrics


class HttpSettings(typing.Protocol):
    """The settings the HTTP app reads (``status_tracker.config.Config`` has them)."""

    body_timeout_s: float
    session_days: float
    max_concurrent_requests: int
    trusted_proxies: tuple[Network, ...]
    allowed_origins: tuple[str, ...]
    metrics_public: bool
    url_base: str
    view_token: str | None
    stuck_after_s: float
    qbittorrent_url: str | None
    jellyfin_url: str | None
    shoko_url: str | None
    sonarr_url: str | None
    sonarr_api_key: str | None


class Service(typing.Protocol):
    """The running service as the HTTP app sees it (``status_tracker.system.System``)."""

    config: HttpSettings
    store: Store
    feed: LiveFeed
    items: RequestItems
    clock: WallClock
    webhook_token: str
    api_token: str
    webhook_slots: trio.CapacityLimiter
    webhook_burst: WebhookBurst
    metrics: Metrics

    async def health(self) -> tuple[int, dict[str, Any]]: ...

    async def send_test_notifications(self) -> list[dict[str, Any]] | None:
        """Each target's ``url`` (redacted), ``ok`` and ``error``; None: none configured."""
        ...
