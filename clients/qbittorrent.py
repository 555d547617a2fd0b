"""qBittorrent Web API v2 client (4.x and 5.x), the first adapter of the download-client port.

The wire-level calls (``sync_maindata``, ``torrents_info``, ``torrent_files``) return qBittorrent's
views; the port's calls (``look``, ``download``, ``files``, ``delete``, ``set_file_priority``)
return the tracker's records. Also holds ``download_state``, the pure mapping from qBittorrent's
state word to the tracker's.
"""

from __future__ import annotations

import logging
import types
import typing

import attrs
import httpx
import trio
from status_tracker.clients._fields import REQUIRED, WireObject, bad_reply
from status_tracker.clients._http import ClientError, HttpService
from status_tracker.clients.download_client import (
    Download,
    DownloadFile,
    DownloadsSeen,
    DownloadState,
    FilePriority,
    TorrentNotFound,
)

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

logger = logging.getLogger(__name__)

_SERVICE: typing.Final = "qBittorrent"

ETA_INFINITE: typing.Final = 8_640_000
"""qBittorrent's ``eta`` for "infinite / not applicable" (100 days in seconds)."""

_DOWNLOAD_STATE_BY_CLIENT_STATE: typing.Final[Mapping[str, DownloadState]] = {
    "queuedDL": "queued",
    "metaDL": "downloading",
    "forcedMetaDL": "downloading",
    "downloading": "downloading",
    "forcedDL": "downloading",
    "checkingDL": "downloading",
    "stalledDL": "stalled",
    "pausedDL": "paused",
    "stoppedDL": "paused",
    "pausedUP": "completed",
    "stoppedUP": "completed",
    "uploading": "seeding",
    "stalledUP": "seeding",
    "forcedUP": "seeding",
    "queuedUP": "seeding",
    "checkingUP": "seeding",
    "missingFiles": "missing",
    "error": "error",
    "unknown": "error",
}

_STATES_OF_EITHER_DIRECTION: typing.Final = frozenset(
    {"checkingResumeData", "allocating", "moving"}
)
"""States a torrent passes through whether or not it is finished: progress decides."""


def download_state(client_state: str, progress: float) -> DownloadState:
    """Translate qBittorrent's ``state`` (4.x or 5.x spelling) into the tracker's download word.

    ``checkingResumeData``, ``allocating`` and ``moving`` also happen to finished torrents, so they
    read ``completed`` at progress 1 and ``downloading`` below it. Unknown words read ``error``.
    """
    if client_state in _STATES_OF_EITHER_DIRECTION:
        return "completed" if progress >= 1.0 else "downloading"
    return _DOWNLOAD_STATE_BY_CLIENT_STATE.get(client_state, "error")


@typing.final
class QBittorrentAuthError(ClientError):
    """qBittorrent refused the credentials (``200 Fails.`` / 401) or banned this IP (403).

    Also raised, without asking qBittorrent, by every call made while the client waits out the
    back-off that follows a refused login (see ``QBittorrentClient``).
    """


@attrs.frozen(kw_only=True)
class _Refusal:
    """The last refused login: the error every call repeats until ``until`` (trio time)."""

    message: str
    reason: str
    backoff_s: float
    until: float

    def error(self) -> QBittorrentAuthError:
        # A fresh exception per call: re-raising one instance would grow its traceback forever.
        return QBittorrentAuthError(self.message, reason=self.reason)


_PRIORITY_ON_WIRE: typing.Final[Mapping[FilePriority, int]] = {"skip": 0, "normal": 1, "high": 6}


def _priority_word(priority: int) -> FilePriority:
    """qBittorrent's 0 (skipped), 1 (normal), 6 (high) or 7 (maximum), in the tracker's words."""
    return "skip" if priority <= 0 else "normal" if priority == 1 else "high"


def _torrent(fields: object) -> WireObject:
    return WireObject(fields, service=_SERVICE, what="a torrent")


