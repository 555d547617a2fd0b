"""Dashboard sessions: random ids, kept server-side only as sha256 hashes, with an expiry.

Each session records the fingerprint of the token it was granted under and its role (``admin``
with the API token, ``viewer`` with the view token: read only), so a new token ends every
session it granted. Sessions confirmed recently are remembered in memory (bounded), which
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
ADMIN = "admin"
VIEWER = "viewer"
Role = typing.Literal["admin", "viewer"]
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
        self,
        store: Store,
        clock: WallClock,
        *,
        api_token: str,
        lifetime_s: float,
        view_token: str | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._fingerprints: dict[str, str] = {ADMIN: token_fingerprint(api_token)}
        if view_token:
            self._fingerprints[VIEWER] = token_fingerprint(view_token)
        self._fingerprint = self._fingerprints[ADMIN]
        self.lifetime_s = lifetime_s
        self._confirmed: collections.OrderedDict[str, tuple[float, Role]] = (
            collections.OrderedDict()
        )

    async def begin(self, role: Role = ADMIN) -> str:
        """A new session id for the cookie (stored hashed; expired sessions are pruned)."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock.now()
        await self._store.commit(
            [
                PruneSessions(
                    now=now,
                    token_fingerprint=self._fingerprint,
                    also_kept=tuple(f for r, f in self._fingerprints.items() if r != ADMIN),
                ),
                SaveSession(
                    id_hash=_hash(session_id),
                    token_fingerprint=self._fingerprints[role],
                    created_at=now,
                    expires_at=now + self.lifetime_s,
                    role=role,
                ),
            ]
        )
        self._remember(_hash(session_id), now + self.lifetime_s, role)
        return session_id

    def known_role(self, session_id: str) -> Role | None:
        """The role of a session confirmed recently and not expired (no database read)."""
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return None
        confirmed = self._confirmed.get(_hash(session_id))
        if confirmed is None or confirmed[0] <= self._clock.now():
            return None
        return confirmed[1]

    def known(self, session_id: str) -> bool:
        """True when the session was confirmed recently and has not expired (no database read)."""
        return self.known_role(session_id) is not None

    async def role(self, session_id: str) -> Role | None:
        """The role of the live session ``session_id`` (granted under a token still in use)."""
        known = self.known_role(session_id)
        if known is not None:
            return known
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return None
        id_hash = _hash(session_id)
        self._confirmed.pop(id_hash, None)
        stored = await self._store.session(id_hash)
        if stored is None or stored.role not in self._fingerprints:
            return None
        role = typing.cast(Role, stored.role)
        if stored.token_fingerprint != self._fingerprints[role]:
            return None
        if stored.expires_at <= self._clock.now():
            return None
        self._remember(id_hash, stored.expires_at, role)
        return role

    async def valid(self, session_id: str) -> bool:
        """True when ``session_id`` names a live session (of either role)."""
        return await self.role(session_id) is not None

    async def end(self, session_id: str) -> None:
        """Sign out: the session no longer works, here or after a restart."""
        if not session_id or len(session_id) > _MAX_ID_LENGTH:
            return
        id_hash = _hash(session_id)
        self._confirmed.pop(id_hash, None)
        await self._store.commit([EndSession(id_hash=id_hash)])

    def _remember(self, id_hash: str, expires_at: float, role: Role) -> None:
        self._confirmed[id_hash] = (expires_at, role)
        self._confirmed.move_to_end(id_hash)
        while len(self._confirmed) > _REMEMBERED:
            self._confirmed.popitem(last=False)
