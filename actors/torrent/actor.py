"""The TorrentActor shell: one per torrent hash, the only writer of its download row."""

from __future__ import annotations

import typing
from collections.abc import Callable

from status_tracker.storage import MarkMailApplied, Op, SaveDownload, Store

from status_tracker.domain import DownloadRow

from ..clock import WallClock
from ..envelope import (
    Applied,
    Deliver,
    apply_through_outages,
    deliveries_in,
    not_yet_applied,
    outlasting_outages,
)
from ..mail import post, request_target
from .messages import DownloadClaimed
from .state import decide


@typing.final
class TorrentActor:
    """Owns one download: progress, files, file→episode map and the requests linked to it."""

    def __init__(
        self,
        torrent_hash: str,
        *,
        store: Store,
        clock: WallClock,
        on_claimed: Callable[[str], None] = lambda _hash: None,
    ) -> None:
        self.hash = torrent_hash
        self._store = store
        self._clock = clock
        self._on_claimed = on_claimed
        self.row: DownloadRow | None = None

    async def init(self) -> None:
        await outlasting_outages(self._store, lambda _retried: self._load())

    async def _load(self) -> None:
        self.row = await self._store.load_download(self.hash)

    async def handle(self, message: object) -> Applied:
        deliveries = deliveries_in(message, "TorrentActor")
        return await apply_through_outages(
            self._store, deliveries, apply=self._apply, reload=self._load
        )

    async def _apply(self, deliveries: tuple[Deliver, ...]) -> Applied:
        """Apply each delivery in order, then commit them all in one transaction."""
        row = self.row
        ops: list[Op] = []
        changed = False
        claimed = False
        for message in await not_yet_applied(self._store, deliveries):
            now = self._clock.now()
            for item in message.messages:
                decision = decide(row, item, now=now)  # type: ignore[arg-type]
                row = decision.row
                changed = changed or decision.changed
                claimed = claimed or isinstance(item, DownloadClaimed)
                for request_id, progressed in decision.notify:
                    ops.append(post(request_target(request_id), "qbittorrent", progressed, at=now))
            if message.mail_id is not None:
                ops.append(MarkMailApplied(mail_id=message.mail_id, at=now))
        if changed and row is not None:
            ops.insert(0, SaveDownload(row=row))
        if ops:
            await self._store.commit(ops)
        self.row = row
        if claimed:
            self._on_claimed(self.hash)
        return Applied(changed=changed)
