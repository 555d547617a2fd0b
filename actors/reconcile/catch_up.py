"""What the reconciler learns from the services' APIs, as the facts a webhook would have brought.

Pure: no I/O, no Trio. The records come from the clients; they are described here by protocols
so this module needs nothing but the domain and the message classes.

The dedupe rule lives here too (``event_identity``): a webhook and the history record of the
same event get the same identity, whichever arrives first, so the event is applied once. The
inbox matches identities across reporters only, a webhook with the reconciler's report of it
(storage's ``LATE_WEBHOOK_WINDOW_S``): two webhooks are one delivery only with one body.
"""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import ACTIVE_STATES, RequestRow, TimelineEntry

from ..media_request import messages as m

CAUGHT_UP_PREFIX: typing.Final = "caught_up_"
EVENT_KEY_PREFIX: typing.Final = "event:"

# Timeline entries that describe the request, not the event: kept as they are when caught up.
_KEPT_EVENTS = frozenset({"transition_refused", "state_derived"})


# -- records, as the clients give them -------------------------------------------------------


class _Titled(typing.Protocol):
    """What a series and a movie record share: the *arr's id, the title and the outside ids."""

    @property
    def id(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def tmdb_id(self) -> int | None: ...
    @property
    def imdb_id(self) -> str | None: ...
    @property
    def year(self) -> int | None: ...
    @property
    def is_anime(self) -> bool: ...


class Series(_Titled, typing.Protocol):
    @property
    def tvdb_id(self) -> int | None: ...


class Movie(_Titled, typing.Protocol):
    """A Radarr movie record: nothing beyond what a series has but its TVDB id."""


class Episode(typing.Protocol):
    @property
    def id(self) -> int: ...
    @property
    def season(self) -> int: ...
    @property
    def episode(self) -> int: ...
    @property
    def title(self) -> str | None: ...
    @property
    def tvdb_id(self) -> int | None: ...


class HistoryRecord(typing.Protocol):
    @property
    def id(self) -> int: ...
    @property
    def event_type(self) -> str: ...
    @property
    def date(self) -> float: ...
    @property
    def download_id(self) -> str | None: ...
    @property
    def source_title(self) -> str | None: ...
    @property
    def item_id(self) -> int | None: ...
    @property
    def data(self) -> Mapping[str, str | None]: ...
    @property
    def series(self) -> Series | None: ...
    @property
    def episode(self) -> Episode | None: ...
    @property
    def movie(self) -> Movie | None: ...


class SeerrRequest(typing.Protocol):
    @property
    def id(self) -> int: ...
    @property
    def status(self) -> int: ...
    @property
    def media_type(self) -> typing.Literal["movie", "tv"]: ...
    @property
    def media_status(self) -> int: ...
    @property
    def tmdb_id(self) -> int | None: ...
    @property
    def tvdb_id(self) -> int | None: ...
    @property
    def seasons(self) -> tuple[int, ...]: ...
    @property
    def requested_by(self) -> str | None: ...
    @property
    def season_statuses(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def media_seasons(self) -> tuple[tuple[int, int], ...] | None: ...


class SeerrTitle(typing.Protocol):
    @property
    def title(self) -> str: ...
    @property
    def year(self) -> int | None: ...
    @property
    def poster_url(self) -> str | None: ...
    @property
    def overview(self) -> str | None: ...


# -- the dedupe rule ---------------------------------------------------------------------------


def _pairs(episodes: Iterable[m.EpisodeRef]) -> str:
    return ",".join(f"{s}x{e}" for s, e in sorted({(r.season, r.episode) for r in episodes}))


def event_identity(source: str, fact: object) -> str | None:
    """The identity of the event a fact reports, the same from a webhook or a history record.

    Built from (source, event kind, download id, series, episode or movie ids, file): a grab is
    one download's grab of those episodes; an import, one download's file for those episodes at
    that path (the webhook and the history row of one import carry the same download id, or
    both none for a manual import; a re-import from another release is another event); a file
    deletion, those episodes' (or that movie's) file deletion and its reason.
    None when the fact has no identity of its own (then only identical bodies are duplicates).

    An identity names what happened, not when, so it legitimately repeats: after a file is
    deleted, Radarr and Sonarr grab the same release again (one infohash), import it to the same
    path, and that file may be deleted by hand again. Only fields a webhook and a history row of
    one event both carry can be in it, and none tells those repeats apart: a grab's webhook has
    no time, history id or file id; an import's webhook and history row share the file id
    (``movieFile.id`` / ``episodeFile.id`` and ``data.fileId``) but the facts keep only the
    path; a deletion's history row has the path and reason but no file id, and its fact neither
    path nor id. So the inbox uses the identity only between reporters, never between two
    webhooks: a webhook is a duplicate of the reconciler's report of its event made just
    before (it came late), and the reconciler's report a duplicate of the webhook (for as long
    as the reconciler may lag behind, days after a restart). Two webhooks with different
    bodies are two events; identical bodies stay one delivery for an hour.
    """
    match fact:
        case m.EpisodesGrabbed(download_hash=str(hash_)) if fact.episodes:
            series = fact.series.sonarr_id or fact.series.tvdb_id
            return f"{source}|grab|{hash_.lower()}|{series}|{_pairs(fact.episodes)}"
        case m.EpisodesImported(complete=False) if fact.episodes and len(fact.files) == 1:
            series = fact.series.sonarr_id or fact.series.tvdb_id
            download = (fact.download_hash or "").lower()
            pairs = _pairs(fact.episodes)
            return f"{source}|import|{series}|{download}|{pairs}|{fact.files[0].path}"
        case m.EpisodeFilesDeleted() if fact.episodes:
            series = fact.series.sonarr_id or fact.series.tvdb_id
            reason = (fact.reason or "").lower()
            return f"{source}|file_deleted|{series}|{_pairs(fact.episodes)}|{reason}"
        case m.MovieGrabbed(download_hash=str(hash_)):
            movie = fact.radarr_id or fact.tmdb_id
            return f"{source}|grab|{hash_.lower()}|{movie}"
        case m.MovieImported():
            movie = fact.radarr_id or fact.tmdb_id
            download = (fact.download_hash or "").lower()
            return f"{source}|import|{movie}|{download}|{fact.file.path}"
        case m.MovieDeleted(file_only=True):
            movie = fact.radarr_id or fact.tmdb_id
            return f"{source}|file_deleted|{movie}|{(fact.reason or '').lower()}"
        case m.MediaRequested(jellyseerr_request_id=int(request_id)):
            state = "approved" if fact.approved else "pending"
            seasons = ",".join(str(s) for s in sorted(set(fact.requested_seasons)))
            return f"{source}|request|{request_id}|{state}|{seasons}"
        case m.RequestDeclined(jellyseerr_request_id=int(request_id)):
            return f"{source}|declined|{request_id}"
        case m.RequestFailed(jellyseerr_request_id=int(request_id)):
            return f"{source}|request_failed|{request_id}"
    return None


def event_key(source: str, fact: object) -> str | None:
    """The inbox's event key for a fact: ``event:`` and the sha256 of its identity."""
    identity = event_identity(source, fact)
    if identity is None:
        return None
    return EVENT_KEY_PREFIX + hashlib.sha256(identity.encode()).hexdigest()


def note_key(source: str, subject: str) -> str:
    """The event key of something only the reconciler reports (a status change, a failure)."""
    return EVENT_KEY_PREFIX + hashlib.sha256(f"{source}|{subject}".encode()).hexdigest()


# -- caught-up mail ----------------------------------------------------------------------------


def caught_up_kind(event: str, message_kind: str) -> str:
    """The mail kind of a caught-up message: ``caught_up_grab:EpisodesGrabbed``."""
    return f"{event}:{message_kind}"


def split_caught_up(kind: str) -> tuple[str | None, str]:
    """(caught-up event or None, message kind) of a mail kind."""
    event, colon, message_kind = kind.partition(":")
    if colon and event.startswith(CAUGHT_UP_PREFIX) and message_kind:
        return event, message_kind
    return None, kind


def caught_up_timeline(
    entries: Sequence[TimelineEntry], event: str, service: str
) -> tuple[TimelineEntry, ...]:
    """The timeline entries of a caught-up event, told apart from live ones.

    Each entry the event itself wrote takes the caught-up event word; the word it would have had
    goes into the detail with where it came from. Entries about the request's own state
    (``state_derived``, ``transition_refused``) stay as they are.
    """
    where = f"caught up from {service.capitalize()}'s API"
    marked = []
    for entry in entries:
        if entry.event in _KEPT_EVENTS or entry.event.startswith(CAUGHT_UP_PREFIX):
            marked.append(entry)
            continue
        detail = f"{entry.event} ({where})"
        if entry.detail:
            detail = f"{detail}: {entry.detail}"
        marked.append(attrs.evolve(entry, event=event, detail=detail))
    return tuple(marked)


# -- history → facts ---------------------------------------------------------------------------


@typing.final
@attrs.frozen(kw_only=True)
class CaughtUp:
    """A fact learned from an API: routed like a webhook (``fact``), or noted on the requests
    holding ``download_hash`` (``note``, for what no webhook reports, e.g. a failed download)."""

    source: str
    event: str
    fact: object
    key: str
    last_record: int = 0
    download_hash: str | None = None


def learned(source: str, event: str, fact: object, *, last_record: int = 0) -> CaughtUp | None:
    """A fact a webhook would have brought, keyed by its event identity (None: it has none)."""
    key = event_key(source, fact)
    if key is None:
        return None
    return CaughtUp(source=source, event=event, fact=fact, key=key, last_record=last_record)


def note(
    *,
    source: str,
    event: str,
    detail: str,
    subject: str,
    download_hash: str | None = None,
    episodes: tuple[tuple[int, int], ...] = (),
    last_record: int = 0,
) -> CaughtUp:
    """Something only the reconciler reports, for the timeline: keyed by ``subject``, noted on
    the requests holding ``download_hash`` (or sent where the caller says)."""
    return CaughtUp(
        source=source,
        event=event,
        fact=m.ActionRecorded(event=event, detail=detail, episodes=episodes),
        key=note_key(source, subject),
        last_record=last_record,
        download_hash=download_hash,
    )


def _episode_ref(episode: Episode) -> m.EpisodeRef:
    return m.EpisodeRef(
        season=episode.season,
        episode=episode.episode,
        title=episode.title,
        sonarr_episode_id=episode.id,
        tvdb_id=episode.tvdb_id,
    )


def _series_ref(series: Series) -> m.SeriesRef:
    return m.SeriesRef(
        sonarr_id=series.id,
        tvdb_id=series.tvdb_id,
        tmdb_id=series.tmdb_id,
        imdb_id=series.imdb_id,
        title=series.title,
        year=series.year,
        is_anime=series.is_anime,
    )


def _movie_ids(movie: Movie) -> dict[str, typing.Any]:
    """The movie's fields a grab and an import both carry."""
    return {
        "radarr_id": movie.id,
        "tmdb_id": movie.tmdb_id,
        "imdb_id": movie.imdb_id,
        "title": movie.title,
        "year": movie.year,
        "is_anime": movie.is_anime,
    }


def _size(record: HistoryRecord) -> int | None:
    text = record.data.get("size") or ""
    return int(text) if text.isascii() and text.isdigit() else None


def _hash(record: HistoryRecord) -> str | None:
    return record.download_id.lower() if record.download_id else None


def _failed(
    source: str,
    record: HistoryRecord,
    subject: str,
    *,
    last_record: int,
    episodes: tuple[tuple[int, int], ...] = (),
) -> CaughtUp:
    """A failed download, which no webhook reports: a note for the requests holding it."""
    message = record.data.get("message") or "download failed"
    return note(
        source=source,
        event="caught_up_download_failed",
        detail=f"{record.source_title or record.download_id}: {message}",
        subject=f"failed|{_hash(record)}|{subject}",
        download_hash=_hash(record),
        episodes=episodes,
        last_record=last_record,
    )


_DELETE_REASONS = {"upgrade": "upgrade", "manual": "manual", "missingfromdisk": "missingFromDisk"}


def _delete_reason(record: HistoryRecord) -> str | None:
    return _DELETE_REASONS.get((record.data.get("reason") or "").lower())


def sonarr_facts(records: Sequence[HistoryRecord]) -> list[CaughtUp]:
    """The facts Sonarr's history rows report: rows of one download and kind are one fact.

    Grabs group by download; imports by download and imported file (a season pack imports file
    by file, as its webhooks do); failures by download; file deletions by file. Rows without
    their series or episode (a series since deleted) are skipped.
    """
    groups: dict[tuple[str, str, str], list[HistoryRecord]] = {}
    for record in records:
        if record.series is None or record.episode is None:
            continue
        match record.event_type:
            case "grabbed" if record.download_id:
                group = ("grab", record.download_id.lower(), "")
            case "downloadFolderImported":
                path = record.data.get("importedPath") or record.source_title or ""
                group = ("import", (record.download_id or "").lower(), path)
            case "downloadFailed" if record.download_id:
                group = ("failed", record.download_id.lower(), "")
            case "episodeFileDeleted":
                group = ("file_deleted", str(record.series.id), record.source_title or "")
            case _:
                continue
        groups.setdefault(group, []).append(record)
    caught: list[CaughtUp] = []
    for (kind, _download, path), rows in groups.items():
        first = rows[0]
        assert first.series is not None
        series = _series_ref(first.series)
        by_key: dict[tuple[int, int], m.EpisodeRef] = {}
        for row in rows:
            if row.episode is not None:
                ref = _episode_ref(row.episode)
                by_key[(ref.season, ref.episode)] = ref
        refs = tuple(by_key[key] for key in sorted(by_key))
        keys = tuple(sorted(by_key))
        last = max(row.id for row in rows)
        item: CaughtUp | None
        match kind:
            case "grab":
                grab = m.EpisodesGrabbed(
                    series=series,
                    episodes=refs,
                    download_hash=_hash(first),
                    release_title=first.source_title,
                    size=_size(first),
                )
                item = learned("sonarr", "caught_up_grab", grab, last_record=last)
            case "import":
                file = m.ImportedFile(
                    path=path, source_path=first.data.get("droppedPath"), episodes=keys
                )
                imported = m.EpisodesImported(
                    series=series,
                    episodes=refs,
                    files=(file,),
                    download_hash=_hash(first),
                    complete=False,
                )
                # None for an import with no file path: nothing to tell it apart by.
                item = learned("sonarr", "caught_up_import", imported, last_record=last)
            case "failed":
                subject = _pairs(refs)
                item = _failed("sonarr", first, subject, last_record=last, episodes=keys)
            case _:
                deleted = m.EpisodeFilesDeleted(
                    series=series, episodes=refs, reason=_delete_reason(first)
                )
                item = learned("sonarr", "caught_up_file_deleted", deleted, last_record=last)
        if item is not None:
            caught.append(item)
    return sorted(caught, key=lambda item: item.last_record)


def radarr_facts(records: Sequence[HistoryRecord]) -> list[CaughtUp]:
    """The facts Radarr's history rows report (one row per download and event)."""
    caught: list[CaughtUp] = []
    for record in records:
        movie = record.movie
        if movie is None:
            continue
        item: CaughtUp | None = None
        match record.event_type:
            case "grabbed" if record.download_id:
                grab = m.MovieGrabbed(
                    **_movie_ids(movie),
                    download_hash=_hash(record),
                    release_title=record.source_title,
                    size=_size(record),
                )
                item = learned("radarr", "caught_up_grab", grab, last_record=record.id)
            case "downloadFolderImported":
                path = record.data.get("importedPath") or record.source_title
                if path:
                    file = m.ImportedFile(path=path, source_path=record.data.get("droppedPath"))
                    imported = m.MovieImported(
                        **_movie_ids(movie), download_hash=_hash(record), file=file
                    )
                    item = learned("radarr", "caught_up_import", imported, last_record=record.id)
            case "downloadFailed" if record.download_id:
                item = _failed("radarr", record, str(movie.id), last_record=record.id)
            case "movieFileDeleted":
                deleted = m.MovieDeleted(
                    radarr_id=movie.id,
                    tmdb_id=movie.tmdb_id,
                    file_only=True,
                    reason=_delete_reason(record),
                )
                item = learned("radarr", "caught_up_file_deleted", deleted, last_record=record.id)
        if item is not None:
            caught.append(item)
    return caught


# -- Jellyseerr ---------------------------------------------------------------------------------

_IN_FLIGHT_MEDIA = frozenset({1, 2, 3, 4})  # unknown, pending, processing, partially available
_DONE_MEDIA = frozenset({5, 7})  # available, deleted: what completes a request in Seerr 2.6+
_PENDING, _APPROVED, _DECLINED, _FAILED, _COMPLETED = 1, 2, 3, 4, 5
_UNSTARTED = frozenset({"requested", "approved"})


@typing.final
@attrs.frozen(kw_only=True)
class SeerrPlan:
    """What one full read of Jellyseerr's requests changes in the tracker.

    ``create``: requests in flight the tracker does not know (their titles must be looked up);
    ``facts``: caught-up facts for requests it knows (approved, declined, failed, seasons added);
    ``withdrawn``: tracker requests whose Jellyseerr request is gone.
    """

    create: tuple[SeerrRequest, ...] = ()
    facts: tuple[CaughtUp, ...] = ()
    withdrawn: tuple[RequestRow, ...] = ()


def requested_fact(request: SeerrRequest, title: SeerrTitle | None) -> m.MediaRequested:
    """The MediaRequested a Jellyseerr webhook would have carried for ``request``."""
    return m.MediaRequested(
        media_type=request.media_type,
        approved=request.status != _PENDING,
        tmdb_id=request.tmdb_id,
        tvdb_id=request.tvdb_id,
        title=title.title if title else f"TMDB {request.tmdb_id}",
        year=title.year if title else None,
        poster_url=title.poster_url if title else None,
        overview=title.overview if title else None,
        jellyseerr_request_id=request.id,
        requested_seasons=request.seasons,
        requested_by=request.requested_by,
    )


def request_caught_up(fact: object) -> CaughtUp:
    """A Jellyseerr request fact, caught up (each has an identity: its Jellyseerr id)."""
    item = learned("jellyseerr", "caught_up_request", fact)
    assert item is not None
    return item


def seasons_done(request: SeerrRequest) -> bool:
    """Whether every season a TV request asked for is done, whatever the show's status says.

    ``media.status`` describes the whole show: one season nobody requested keeps it partially
    available (4) forever, and Jellyseerr before 2.6 leaves a finished request approved (2)
    for good. A requested season is done when Seerr completed its season request (2.6+) or the
    show's season itself is available, or deleted (Seerr completes a request on either).
    False when the show's seasons were not read and Seerr did not complete them all.
    """
    if request.media_type != "tv" or not request.seasons:
        return False
    done = {number for number, status in request.season_statuses if status == _COMPLETED}
    done |= {number for number, status in request.media_seasons or () if status in _DONE_MEDIA}
    return set(request.seasons) <= done


def plan_jellyseerr(listed: Sequence[SeerrRequest], known: Mapping[int, RequestRow]) -> SeerrPlan:
    """Compare every Jellyseerr request with the tracker's requests (keyed by Jellyseerr id).

    In flight (pending or approved, the media not yet available, for TV not every requested
    season done: ``seasons_done``) and unknown: create. Known: an approval, a decline, a
    failure or added seasons the tracker missed become facts. A known request missing from the
    full list was deleted in Jellyseerr: withdrawn, while active.
    """
    create: list[SeerrRequest] = []
    facts: list[CaughtUp] = []
    for request in listed:
        ours = known.get(request.id)
        if ours is None:
            in_flight = request.status in (_PENDING, _APPROVED)
            if in_flight and request.media_status in _IN_FLIGHT_MEDIA and not seasons_done(request):
                create.append(request)
            continue
        if ours.state not in ACTIVE_STATES:
            continue
        ids = {
            "media_type": request.media_type,
            "tmdb_id": request.tmdb_id,
            "tvdb_id": request.tvdb_id,
            "jellyseerr_request_id": request.id,
        }
        if request.status == _DECLINED:
            facts.append(request_caught_up(m.RequestDeclined(**ids)))
        elif request.status == _FAILED:
            facts.append(request_caught_up(m.RequestFailed(**ids, reason="failed in Jellyseerr")))
        elif request.status == _APPROVED and (
            ours.state == "requested" or not set(request.seasons) <= set(ours.requested_seasons)
        ):
            fact = m.MediaRequested(
                **ids,
                approved=True,
                title=ours.title,
                year=ours.year,
                poster_url=None,
                overview=None,
                requested_seasons=request.seasons,
                requested_by=request.requested_by,
            )
            facts.append(request_caught_up(fact))
    listed_ids = {request.id for request in listed}
    withdrawn = tuple(
        row
        for request_id, row in sorted(known.items())
        if request_id not in listed_ids and row.state in ACTIVE_STATES
    )
    return SeerrPlan(create=tuple(create), facts=tuple(facts), withdrawn=withdrawn)


def withdrawal(row: RequestRow) -> CaughtUp:
    """What a request deleted in Jellyseerr does to its tracker request.

    Nothing grabbed yet: the request is deleted. Already on its way: the download goes on (a
    person may delete the Jellyseerr request once it is in hand), and the timeline says so.
    """
    if row.state in _UNSTARTED:
        fact: object = m.RequestWithdrawn(
            detail=f"Jellyseerr request {row.jellyseerr_request_id} was deleted"
        )
    else:
        fact = m.ActionRecorded(
            event="caught_up_request_deleted",
            detail=(
                f"Jellyseerr request {row.jellyseerr_request_id} was deleted; "
                f"the request goes on ({row.state})"
            ),
        )
    key = note_key("jellyseerr", f"withdrawn|{row.jellyseerr_request_id}|{row.id}")
    return CaughtUp(source="jellyseerr", event="caught_up_request_deleted", fact=fact, key=key)
