"""Which request a webhook fact belongs to: pure rules over the candidates storage found, and
which consecutive mail rows may be correlated together.

Batching rule. A *key* is a value a look-up compares with a stored column: ``("hash", h)``
(``requests.download_hash``, ``episodes.torrent_hash``), ``("tmdb", n)``, ``("tvdb", n)``,
``("imdb", s)``, ``("arr", n)`` (``radarr_id``, ``sonarr_id``), ``("jellyseerr", n)``,
``("title", normalised)``, ``("episode", n)`` (``episodes.tvdb_id``), ``("shoko_file", n)``
(``shoko_file_id`` of a request or an episode); ``("request", id)`` names a request itself,
``("torrent", hash)`` and ``("services",)`` the other actors. A mail row *reads* its
look-up's keys and every request its look-up found (in any list, and in any state every request
holding one of its hash, episode or Shoko keys in an episode); a hand-off reads nothing. A row
*writes* the requests it is applied to, the request-level keys those hold before it
(`request_keys`), and every key its messages may store (`written_keys`). Consecutive rows are
correlated together, each against storage as it was before the first of them, as long as no
row reads a key an earlier one of them writes (`Wave`); a row reading keys that only rows
applied to one request R write is correlated against R as those rows leave it (the planner
works that out with ``decide``), and joins them when it then goes to R alone.

Why that routes every row as one-at-a-time would. A look-up compares stored columns with its
keys, then filters and orders on fields of the rows it matched, so a fact's candidates depend
only on the requests holding one of its keys. Applying a row changes only the requests it is
applied to (an actor writes its own rows alone), and leaves each of their key columns as it was
or holding one of its `written_keys` (a property test checks this for every message kind; a
request it creates holds only those). Take an earlier row A and a later row B of a wave, and a
request R that A changes. If R held one of B's keys before A, in its own columns (then that key
is among A's writes) or in an episode (then R is among B's reads), or holds one after A that it
did not hold before (then that key is among A's writes and B's keys), A and B conflict. With no
conflict R matches B neither before nor after A, so B finds the same rows with the same contents
either way; `downloads_to_join` reads only the episodes of B's ``by_media`` rows, which change
with them alone.

Why following R routes such a row B as one-at-a-time would. Every key B reads that an earlier
row of the wave writes is written by rows applied to R alone, so R is the only request B can
find that the wave changed: found against R as those rows leave it, and everything else as
stored, B finds what it would find after them. B then changes R alone, after them, in mail
order; what it reads is its look-up's keys and the requests it finds, R among them, none of
which a row of another request writes. A request the wave creates is followed under a
stand-in id above every stored one, in mail order, so "newest first" orders it as its own id
will.

New requests take their ids in mail order and one creation time per wave, and
"newest first" breaks ties by id, so they are ordered as one-at-a-time would create them.
Applying keeps the per-request order: the rows of one actor reach it in mail order, and rows
of different actors touch different rows.
"""

from __future__ import annotations

import functools
import re
import typing
import unicodedata

import attrs

from status_tracker import strict
from status_tracker.domain import ACTIVE_STATES, EpisodeRow, RequestRow

from ..media_request import messages as m

Key = tuple[object, ...]
"""A stored value a look-up compares, or an actor: see the module docstring."""


@typing.final
@attrs.frozen
class Lookup:
    """The keys under which storage is searched for a fact's requests."""

    media_type: str
    torrent_hash: str | None = None
    jellyseerr_request_id: int | None = None
    arr_id: int | None = None
    tmdb_id: int | None = None
    tvdb_id: int | None = None
    imdb_id: str | None = None
    series_title: str | None = None
    episode_tvdb_id: int | None = None
    shoko_file_id: int | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Candidates:
    """Requests storage found for a fact's keys, newest first.

    ``by_media``, ``by_title``, ``by_episode`` (an episode's own TVDB id) and
    ``by_shoko_file`` (the Shoko file Shokofin names) hold active requests only; the others
    any state.
    """

    by_hash: tuple[RequestRow, ...] = ()
    by_jellyseerr: tuple[RequestRow, ...] = ()
    by_arr: tuple[RequestRow, ...] = ()
    by_media: tuple[RequestRow, ...] = ()
    by_title: tuple[RequestRow, ...] = ()
    by_episode: tuple[RequestRow, ...] = ()
    by_shoko_file: tuple[RequestRow, ...] = ()