@typing.final
@attrs.frozen(kw_only=True)
class TorrentView:
    """The fields of one torrent the tracker reads, from ``torrents/info`` or ``sync/maindata``.

    ``eta`` is None when qBittorrent reports it as infinite (8640000); ``completion_on`` (Unix
    seconds) is None until the torrent has completed (5.x sends -1, 4.x sends 0).
    """

    hash: str
    name: str = ""
    progress: float = 0.0
    state: str = "unknown"
    size: int = 0
    total_size: int = 0
    amount_left: int = 0
    dlspeed: int = 0
    eta: int | None = None
    num_seeds: int = 0
    num_leechs: int = 0
    content_path: str = ""
    save_path: str = ""
    completion_on: int | None = None

    @classmethod
    def from_wire(cls, torrent_hash: str, fields: object) -> TorrentView:
        """Build a view from qBittorrent's torrent object; missing fields take their defaults.

        Raises:
            UnexpectedResponse: a field has the wrong type or an impossible value.
        """
        torrent = _torrent(fields)
        eta = torrent.integer("eta", ETA_INFINITE)
        completion_on = torrent.integer("completion_on", -1)
        return cls(
            hash=torrent_hash.lower(),
            name=torrent.text("name"),
            progress=torrent.fraction("progress"),
            state=torrent.text("state") or "unknown",
            # qBittorrent sends -1 for a size it does not know yet (a magnet without metadata).
            size=max(torrent.integer("size"), 0),
            total_size=max(torrent.integer("total_size"), 0),
            amount_left=max(torrent.integer("amount_left"), 0),
            dlspeed=max(torrent.integer("dlspeed"), 0),
            eta=None if eta >= ETA_INFINITE or eta < 0 else eta,
            num_seeds=max(torrent.integer("num_seeds"), 0),
            num_leechs=max(torrent.integer("num_leechs"), 0),
            content_path=torrent.text("content_path"),
            save_path=torrent.text("save_path"),
            completion_on=completion_on if completion_on > 0 else None,
        )

    def as_download(self) -> Download:
        """This torrent in the tracker's words."""
        return Download(
            hash=self.hash,
            name=self.name or None,
            state=download_state(self.state, self.progress),
            client_state=self.state,
            progress=self.progress,
            size=self.total_size or self.size or None,
            speed=self.dlspeed,
            eta_s=self.eta,
            size_left=self.amount_left,
            seeds=self.num_seeds,
            peers=self.num_leechs,
        )


@typing.final
@attrs.frozen(kw_only=True)
class TorrentFile:
    """One file of a torrent as ``torrents/files`` reports it.

    ``name`` is the path inside the torrent (``/``-separated, root folder included); ``priority``
    is 0 (skipped), 1 (normal), 6 (high) or 7 (maximum).
    """

    index: int
    name: str
    size: int
    progress: float
    priority: int

    @classmethod
    def from_wire(cls, fields: object) -> TorrentFile:
        """Build a file from qBittorrent's file object.

        Raises:
            UnexpectedResponse: a field is missing, has the wrong type or an impossible value.
        """
        file = WireObject(fields, service=_SERVICE, what="a torrent file")
        return cls(
            index=file.integer("index", REQUIRED, minimum=0),
            name=file.text("name", REQUIRED),
            size=file.integer("size", minimum=0),
            progress=file.fraction("progress"),
            priority=file.integer("priority", 1),
        )

    def as_download_file(self) -> DownloadFile:
        """This file in the tracker's words."""
        return DownloadFile(
            index=self.index,
            name=self.name,
            size=self.size,
            progress=self.progress,
            priority=_priority_word(self.priority),
        )


@typing.final
@attrs.frozen(kw_only=True)
class SyncResult:
    """What one ``sync/maindata`` poll changed, with every torrent currently known.

    ``changed`` holds the hashes whose ``TorrentView`` is new or differs from the previous poll (all
    hashes on a full update); ``removed`` the hashes that disappeared.
    """

    torrents: Mapping[str, TorrentView] = attrs.field(hash=False)
    changed: frozenset[str]
    removed: frozenset[str]
    full_update: bool


