"""Dashboard sessions: random ids, kept server-side only as sha256 hashes, with an expiry.

Each session records the fingerprint of the API token it was granted under, so a new token
ends every session. Sessions confirmed recently are remembered in memory (bounded), which
spares the database a read per API call and lets the admission gate recognise signed-in
users without one.
"""

from __future__ import annotations

import collections
import hashlib
import secrets
import typing

from status_tracker.actors.clock import WallClock
from status_tracker.storage import EndSession, PruneSessions, SaveSession, Store

COOKIE = "st_session"
_REMEMBERED = 1024
_MAX_ID_LENGTH = 128


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def token_fingerprint(api_token: str) -> str:
    """What identifies the API token a session belongs to, without revealing it."""
    return hashlib.sha256(b"status-tracker session token\0" + api_token.encode()).hexdigest()


@typing.final
class Sessions:
    """Begins, checks and ends dashboard sessions."""

    def __init__(
        self, store: Store, clock: WallClock, *, api_token: str, lifetime_s: float
    ) -> None:
        self._store = store
        self._clock = clock
        self._fingerprint = token_fingerprint(api_token)
        self.lifetime_s = lifetime_s
        self._confirmed: collections.OrderedDict[str, float] = collections.OrderedDict()

    async def begin(self) -> str:
        """A new session id for the cookie (stored hashed; expired sessions are pruned)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.commit(
            [
                PruneSessions(now=now, token_fingerprint=self._fingerprint),
                SaveSession(
                    id_hash=_hash(session_id),
                    token_fingerprint=self._fingerprint,
                    created_at=now,
                    expires_at=now + self.lifetime_s,
                ),
            ]
        )
        self._remember(_hash(session_id), now + self.lifetime_s)
        return session_id

    def known(self, session_id: str) -> bool:
        """True when the session was confirmed recently and has not expired (no database read)."""
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return False
        expires_at = self._confirmed.get(_hash(session_id))
        return expires_at is not None and expires_at > self._clock.now()

    async def valid(self, session_id: str) -> bool:
        """True when ``session_id`` names a live session granted under the current API token."""
        if self.known(session_id):
            return True
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return False
        id_hash = _hash(session_id)
        self._confirmed.pop(id_hash, None)
        stored = await self._store.session(id_hash)
        if (
            stored is None
            or stored.token_fingerprint != self._fingerprint
            or stored.expires_at <= self._clock.now()
        ):
            return False
        self._remember(id_hash, stored.expires_at)
        return True

    async def end(self, session_id: str) -> None:
        """Sign out: the session no longer works, here or after a restart."""
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return
        id_hash = _hash(session_id)
        self._confirmed.pop(id_hash, None)
        await self._store.commit([EndSession(id_hash=id_hash)])

    def _remember(self, id_hash: str, expires_at: float) -> None:
        self._confirmed[id_hash] = expires_at
        self._confirmed.move_to_end(id_hash)
        while len(self._confirmed) > _REMEMBERED:
            self._confirmed.popitem(last=False)