@typing.final
@attrs.frozen(kw_only=True)
class Route:
    """Where a fact goes: existing requests, a new one, or nowhere (with the reason)."""

    targets: tuple[int, ...] = ()
    create: bool = False
    reason: str | None = None


CREATES_REQUEST = (
    m.MediaRequested,
    m.MovieGrabbed,
    m.MovieImported,
    m.EpisodesGrabbed,
    m.EpisodesImported,
)


def lookup_for(fact: object) -> Lookup | None:
    """The keys to search for a fact, or None when the fact concerns no request."""
    match fact:
        case (
            m.MediaRequested()
            | m.RequestDeclined()
            | m.RequestFailed()
            | m.MediaReportedAvailable()
        ):
            return Lookup(
                fact.media_type,
                None,
                fact.jellyseerr_request_id,
                None,
                fact.tmdb_id,
                fact.tvdb_id,
                None,
                None,
            )
        case m.MovieGrabbed() | m.MovieImported():
            return Lookup(
                "movie",
                fact.download_hash,
                None,
                fact.radarr_id,
                fact.tmdb_id,
                None,
                fact.imdb_id,
                None,
            )
        case m.MovieDeleted():
            return Lookup("movie", arr_id=fact.radarr_id, tmdb_id=fact.tmdb_id)
        case m.EpisodesGrabbed() | m.EpisodesImported():
            return _series_lookup(fact.series, fact.download_hash)
        case m.EpisodeFilesDeleted() | m.SeriesDeleted():
            return _series_lookup(fact.series, None)
        case m.ImportBlocked():
            if fact.series is not None:
                return _series_lookup(fact.series, fact.download_hash)
            return Lookup(
                "movie", fact.download_hash, None, fact.radarr_id, fact.tmdb_id, None, None, None
            )
        case m.LibraryItemAdded():
            ids = dict(fact.provider_ids)
            shoko_file = _int(ids.get("shoko file"))
            if fact.item_type == "Movie":
                return Lookup(
                    "movie",
                    tmdb_id=_int(ids.get("tmdb")),
                    imdb_id=ids.get("imdb"),
                    shoko_file_id=shoko_file,
                )
            if fact.item_type == "Episode":
                return Lookup(
                    "tv",
                    series_title=fact.series_name,
                    episode_tvdb_id=_int(ids.get("tvdb")),
                    shoko_file_id=shoko_file,
                )
    return None


def _series_lookup(series: m.SeriesRef, torrent_hash: str | None) -> Lookup:
    return Lookup(
        "tv",
        torrent_hash=torrent_hash,
        arr_id=series.sonarr_id,
        tmdb_id=series.tmdb_id,
        tvdb_id=series.tvdb_id,
        imdb_id=series.imdb_id,
    )


def _int(value: str | None) -> int | None:
    """The id a provider id's text holds, or None when it holds none."""
    try:
        return strict.parse_id(value)
    except ValueError:
        return None