@attrs.define
class _MaindataCache:
    """The client-side half of qBittorrent's ``rid`` protocol: the merged torrent objects."""

    rid: int = 0
    fields_by_hash: dict[str, dict[str, typing.Any]] = attrs.Factory(dict)
    views: dict[str, TorrentView] = attrs.Factory(dict)
    downloads: dict[str, Download] = attrs.Factory(dict)

    def apply(self, body: object) -> SyncResult:
        """Merge one answer; the cache changes only when the whole answer could be read.

        Raises:
            UnexpectedResponse: the answer, or a torrent in it, does not have qBittorrent's shape.
        """
        answer = WireObject(body, service=_SERVICE, what="a sync/maindata update")
        full_update = answer.flag("full_update")
        rid = answer.integer("rid", minimum=0)
        incoming: dict[str, dict[str, typing.Any]] = {}
        for torrent_hash, fields in answer.mapping("torrents").items():
            _torrent(fields)
            incoming[torrent_hash.lower()] = dict(typing.cast("dict[str, typing.Any]", fields))
        previous_views = self.views
        if full_update:
            fields_by_hash = incoming
            removed = frozenset(previous_views.keys() - fields_by_hash.keys())
        else:
            fields_by_hash = dict(self.fields_by_hash)
            for torrent_hash, fields in incoming.items():
                fields_by_hash[torrent_hash] = {**fields_by_hash.get(torrent_hash, {}), **fields}
            removed = frozenset(_removed_hashes(answer))
            for torrent_hash in removed:
                fields_by_hash.pop(torrent_hash, None)
        views = {
            torrent_hash: (
                TorrentView.from_wire(torrent_hash, fields)
                if torrent_hash in incoming
                else previous_views[torrent_hash]
            )
            for torrent_hash, fields in fields_by_hash.items()
        }
        changed = frozenset(
            torrent_hash
            for torrent_hash in incoming.keys() & views.keys()
            if full_update or previous_views.get(torrent_hash) != views[torrent_hash]
        )
        # Translated once per change, so a look costs the changes, not every torrent held.
        self.downloads = {
            torrent_hash: (
                view.as_download()
                if torrent_hash in changed or torrent_hash not in self.downloads
                else self.downloads[torrent_hash]
            )
            for torrent_hash, view in views.items()
        }
        self.fields_by_hash, self.views, self.rid = fields_by_hash, views, rid
        return SyncResult(
            torrents=types.MappingProxyType(dict(views)),
            changed=changed,
            removed=removed,
            full_update=full_update,
        )


def _removed_hashes(answer: WireObject) -> set[str]:
    removed = set()
    for torrent_hash in answer.items("torrents_removed"):
        if not isinstance(torrent_hash, str):
            raise bad_reply(
                f"{_SERVICE} answered a removed torrent hash that is not text", torrent_hash
            )
        removed.add(torrent_hash.lower())
    return removed