def route(fact: object, found: Candidates) -> Route:
    """Choose the request(s) a fact is applied to.

    Torrent hash first, then the *arr's id on active requests, then TMDB/TVDB on active
    requests (newest first); a grab or import matching nothing creates a request; a
    library item matching nothing is ignored (a scan never creates a request).

    Seasons. A Sonarr grab or import its hash does not place looks among the active requests
    holding its series id, then those holding its TMDB/TVDB id (newest first), and goes to the
    first whose requested seasons include every season it names; else to the first whose
    requested seasons include one of them; else to the first that asked for no season in
    particular (one Sonarr created); only when none does, to the first active request holding
    the series id (a season Sonarr grabs on its own stays with the request tracking the
    series), else to a new request. A Jellyseerr request adopts an active request no
    Jellyseerr request holds only when, for TV, every season that request asked for or knows
    whole (a pack grabbed) is among the seasons requested; episodes are not known here, so a
    request knowing no season is adopted. All of this reads fields of the candidates alone
    (the batching rule).
    """
    match fact:
        case m.MediaRequested():
            if found.by_jellyseerr:
                return _to(found.by_jellyseerr[:1])
            adoptable = [r for r in found.by_media if _adoptable(fact, r)]
            if adoptable:
                return _to(adoptable[:1])
            return Route(create=True)
        case m.RequestDeclined() | m.RequestFailed() | m.MediaReportedAvailable():
            return _first_of(found.by_jellyseerr, found.by_media) or _nowhere("no matching request")
        case m.MovieGrabbed() | m.EpisodesGrabbed() | m.MovieImported() | m.EpisodesImported():
            if isinstance(fact, (m.MovieGrabbed, m.EpisodesGrabbed)):
                linked = _active(found.by_hash)  # a finished request is never a grab's target
            else:
                linked = [r for r in found.by_hash if r.state != "deleted"]
            if linked:
                return _to(linked)
            by_series = _active(found.by_arr)
            wanted = _for_seasons(fact, [*by_series, *found.by_media])
            return _first_of(wanted, by_series) or Route(create=True)
        case m.MovieDeleted() | m.EpisodeFilesDeleted() | m.SeriesDeleted():
            linked = [r for r in found.by_arr if r.state != "deleted"]
            if linked:
                return _to(linked)
            return _first_of(found.by_media) or _nowhere("no matching request")
        case m.ImportBlocked():
            return _first_of(_active(found.by_hash), _active(found.by_arr)) or _nowhere(
                "no matching request"
            )
        case m.LibraryItemAdded():
            if found.by_shoko_file:
                # Shokofin names the file: it may be a movie filed as a series special.
                matches = found.by_shoko_file
            elif fact.item_type == "Movie":
                matches = found.by_media
            else:
                # An episode's Provider_tvdb is the episode's own id; the title is the fallback.
                matches = found.by_episode or found.by_title
            if matches:
                return _to(matches)
            return _nowhere("a library item nobody requested")
    return _nowhere(f"{type(fact).__name__} concerns no request")


def _to(rows: typing.Iterable[RequestRow]) -> Route:
    return Route(targets=tuple(row.id for row in rows))


def _first_of(*groups: typing.Sequence[RequestRow]) -> Route | None:
    for group in groups:
        if group:
            return _to(group[:1])
    return None


def _nowhere(reason: str) -> Route:
    return Route(reason=reason)


def _active(rows: typing.Iterable[RequestRow]) -> list[RequestRow]:
    return [row for row in rows if row.state in ACTIVE_STATES]


def _for_seasons(fact: object, rows: typing.Sequence[RequestRow]) -> list[RequestRow]:
    """The ``rows`` that asked for a TV grab's or import's seasons, best first: those whose
    requested seasons include all of them, then those including one, then those that asked
    for no season in particular, each group in the order given. Any other fact, or one naming
    no season, keeps every row."""
    seasons = (
        {ref.season for ref in fact.episodes}
        if isinstance(fact, (m.EpisodesGrabbed, m.EpisodesImported))
        else set()
    )
    if not seasons:
        return list(rows)
    groups: tuple[list[RequestRow], ...] = ([], [], [])
    for row in rows:
        asked = set(row.requested_seasons)
        if not asked:
            groups[2].append(row)
        elif seasons <= asked:
            groups[0].append(row)
        elif seasons & asked:
            groups[1].append(row)
    return [row for group in groups for row in group]


def _adoptable(fact: m.MediaRequested, row: RequestRow) -> bool:
    """Whether a Jellyseerr request may adopt ``row``: no Jellyseerr request holds it and, for
    TV, every season it asked for or knows whole is among the seasons requested."""
    if row.jellyseerr_request_id is not None:
        return False
    if fact.media_type != "tv" or not fact.requested_seasons:
        return True
    return {*row.requested_seasons, *row.known_seasons} <= set(fact.requested_seasons)


def same_title(a: str, b: str) -> bool:
    """Titles equal after case, accents, punctuation and spacing are ignored."""
    return normalise_title(a) == normalise_title(b)


@functools.lru_cache(maxsize=4096)  # every wave compares the titles of the requests it finds
def normalise_title(title: str) -> str:
    decomposed = unicodedata.normalize("NFKD", title)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[\W_]+", " ", plain).strip()


# -- batching ---------------------------------------------------------------------------------


def _keys(*pairs: tuple[str, object]) -> frozenset[Key]:
    return frozenset(pair for pair in pairs if pair[1] is not None)


def lookup_keys(lookup: Lookup) -> frozenset[Key]:
    """The keys a fact's look-up compares with stored columns."""
    title = normalise_title(lookup.series_title) if lookup.series_title is not None else None
    return _keys(
        ("hash", lookup.torrent_hash),
        ("jellyseerr", lookup.jellyseerr_request_id),
        ("arr", lookup.arr_id),
        ("tmdb", lookup.tmdb_id),
        ("tvdb", lookup.tvdb_id),
        ("imdb", lookup.imdb_id),
        ("title", title),
        ("episode", lookup.episode_tvdb_id),
        ("shoko_file", lookup.shoko_file_id),
    )


def request_keys(row: RequestRow) -> frozenset[Key]:
    """The keys a request holds in its own columns."""
    return _keys(
        ("hash", row.download_hash),
        ("jellyseerr", row.jellyseerr_request_id),
        ("arr", row.radarr_id),
        ("arr", row.sonarr_id),
        ("tmdb", row.tmdb_id),
        ("tvdb", row.tvdb_id),
        ("imdb", row.imdb_id),
        ("title", normalise_title(row.title)),
        ("shoko_file", row.shoko_file_id),
    )


def episode_keys(row: EpisodeRow) -> frozenset[Key]:
    """The keys an episode holds for its request."""
    return _keys(
        ("hash", row.torrent_hash),
        ("episode", row.tvdb_id),
        ("shoko_file", row.shoko_file_id),
    )


_KEEPS_KEYS = (
    m.RequestDeclined,
    m.RequestFailed,
    m.MediaReportedAvailable,
    m.MovieDeleted,
    m.EpisodeFilesDeleted,
    m.SeriesDeleted,
    m.ImportBlocked,
    m.LibraryItemAdded,
    m.WebhookTested,
    m.UnhandledEvent,
    m.DownloadProgressed,
    m.AvailabilityConfirmed,
    m.AvailabilityUnconfirmed,
    m.DeletionRequested,
    m.ActionRecorded,
    m.CheckRequested,
    m.RequestWithdrawn,
)


def written_keys(message: object) -> frozenset[Key] | None:
    """Every key applying ``message`` to a request may store, or None for a message of a kind
    this does not know (it may store any)."""
    match message:
        case m.MediaRequested():
            return _keys(
                ("tmdb", message.tmdb_id),
                ("tvdb", message.tvdb_id),
                ("jellyseerr", message.jellyseerr_request_id),
                ("title", normalise_title(message.title)),
            )
        case m.MovieGrabbed() | m.MovieImported():
            return _keys(
                ("hash", message.download_hash),
                ("arr", message.radarr_id),
                ("tmdb", message.tmdb_id),
                ("imdb", message.imdb_id),
                ("title", normalise_title(message.title)),
            )
        case m.EpisodesGrabbed() | m.EpisodesImported():
            series = message.series
            return _keys(
                ("hash", message.download_hash),
                ("arr", series.sonarr_id),
                ("tmdb", series.tmdb_id),
                ("tvdb", series.tvdb_id),
                ("imdb", series.imdb_id),
                ("title", normalise_title(series.title)),
            ) | _episode_ids(message.episodes)
        case m.DownloadJoined():
            return _keys(("hash", message.hash)) | _episode_ids(message.episodes)
        case m.EpisodesListed():
            return _keys(("arr", message.sonarr_id)) | _episode_ids(message.episodes)
        case m.ShokoFileReported():
            return _keys(("shoko_file", message.file_id))
        case _ if isinstance(message, _KEEPS_KEYS):
            return frozenset()
    return None


def _episode_ids(refs: typing.Iterable[m.EpisodeRef]) -> frozenset[Key]:
    return _keys(*(("episode", ref.tvdb_id) for ref in refs))