@typing.final
class QBittorrentClient(HttpService):
    """Typed access to one qBittorrent Web UI, safe to share between Trio tasks.

    The first call logs in. A call answered 403 (session expired or logged out) logs in again once
    and is retried once. Use as an async context manager, or call ``aclose()``.

    A refused login (``200 Fails.`` or 401: wrong username or password; 403: qBittorrent has banned
    this address) raises ``QBittorrentAuthError``, and the credentials are not sent again until a
    back-off has passed, because qBittorrent bans an address for an hour after 5 failed logins (by
    default), and a ban refuses even the right password. The rule, in ``trio.current_time()``:

    - the first refused login waits ``FIRST_LOGIN_BACKOFF_S`` (15 minutes); each further refusal in
      a row doubles the wait, up to ``MAX_LOGIN_BACKOFF_S`` (1 hour); a ban waits the maximum at
      once (qBittorrent's default ban lasts an hour, and asking sooner cannot shorten it);
    - during the wait every call (``login()`` too) raises the same ``QBittorrentAuthError`` at once,
      without contacting qBittorrent; after it, the next call tries one login;
    - a successful login forgets every refusal.
    """

    service_name = _SERVICE
    source = "qbittorrent"
    FIRST_LOGIN_BACKOFF_S: typing.ClassVar[float] = 15 * 60.0
    MAX_LOGIN_BACKOFF_S: typing.ClassVar[float] = 60 * 60.0

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(base_url, http=http, timeout=timeout)
        self._username = username
        self._password = password
        self._login_lock = trio.Lock()
        self._successful_logins = 0
        self._refusal: _Refusal | None = None
        self._sync_lock = trio.Lock()
        self._maindata = _MaindataCache()

    def __repr__(self) -> str:
        return f"QBittorrentClient({self._shown_url!r}, username={self._username!r})"

    async def login(self) -> None:
        """Open a session.

        Raises:
            QBittorrentAuthError: the credentials or this address are refused, now or (without
                asking again) during the back-off after an earlier refusal.
        """
        async with self._login_lock:
            await self._login_holding_lock()

    async def app_version(self) -> str:
        """qBittorrent's version string, e.g. ``v4.5.2``; doubles as a reachability check."""
        response = await self._call("GET", "/api/v2/app/version")
        if response.status_code != httpx.codes.OK:
            raise self._unexpected(response)
        return response.text

    async def sync_maindata(self) -> SyncResult:
        """Poll ``sync/maindata`` with the last ``rid``; merge the answer into the cached torrents.

        A full update (first poll, new session, or an ``rid`` the server forgot) replaces the cache.
        Concurrent callers are serialised.
        """
        async with self._sync_lock:
            return await self._sync_holding_lock()

    async def _sync_holding_lock(self) -> SyncResult:
        response = await self._call(
            "GET", "/api/v2/sync/maindata", params={"rid": self._maindata.rid}
        )
        return self._maindata.apply(self._json(response, dict))

    async def torrents_info(self, hashes: Iterable[str] | None = None) -> list[TorrentView]:
        """Every torrent, or only those with the given hashes (unknown hashes are left out)."""
        params: dict[str, str] = {}
        if hashes is not None:
            wanted = list(dict.fromkeys(h.lower() for h in hashes))
            if not wanted:
                return []
            params["hashes"] = "|".join(wanted)
        response = await self._call("GET", "/api/v2/torrents/info", params=params)
        return [
            TorrentView.from_wire(_torrent(t).text("hash", REQUIRED), t)
            for t in self._json(response, list)
        ]

    async def torrent_files(self, torrent_hash: str) -> list[TorrentFile]:
        """The torrent's files (empty while metadata is missing). Raises ``TorrentNotFound``."""
        torrent_hash = torrent_hash.lower()
        response = await self._call("GET", "/api/v2/torrents/files", params={"hash": torrent_hash})
        if response.status_code == httpx.codes.NOT_FOUND:
            raise TorrentNotFound(torrent_hash, service=_SERVICE)
        return [TorrentFile.from_wire(f) for f in self._json(response, list)]

    async def look(self) -> DownloadsSeen:
        """Every torrent, through the incremental ``sync/maindata``."""
        async with self._sync_lock:
            result = await self._sync_holding_lock()
            downloads = types.MappingProxyType(dict(self._maindata.downloads))
        return DownloadsSeen(downloads=downloads, removed=result.removed)

    async def downloads(self, hashes: Iterable[str]) -> Mapping[str, Download]:
        """The torrents qBittorrent still has among ``hashes``, from one ``torrents/info``."""
        wanted = dict.fromkeys(h.lower() for h in hashes)
        views = await self.torrents_info(wanted)
        strangers = [view.hash for view in views if view.hash not in wanted]
        if strangers:
            raise bad_reply(f"{_SERVICE} answered torrents that were not asked for", strangers)
        return {view.hash: view.as_download() for view in views}

    async def files(self, torrent_hash: str) -> list[DownloadFile]:
        """The torrent's files. Raises ``TorrentNotFound``."""
        return [file.as_download_file() for file in await self.torrent_files(torrent_hash)]

    async def delete(self, hashes: Iterable[str], *, with_files: bool) -> None:
        """Remove the torrents (unknown hashes are ignored), with their data if ``with_files``."""
        wanted = list(dict.fromkeys(h.lower() for h in hashes))
        if not wanted:
            return
        response = await self._call(
            "POST",
            "/api/v2/torrents/delete",
            data={"hashes": "|".join(wanted), "deleteFiles": "true" if with_files else "false"},
        )
        if response.status_code != httpx.codes.OK:
            raise self._unexpected(response)

    async def set_file_priority(
        self, torrent_hash: str, indexes: Iterable[int], priority: FilePriority
    ) -> None:
        """Set the files' priority. Raises ``TorrentNotFound``."""
        torrent_hash = torrent_hash.lower()
        wanted = sorted(set(indexes))
        if not wanted:
            return
        response = await self._call(
            "POST",
            "/api/v2/torrents/filePrio",
            data={
                "hash": torrent_hash,
                "id": "|".join(str(index) for index in wanted),
                "priority": str(_PRIORITY_ON_WIRE[priority]),
            },
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            raise TorrentNotFound(torrent_hash, service=_SERVICE)
        if response.status_code != httpx.codes.OK:
            raise self._unexpected(response)

    async def _call(self, method: str, path: str, **kwargs: typing.Any) -> httpx.Response:
        logins_seen = self._successful_logins
        # After a refusal the session is gone too: log in (or fail fast) before the call itself.
        if logins_seen == 0 or self._refusal is not None:
            await self._login_unless_renewed_since(logins_seen)
            logins_seen = self._successful_logins
        response = await self._send(method, path, **kwargs)
        if response.status_code != httpx.codes.FORBIDDEN:
            return response
        logger.info("qBittorrent at %s answered 403; logging in again", self._shown_url)
        await self._login_unless_renewed_since(logins_seen)
        response = await self._send(method, path, **kwargs)
        if response.status_code == httpx.codes.FORBIDDEN:
            raise QBittorrentAuthError(
                f"qBittorrent at {self._shown_url} still answers 403 to {path} after a fresh login"
            )
        return response

    async def _login_unless_renewed_since(self, logins_seen: int) -> None:
        """Log in, unless another task already did since it saw ``logins_seen`` logins."""
        async with self._login_lock:
            if self._successful_logins == logins_seen:
                await self._login_holding_lock()

    async def _login_holding_lock(self) -> None:
        refusal = self._refusal
        if refusal is not None and trio.current_time() < refusal.until:
            raise refusal.error()
        response = await self._send(
            "POST",
            "/api/v2/auth/login",
            data={"username": self._username, "password": self._password},
        )
        status = response.status_code
        if status == httpx.codes.NO_CONTENT or (
            status == httpx.codes.OK and response.text == "Ok."
        ):
            self._successful_logins += 1
            self._refusal = None
            logger.debug("logged in to qBittorrent at %s as %r", self._shown_url, self._username)
            return
        if status == httpx.codes.FORBIDDEN:
            raise self._refuse(
                "has banned this address after failed logins",
                detail=f" (403: {response.text[:200]!r})",
                backoff_s=self.MAX_LOGIN_BACKOFF_S,
            )
        if status == httpx.codes.UNAUTHORIZED or (
            status == httpx.codes.OK and response.text == "Fails."
        ):
            previous = self._refusal
            raise self._refuse(
                "rejected the username or password",
                detail=f" of {self._username!r}",
                backoff_s=self.FIRST_LOGIN_BACKOFF_S
                if previous is None
                else min(previous.backoff_s * 2, self.MAX_LOGIN_BACKOFF_S),
            )
        raise self._unexpected(response)

    def _refuse(self, what: str, *, detail: str, backoff_s: float) -> QBittorrentAuthError:
        """Start the back-off after a refused login; return the error every call raises in it.

        ``what`` says what qBittorrent did, for /health; ``detail`` is added for the log only.
        """
        later = f"no login is tried for {backoff_s / 60:g} min"
        self._refusal = _Refusal(
            message=f"{_SERVICE} at {self._shown_url} {what}{detail}; {later}",
            reason=f"{_SERVICE} {what}; {later}",
            backoff_s=backoff_s,
            until=trio.current_time() + backoff_s,
        )
        return self._refusal.error()