@typing.final
@attrs.frozen(kw_only=True)
class Footprint:
    """What routing a mail row reads, and what applying it may write (None: any key)."""

    reads: frozenset[Key] = frozenset()
    writes: frozenset[Key] | None = frozenset()


def read_keys(lookup: Lookup, found: Candidates, owners: typing.Iterable[int]) -> frozenset[Key]:
    """What routing a fact reads: its look-up's keys, the requests the look-up found, and the
    ``owners`` (every request holding one of its hash, episode or Shoko keys, any state)."""
    found_ids = {row.id for group in attrs.astuple(found, recurse=False) for row in group}
    return lookup_keys(lookup) | {("request", request_id) for request_id in {*found_ids, *owners}}


def writes_of(
    targets: typing.Iterable[tuple[int, RequestRow | None]], messages: typing.Iterable[object]
) -> frozenset[Key] | None:
    """What applying ``messages`` to the ``(id, row before, if stored)`` targets may write."""
    written: set[Key] = set()
    for request_id, row in targets:
        written.add(("request", request_id))
        if row is not None:
            written |= request_keys(row)
    for message in messages:
        keys = written_keys(message)
        if keys is None:
            return None
        written |= keys
    return frozenset(written)


@typing.final
@attrs.define
class Wave:
    """Rows correlated together so far, in mail order: each key they may write, with the
    request each row writing it is applied to (None: a row applied to no single request)."""

    writers: dict[Key, set[int | None]] = attrs.field(factory=dict)
    anything: bool = False

    def waits_for(self, footprint: Footprint) -> frozenset[int | None]:
        """The requests whose rows in the wave write a key the next row reads (None among them:
        a row applied to no single request, or one that may write any key). Empty: the next
        row is correlated as storage was before the wave."""
        if not footprint.reads:
            return frozenset()
        if self.anything:
            return frozenset({None})
        return frozenset(writer for key in footprint.reads for writer in self.writers.get(key, ()))

    def add(self, footprint: Footprint, *, applied_to: int | None = None) -> bool:
        """Take in the next row (applied to the request ``applied_to`` alone, if not None)
        unless it reads a key an earlier one writes; whether it did."""
        if self.waits_for(footprint):
            return False
        self.take(footprint, applied_to=applied_to)
        return True

    def take(self, footprint: Footprint, *, applied_to: int | None = None) -> None:
        """Take in the next row, correlated against the requests as the wave leaves them."""
        if footprint.writes is None:
            self.anything = True
            return
        for key in footprint.writes:
            self.writers.setdefault(key, set()).add(applied_to)


_DOWNLOADING = ("grabbing", "downloading", "downloaded")


def downloads_to_join(
    fact: m.MediaRequested,
    others: typing.Iterable[RequestRow],
    episodes: typing.Mapping[int, typing.Sequence[EpisodeRow]],
    names: typing.Mapping[str, str | None] | None = None,
) -> tuple[m.DownloadJoined, ...]:
    """A new request for media another active request (``others``, newest first, with their
    ``episodes`` by request id) is downloading joins that download, named as ``names`` has it
    by hash (its release title: it tells a season pack from a multi-episode release)."""
    names = names or {}
    for other in others:
        if fact.media_type == "movie":
            if other.download_hash and other.state in _DOWNLOADING:
                return (
                    m.DownloadJoined(hash=other.download_hash, name=names.get(other.download_hash)),
                )
            continue
        by_hash: dict[str, list[m.EpisodeRef]] = {}
        for episode in episodes.get(other.id, ()):
            wanted = not fact.requested_seasons or episode.season in fact.requested_seasons
            if wanted and episode.torrent_hash and episode.state in _DOWNLOADING:
                by_hash.setdefault(episode.torrent_hash, []).append(
                    m.EpisodeRef(
                        season=episode.season, episode=episode.episode, title=episode.title
                    )
                )
        if by_hash:
            return tuple(
                m.DownloadJoined(
                    hash=torrent_hash, name=names.get(torrent_hash), episodes=tuple(refs)
                )
                for torrent_hash, refs in sorted(by_hash.items())
            )
    return ()
