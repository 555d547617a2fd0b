"""What a request does with each message: a pure function from (state, message) to a decision.

No I/O and no Trio here; the RequestActor persists and publishes what ``decide`` returns.
"""

from __future__ import annotations

import itertools
import typing
from collections import Counter
from collections.abc import Iterable, Mapping

import attrs

from status_tracker import strict
from status_tracker.domain import STATE_RANK, EpisodeRow, ReleaseFacts, RequestRow, TimelineEntry

from ..torrent.messages import DownloadClaimed
from ..torrent.release import ReleaseType, classify_release, parse_episode_tokens
from . import messages as m
from .transitions import (
    Judgement,
    Verdict,
    derive_request_state,
    episode_download_target,
    is_past,
    judge,
)

EpisodeKey = tuple[int, int]

WHOLE_FILE_STATES = ("downloaded", "importing", "anime_matching", "available")
"""States in which an item's file is complete: its progress reads 100 from then on (an imported
file is a whole file, whatever the download's last poll said)."""


@typing.final
@attrs.frozen(kw_only=True)
class RequestState:
    """Everything one RequestActor owns: its request row and its episodes."""

    request: RequestRow
    episodes: Mapping[EpisodeKey, EpisodeRow] = attrs.field(factory=dict)


@typing.final
@attrs.frozen(kw_only=True)
class Decision:
    """The outcome of one message: the new state and what to persist and hand on."""

    state: RequestState | None
    request_changed: bool = False
    episodes_changed: tuple[EpisodeRow, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    claims: tuple[DownloadClaimed, ...] = ()
    deletions: tuple[m.DeletionSyncWanted, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(
            self.request_changed
            or self.episodes_changed
            or self.timeline
            or self.claims
            or self.deletions
        )


def decide(
    state: RequestState | None,
    message: m.RequestMessage,
    *,
    request_id: int,
    now: float,
    source: str,
) -> Decision:
    """Apply one message to a request (``state`` None: the request does not exist yet)."""
    draft = _Draft(state, request_id=request_id, now=now, source=source)
    handler = _HANDLERS.get(type(message))
    if handler is not None:
        handler(draft, message)
    return draft.finish()


class _Draft:
    """A request being changed by one message; collects the effects as it goes."""

    def __init__(self, state: RequestState | None, *, request_id: int, now: float, source: str):
        self.request_id = request_id
        self.now = now
        self.source = source
        self.request: RequestRow | None = state.request if state else None
        self.episodes: dict[EpisodeKey, EpisodeRow] = dict(state.episodes) if state else {}
        self.request_changed = False
        self.changed_keys: set[EpisodeKey] = set()
        self.timeline: list[TimelineEntry] = []
        self.claims: list[DownloadClaimed] = []
        self.deletions: list[m.DeletionSyncWanted] = []

    # -- the request ---------------------------------------------------------------------

    def create(self, event: str, **fields: typing.Any) -> RequestRow:
        state = fields.pop("state")
        self.request = RequestRow(
            id=self.request_id,
            state=state,
            created_at=self.now,
            updated_at=self.now,
            last_change_at=self.now,
            **fields,
        )
        self.request_changed = True
        self.note(event, to_state=state)
        return self.request

    def update(self, **fields: typing.Any) -> None:
        request = self.request
        assert request is not None
        # Most updates repeat what the row holds; copying its thirty fields to learn that was
        # a tenth of applying a webhook.
        if all(getattr(request, name) == value for name, value in fields.items()):
            return
        self.request = attrs.evolve(request, **fields)
        self.request_changed = True

    def fill(self, **fields: typing.Any) -> None:
        """Set fields that are still unknown, keeping what is already there."""
        assert self.request is not None
        self.update(
            **{
                name: value
                for name, value in fields.items()
                if value not in (None, "", ()) and getattr(self.request, name) in (None, "", ())
            }
        )

    def move(
        self,
        target: str,
        event: str,
        *,
        detail: str | None = None,
        backward_reason: str | None = None,
    ) -> bool:
        assert self.request is not None
        current = self.request.state
        judgement = judge(current, target, backward_reason=backward_reason)
        if judgement.verdict is Verdict.SAME:
            return False
        if judgement.verdict is Verdict.REFUSE:
            self.refuse(current, target, judgement.reason)
            return False
        self._set_request_state(target)
        self.note(
            event, from_state=current, to_state=target, detail=_with_reason(detail, judgement)
        )
        return True

    def _set_request_state(self, target: str) -> None:
        assert self.request is not None
        fields: dict[str, typing.Any] = {"state": target, "last_change_at": self.now}
        if target == "available":
            fields["available_at"] = self.now
        if target in WHOLE_FILE_STATES:
            fields["progress"] = 100.0
        self.update(**fields)

    def refuse(
        self,
        current: str,
        target: str,
        reason: str | None,
        key: EpisodeKey | None = None,
    ) -> None:
        self.note(
            "transition_refused",
            from_state=current,
            to_state=target,
            detail=reason,
            key=key,
        )

    def note(
        self,
        event: str,
        *,
        from_state: str | None = None,
        to_state: str | None = None,
        detail: str | None = None,
        key: EpisodeKey | None = None,
    ) -> None:
        self.timeline.append(
            TimelineEntry(
                request_id=self.request_id,
                at=self.now,
                source=self.source,
                event=event,
                from_state=from_state,
                to_state=to_state,
                season=key[0] if key else None,
                episode=key[1] if key else None,
                detail=detail,
            )
        )

    def claim(
        self,
        torrent_hash: str | None,
        name: str | None,
        keys: Iterable[EpisodeKey],
        release: ReleaseFacts | None = None,
    ) -> None:
        if torrent_hash:
            self.claims.append(
                DownloadClaimed(
                    hash=torrent_hash,
                    request_id=self.request_id,
                    name=name,
                    episodes=tuple(sorted(keys)),
                    release=release,
                )
            )

    def know_seasons(self, seasons: Iterable[int]) -> None:
        """These seasons' episode lists are known whole (listed, a pack, or reported)."""
        assert self.request is not None
        known = tuple(sorted(set(self.request.known_seasons) | set(seasons)))
        self.update(known_seasons=known)

    # -- episodes ------------------------------------------------------------------------

    def episode(self, ref: m.EpisodeRef) -> EpisodeRow:
        """The episode named by ``ref``, created as pending if new; ids and title refreshed."""
        key = (ref.season, ref.episode)
        row = self.episodes.get(key) or EpisodeRow(
            request_id=self.request_id,
            season=ref.season,
            episode=ref.episode,
            updated_at=self.now,
            last_change_at=self.now,
        )
        refreshed = attrs.evolve(
            row,
            title=ref.title or row.title,
            sonarr_episode_id=ref.sonarr_episode_id or row.sonarr_episode_id,
            tvdb_id=ref.tvdb_id or row.tvdb_id,
        )
        self.put_episode(refreshed, changed=key not in self.episodes or refreshed != row)
        return refreshed

    def put_episode(self, row: EpisodeRow, *, changed: bool = True) -> None:
        self.episodes[row.key] = row
        if changed:
            self.changed_keys.add(row.key)

    def edit_episode(self, key: EpisodeKey, **fields: typing.Any) -> EpisodeRow:
        row = self.episodes[key]
        updated = attrs.evolve(row, **fields)
        if updated != row:
            self.put_episode(updated)
        return updated

    def move_episode(
        self,
        key: EpisodeKey,
        target: str,
        event: str,
        *,
        detail: str | None = None,
        backward_reason: str | None = None,
        lost_only_its_file: bool = False,
    ) -> bool:
        row = self.episodes[key]
        judgement = judge(
            row.state,
            target,
            backward_reason=backward_reason,
            lost_only_its_file=lost_only_its_file,
        )
        if judgement.verdict is Verdict.SAME:
            return False
        if judgement.verdict is Verdict.REFUSE:
            self.refuse(row.state, target, judgement.reason, key)
            return False
        fields: dict[str, typing.Any] = {"state": target, "last_change_at": self.now}
        if target in WHOLE_FILE_STATES:
            fields["progress"] = 100.0
        self.edit_episode(key, **fields)
        self.note(
            event,
            from_state=row.state,
            to_state=target,
            detail=_with_reason(detail, judgement),
            key=key,
        )
        return True

    # -- the outcome ---------------------------------------------------------------------

    def finish(self) -> Decision:
        if self.request is None:
            return Decision(state=None)
        if self.request.media_type == "tv" and self.episodes:
            self._derive_from_episodes()
        changed_episodes = tuple(
            attrs.evolve(self.episodes[key], updated_at=self.now)
            for key in sorted(self.changed_keys)
        )
        for row in changed_episodes:
            self.episodes[row.key] = row
        if self.request_changed or changed_episodes or self.timeline:
            self.update(updated_at=self.now)
        return Decision(
            state=RequestState(request=self.request, episodes=self.episodes),
            request_changed=self.request_changed,
            episodes_changed=changed_episodes,
            timeline=tuple(self.timeline),
            claims=tuple(self.claims),
            deletions=tuple(self.deletions),
        )

    def _derive_from_episodes(self) -> None:
        """The request's state from all its episodes, and its progress from those not deleted
        for good. A deleted request stays deleted.

        An episode that lost only its file (Sonarr deleted the file, not for an upgrade: see
        ``_lost_only_its_file``) is still wanted: it counts as pending, waiting to be grabbed
        again, at 0 %. So a request whose files Sonarr deleted goes back to an active waiting
        state (``approved``, or ``partially_available`` beside available episodes), where a new
        grab finds it, the reason on the timeline. Every episode deleted for good (through the
        API; a series deleted in Sonarr deletes the request itself): the request is deleted.
        Some deleted for good: it derives from the others.
        """
        request = self.request
        assert request is not None
        rows = list(self.episodes.values())
        waiting = [row for row in rows if _lost_only_its_file(request, row)]
        live = [row for row in rows if row.state != "deleted"]
        derived = derive_request_state(
            ("pending" if _lost_only_its_file(request, row) else row.state for row in rows),
            request.state,
            seasons_unknown=bool(set(request.requested_seasons) - set(request.known_seasons)),
        )
        if derived != request.state and request.state != "deleted":
            previous = request.state
            self._set_request_state(derived)
            self.note(
                "state_derived",
                from_state=previous,
                to_state=derived,
                detail=self._derived_detail(live, waiting, previous, derived),
            )
        if live or waiting:
            # A TV request's progress is its episodes' mean, whatever state it derived; an
            # episode waiting to be grabbed again has nothing of its next file yet.
            total = sum(row.progress for row in live)
            progress = round(total / (len(live) + len(waiting)), 2)
            self.update(progress=progress)

    def _derived_detail(
        self, live: list[EpisodeRow], waiting: list[EpisodeRow], previous: str, derived: str
    ) -> str | None:
        """Why the request's derived state changed: every episode deleted, files this message
        deleted in Sonarr (the episodes now waiting to be grabbed again), or the episodes now
        least advanced when it went back (one waiting to be grabbed again reads pending)."""
        if derived == "deleted":
            return _EVERY_EPISODE_DELETED
        lost_now = [row.key for row in waiting if row.key in self.changed_keys]
        if lost_now:
            named = sorted(row.key for row in waiting)
            verb = "waits" if len(named) == 1 else "wait"
            return f"{_FILES_DELETED}: {episode_span(named)} {verb} to be grabbed again"
        pending_again = [attrs.evolve(row, state="pending") for row in waiting]
        return _held_back_by([*live, *pending_again], previous, derived)


_EVERY_EPISODE_DELETED = "every episode was deleted"
_FILES_DELETED = "its files were deleted in Sonarr"


def _with_reason(detail: str | None, judgement: Judgement) -> str | None:
    """The entry's detail, keeping the reason a backward move was allowed."""
    if detail and judgement.reason:
        return f"{judgement.reason}: {detail}"
    return detail or judgement.reason


def _held_back_by(live: Iterable[EpisodeRow], previous: str, derived: str) -> str | None:
    """Why a request's derived state went back: the episodes now least advanced."""
    known = previous in STATE_RANK and derived in STATE_RANK
    if not known or STATE_RANK[derived] >= STATE_RANK[previous]:
        return None
    in_progress = [row for row in live if row.state in STATE_RANK and row.state != "available"]
    if not in_progress:
        return None
    least = min(STATE_RANK[row.state] for row in in_progress)
    laggards = sorted(row.key for row in in_progress if STATE_RANK[row.state] == least)
    state = next(row.state for row in in_progress if STATE_RANK[row.state] == least)
    named = ", ".join(f"S{season:02d}E{episode:02d}" for season, episode in laggards[:3])
    more = f" and {len(laggards) - 3} more" if len(laggards) > 3 else ""
    return f"held back by {named}{more} ({state})"


def _media_requested(draft: _Draft, fact: m.MediaRequested) -> None:
    state = "approved" if fact.approved else "requested"
    if draft.request is None:
        draft.create(
            state,
            media_type=fact.media_type,
            title=fact.title,
            year=fact.year,
            tmdb_id=fact.tmdb_id,
            tvdb_id=fact.tvdb_id,
            jellyseerr_request_id=fact.jellyseerr_request_id,
            poster_url=fact.poster_url,
            overview=fact.overview,
            requested_seasons=tuple(sorted(set(fact.requested_seasons))),
            source="jellyseerr",
            requested_by=fact.requested_by,
            requested_at=draft.now,
            state=state,
        )
        return
    adopted = draft.request.jellyseerr_request_id is None and fact.jellyseerr_request_id is not None
    draft.fill(
        jellyseerr_request_id=fact.jellyseerr_request_id,
        tmdb_id=fact.tmdb_id,
        tvdb_id=fact.tvdb_id,
        year=fact.year,
        poster_url=fact.poster_url,
        overview=fact.overview,
        requested_by=fact.requested_by,
    )
    if adopted or draft.request.requested_at is None:
        draft.update(requested_at=draft.request.requested_at or draft.now)
    seasons = tuple(sorted(set(draft.request.requested_seasons) | set(fact.requested_seasons)))
    draft.update(requested_seasons=seasons)
    if adopted:
        draft.note("request_adopted", detail=f"Jellyseerr request {fact.jellyseerr_request_id}")
    if fact.approved and draft.request.state == "requested":
        draft.move("approved", "approved")


def _declined(draft: _Draft, fact: m.RequestDeclined) -> None:
    """Declined in Jellyseerr: the request fails, unless its files are already under way (see
    ``_jellyseerr_gave_up``)."""
    _jellyseerr_gave_up(draft, "declined", "declined in Jellyseerr")


def _request_failed(draft: _Draft, fact: m.RequestFailed) -> None:
    """Jellyseerr could not hand the request on: as a decline (see ``_jellyseerr_gave_up``)."""
    reason = fact.reason or "failed in Jellyseerr"
    _jellyseerr_gave_up(draft, "request_failed", reason)


def _jellyseerr_gave_up(draft: _Draft, event: str, detail: str) -> None:
    """Jellyseerr declined the request or failed to send it on: the facts of the files win.

    A request nothing was grabbed for yet (requested or approved, no episode past pending, none
    waiting to be grabbed again after Sonarr deleted its file) fails. Once Radarr/Sonarr grabbed
    it, they go on whatever Jellyseerr says, so the request keeps following its download,
    import and library: the move to failed is refused and recorded on the timeline with the
    reason (and counted with every refusal), so the page says it was declined while it still
    became available. A request that did fail (declined before its grab was known) is moved on
    by its import or library add all the same.
    """
    request = draft.request
    if request is None:
        return
    if request.state in ("failed", "deleted"):
        draft.move("failed", event, detail=detail)  # nothing new, or refused: deleted
        return
    under_way = (
        request.state not in ("requested", "approved")
        or any(row.state not in ("pending", "deleted") for row in draft.episodes.values())
        or _waits_to_be_grabbed_again(draft)
    )
    if not under_way:
        draft.move("failed", event, detail=detail)
        return
    arr = "Sonarr" if request.media_type == "tv" else "Radarr"
    draft.refuse(
        request.state,
        "failed",
        f"{detail}, but {arr} already has it ({request.state}): its files are still followed",
    )


_REPORTED_AVAILABLE = "Jellyseerr reports it available"


def _reported_available(draft: _Draft, fact: m.MediaReportedAvailable) -> None:
    """Jellyseerr found the request's media in Jellyfin: evidence like a Jellyfin ItemAdded.

    A movie becomes available. Jellyseerr reports a TV request available once every season it
    asked for is in Jellyfin (the request's seasons; every season it holds episodes of when it
    names none). Of the episodes of those seasons:

    - imported ones (``importing``, ``anime_matching``) become available: their file is the one
      Jellyfin holds;
    - ones not imported yet (pending, grabbing, downloading, downloaded) stay as they are,
      counted on the timeline entry: the copy Jellyseerr counted is not the one still on its
      way, and their own import and the library (or the verifier) tell when that one is there;
    - failed and deleted ones stay: Jellyseerr counts a season's episodes, not this file;
    - episodes nobody named are not invented; the seasons count as known whole from now on, so
      the request derives from the episodes it holds.

    One ``reported_available`` entry says so, when the report changed anything (a report that
    moves nothing about seasons already known whole, such as the same report again, adds none).

    A TV request holding no episodes at all (nothing grabbed or listed) becomes available
    itself, as a movie does: its seasons are all it waits for, and Jellyseerr found them.
    """
    request = draft.request
    if request is None:
        return
    seasons = set(request.requested_seasons) or {season for season, _ in draft.episodes}
    known_before = request.known_seasons
    if request.media_type == "tv":
        # Jellyseerr knows the seasons whole: what is available is all there is to wait for.
        draft.know_seasons(seasons)
    if request.media_type == "movie" or not draft.episodes:
        draft.move("available", "reported_available", detail=_REPORTED_AVAILABLE)
        return
    moved = waiting = 0
    for key, row in sorted(draft.episodes.items()):
        if key[0] not in seasons:
            continue
        if row.state in ("importing", "anime_matching"):
            draft.move_episode(key, "available", "reported_available", detail=_REPORTED_AVAILABLE)
            moved += 1
        elif row.state in STATE_RANK and row.state != "available":
            waiting += 1
    if not moved and draft.request.known_seasons == known_before:
        return  # nothing new: the same report again
    named = ", ".join(str(season) for season in sorted(seasons))
    detail = f"Jellyseerr reports season{'s' if len(seasons) > 1 else ''} {named} available"
    if waiting:
        detail += f"; {waiting} episode(s) not imported yet wait for their own import"
    draft.note("reported_available", detail=detail)


def _ensure_movie_request(draft: _Draft, fact: m.MovieGrabbed | m.MovieImported) -> None:
    """A Radarr event for a movie nobody requested creates its request; ids are filled in."""
    if draft.request is None:
        draft.create(
            "created_by_radarr",
            media_type="movie",
            title=fact.title,
            year=fact.year,
            tmdb_id=fact.tmdb_id,
            imdb_id=fact.imdb_id,
            radarr_id=fact.radarr_id,
            is_anime=fact.is_anime,
            source="radarr",
            state="approved",
        )
    assert draft.request is not None
    draft.fill(radarr_id=fact.radarr_id, imdb_id=fact.imdb_id, tmdb_id=fact.tmdb_id, year=fact.year)
    draft.update(is_anime=draft.request.is_anime or fact.is_anime)


def _movie_grabbed(draft: _Draft, fact: m.MovieGrabbed) -> None:
    _ensure_movie_request(draft, fact)
    assert draft.request is not None
    previous_hash = draft.request.download_hash
    draft.fill(poster_url=fact.poster_url, overview=fact.overview)
    new_release = bool(fact.download_hash and previous_hash and fact.download_hash != previous_hash)
    if fact.download_hash:
        draft.update(download_hash=fact.download_hash)
    if new_release:
        draft.update(progress=0.0)
    draft.move(
        "grabbing",
        "grabbed",
        detail=fact.release_title,
        backward_reason="a new release was grabbed" if new_release else None,
    )
    draft.claim(fact.download_hash, fact.release_title, (), fact.release)


def _movie_imported(draft: _Draft, fact: m.MovieImported) -> None:
    _ensure_movie_request(draft, fact)
    assert draft.request is not None
    draft.fill(download_hash=fact.download_hash)
    draft.update(final_path=fact.file.path)
    if draft.request.state == "available" and fact.is_upgrade:
        draft.note("upgraded", detail=fact.file.path)
        return
    target = "anime_matching" if draft.request.is_anime else "importing"
    same_release = fact.download_hash in (None, draft.request.download_hash)
    if same_release and _imported_already(draft.request.state, target):
        return  # Radarr told us again about an import we already moved past.
    # A failed request (declined in Jellyseerr before its grab was known) moves on: the file is
    # there. A deleted one refuses, recorded.
    draft.move(target, "imported", detail=fact.file.path)


def _movie_deleted(draft: _Draft, fact: m.MovieDeleted) -> None:
    if draft.request is None:
        return
    if fact.file_only and fact.reason == "upgrade":
        draft.note("file_replaced", detail="file deleted for an upgrade")
        return
    draft.move("deleted", "file_deleted" if fact.file_only else "deleted", detail=fact.reason)


def _series_fields(series: m.SeriesRef) -> dict[str, typing.Any]:
    return {
        "sonarr_id": series.sonarr_id,
        "tvdb_id": series.tvdb_id,
        "tmdb_id": series.tmdb_id,
        "imdb_id": series.imdb_id,
        "year": series.year,
        "poster_url": series.poster_url,
    }


def _ensure_series_request(draft: _Draft, series: m.SeriesRef) -> None:
    if draft.request is None:
        draft.create(
            "created_by_sonarr",
            media_type="tv",
            title=series.title,
            is_anime=series.is_anime,
            source="sonarr",
            state="approved",
            **_series_fields(series),
        )
    assert draft.request is not None
    draft.fill(**_series_fields(series))
    # Sonarr renames a series' slug with its title: the latest one names the page.
    draft.update(
        is_anime=draft.request.is_anime or series.is_anime,
        sonarr_slug=series.title_slug or draft.request.sonarr_slug,
    )


def _episodes_grabbed(draft: _Draft, fact: m.EpisodesGrabbed) -> None:
    _ensure_series_request(draft, fact.series)
    draft.know_seasons(_pack_seasons(fact.release_title, fact.episodes))
    _link_episodes(
        draft, fact.download_hash, fact.release_title, fact.episodes, "grabbed", fact.release
    )


_PACKS = (ReleaseType.SEASON_PACK, ReleaseType.MULTI_SEASON_PACK, ReleaseType.BATCH)


def _pack_seasons(title: str | None, refs: Iterable[m.EpisodeRef]) -> set[int]:
    """The seasons a release holds whole: those it holds several episodes of, when it is a pack.

    Sonarr names every episode a pack holds, so a season pack makes its season known whole. A
    multi-episode release (``S02E01E02``, ``S02E01-02``: several episodes in one file) holds
    several episodes of a season too and is no pack: the other episodes of that season are still
    to come. The release parser tells them apart by the title: one naming a season and no
    episode, several seasons, ``Batch``/``Complete`` or an absolute range is a pack; one naming
    episodes is not.
    """
    several = {season for season, count in Counter(ref.season for ref in refs).items() if count > 1}
    if not several:
        return set()
    named = parse_episode_tokens(title or "")
    if not (named.seasons or named.episodes or named.absolute or named.is_batch):
        # The title names no season and no episode (or there is none: a joined download comes
        # without one). Nothing better is known: Sonarr's Grab carries no releaseType and the
        # torrent's files are not known yet. Several episodes of a season in one release are
        # read as a pack, which they most often are; a season whose episode list Sonarr's API
        # gives (EpisodesListed) is known whole by that list anyway.
        return several
    return several if classify_release(title or "", ()) in _PACKS else set()


def _lost_only_its_file(request: RequestRow, row: EpisodeRow) -> bool:
    """Whether a deleted episode lost only its file, so that a new grab of it brings it back.

    Sonarr deleting an episode's file (``EpisodeFilesDeleted``, not for an upgrade) deletes the
    episode here and keeps its ``final_path``, the file it lost. Deleting the episode itself
    does not: through the API it clears ``final_path`` (see ``_deletion_requested``), and a
    series deleted in Sonarr, or a whole request through the API, deletes the request. An
    episode whose import was never seen names no file: nothing tells a file it lost from the
    episode deleted, so it is not brought back.
    """
    return row.state == "deleted" and row.final_path is not None and request.state != "deleted"


def _waits_to_be_grabbed_again(draft: _Draft) -> bool:
    """Whether an episode of the request lost only its file: it was grabbed and imported, and
    waits for Sonarr to grab it again (the request reads ``approved`` while nothing else of it
    is under way, yet it is no request nothing was grabbed for)."""
    request = draft.request
    assert request is not None
    return any(_lost_only_its_file(request, row) for row in draft.episodes.values())


def _link_episodes(
    draft: _Draft,
    torrent_hash: str | None,
    name: str | None,
    refs: Iterable[m.EpisodeRef],
    event: str,
    release: ReleaseFacts | None = None,
) -> None:
    """Link the episodes ``refs`` names to the download ``torrent_hash``: each is grabbing.

    An episode on another download moves back to grabbing at 0 % (a new release was grabbed:
    a backward move, with that reason). A deleted episode that lost only its file (see
    ``_lost_only_its_file``) is grabbed again, at 0 %, with that reason. Any other deleted
    episode refuses the grab (recorded on the timeline) and stays as it was, not linked; when
    every episode refused, nothing is claimed.
    """
    assert draft.request is not None
    keys = []
    refused = False
    for ref in refs:
        row = draft.episode(ref)
        again = _lost_only_its_file(draft.request, row)
        if row.state == "deleted" and not again:
            draft.move_episode(row.key, "grabbing", event, detail=name)  # refused, recorded
            refused = True
            continue
        new_release = bool(torrent_hash and row.torrent_hash and row.torrent_hash != torrent_hash)
        if torrent_hash:
            draft.edit_episode(row.key, torrent_hash=torrent_hash)
        if new_release or again:
            draft.edit_episode(row.key, progress=0.0)
        if again:  # the file it lost is no longer its file; its import names the next
            draft.edit_episode(row.key, final_path=None)
        draft.move_episode(
            row.key,
            "grabbing",
            event,
            detail=name,
            backward_reason="a new release was grabbed" if new_release else None,
            lost_only_its_file=again,
        )
        keys.append(row.key)
    if keys or not refused:
        draft.claim(torrent_hash, name, keys, release)


def _episodes_imported(draft: _Draft, fact: m.EpisodesImported) -> None:
    _ensure_series_request(draft, fact.series)
    assert draft.request is not None
    paths: dict[EpisodeKey, str] = {}
    for imported in fact.files:
        for key in imported.episodes:
            paths[key] = imported.path
    if len(fact.files) == 1:
        for ref in fact.episodes:
            paths.setdefault((ref.season, ref.episode), fact.files[0].path)
    target = "anime_matching" if draft.request.is_anime else "importing"
    for ref in fact.episodes:
        row = draft.episode(ref)
        path = paths.get(row.key)
        if row.state == "deleted":
            # A deleted episode takes no file: the import is refused (recorded; the same
            # release's import reported again is not news) and the row stays as it is, so its
            # final_path still tells a lost file from a deleted episode (_lost_only_its_file).
            if row.torrent_hash not in (None, fact.download_hash):
                draft.move_episode(row.key, target, "imported", detail=path)
            continue
        if path:
            draft.edit_episode(row.key, final_path=path)
        if fact.download_hash and not row.torrent_hash:
            draft.edit_episode(row.key, torrent_hash=fact.download_hash)
        if row.state == "available" and fact.is_upgrade:
            draft.note("upgraded", detail=path, key=row.key)
            continue
        current = draft.episodes[row.key]
        if current.torrent_hash == fact.download_hash and _imported_already(current.state, target):
            continue  # the same release's import reported again (per file, then complete)
        draft.move_episode(row.key, target, "imported", detail=path)


def _imported_already(state: str, target: str) -> bool:
    return state in STATE_RANK and is_past(state, target)


def _episode_files_deleted(draft: _Draft, fact: m.EpisodeFilesDeleted) -> None:
    """Sonarr deleted these episodes' files: for an upgrade the new file follows, noted only.

    Otherwise each episode is deleted and keeps its ``final_path``, the file it lost: the
    episode itself is still wanted, so a later grab of it brings it back (see
    ``_lost_only_its_file``).
    """
    if draft.request is None:
        return
    for ref in fact.episodes:
        key = (ref.season, ref.episode)
        if key not in draft.episodes:
            continue
        if fact.reason == "upgrade":
            draft.note("file_replaced", detail="file deleted for an upgrade", key=key)
        else:
            draft.move_episode(key, "deleted", "file_deleted", detail=fact.reason)


def _series_deleted(draft: _Draft, fact: m.SeriesDeleted) -> None:
    _delete_everything(draft, "series deleted in Sonarr")


def _delete_everything(draft: _Draft, detail: str) -> None:
    if draft.request is None:
        return
    for key in sorted(draft.episodes):
        draft.move_episode(key, "deleted", "deleted", detail=detail)
    draft.move("deleted", "deleted", detail=detail)


def _import_blocked(draft: _Draft, fact: m.ImportBlocked) -> None:
    if draft.request is None:
        return
    detail = "; ".join(part for part in (fact.status, *fact.messages) if part) or None
    keys = [(ref.season, ref.episode) for ref in fact.episodes]
    if not keys:
        draft.note("import_blocked", detail=detail)
    for key in keys:
        draft.note("import_blocked", detail=detail, key=key)


def _library_item_added(draft: _Draft, fact: m.LibraryItemAdded) -> None:
    """Jellyfin added an item: the movie, or the episodes it holds, are available.

    Episodes are found by the Shoko file Shokofin names, else by season and episode number. An
    episode the request does not hold yet is added (as available) when its season is one the
    request asked for and whose episode list is not known whole: Jellyfin holds it, so it is part
    of what was asked for, and the request reads partially available until the season is known.
    In a season not asked for, or known whole, an unknown episode is not this request's (another
    request's season, or numbered otherwise in Jellyfin) and is left alone.
    """
    if draft.request is None:
        return
    shoko_file = _int_or_none(dict(fact.provider_ids).get("shoko file"))
    if draft.request.media_type == "movie":
        # Routed here by TMDB id or Shoko file: a movie Shokofin files as a series special
        # arrives as an Episode item, and is this movie all the same.
        draft.update(jellyfin_id=fact.item_id)
        draft.move("available", "added_to_library", detail=f"{fact.item_type} {fact.name}")
        return
    keys = [
        key
        for key, row in draft.episodes.items()
        if shoko_file is not None and row.shoko_file_id == shoko_file
    ]
    if not keys and fact.season is not None and fact.episode is not None:
        last = fact.episode_end or fact.episode
        keys = [(fact.season, n) for n in range(fact.episode, last + 1)]
    open_seasons = set(draft.request.requested_seasons) - set(draft.request.known_seasons)
    if fact.item_type != "Episode":
        open_seasons = set()
    for key in sorted(keys):
        if key not in draft.episodes and key[0] in open_seasons:
            draft.episode(m.EpisodeRef(season=key[0], episode=key[1]))
        if key in draft.episodes:
            draft.edit_episode(key, jellyfin_id=fact.item_id)
            draft.move_episode(key, "available", "added_to_library", detail=fact.name)


def _int_or_none(value: str | None) -> int | None:
    """The id a provider id's text holds, or None when it holds none."""
    try:
        return strict.parse_id(value)
    except ValueError:
        return None


def _shoko_file_reported(draft: _Draft, fact: m.ShokoFileReported) -> None:
    if draft.request is None:
        return
    event = f"shoko_file_{fact.event}"
    matched = "with AniDB cross-references" if fact.has_cross_references else None
    detail = "; ".join(part for part in (fact.relative_path, matched) if part)
    keeps_file = fact.event != "deleted" and fact.file_id is not None
    if not fact.episodes:
        if keeps_file:
            draft.update(shoko_file_id=fact.file_id)
        draft.note(event, detail=detail)
        return
    for key in fact.episodes:
        if key in draft.episodes:
            if keeps_file:
                draft.edit_episode(key, shoko_file_id=fact.file_id)
            draft.note(event, detail=detail, key=key)


def _note_missing(draft: _Draft, fact: m.DownloadProgressed) -> None:
    """The download client no longer has the download. Removed after it finished (the *arr's
    "remove completed", routine once the files are imported): ``download_removed``, nothing to
    warn anyone about. Never had by the client, or gone before it finished:
    ``download_missing``, a stuck download (notified as such)."""
    name = fact.name or fact.hash
    if fact.progress >= 100.0:
        detail = f"{name} was removed from qBittorrent after it finished"
        draft.note("download_removed", detail=detail)
    elif fact.client_state is None and fact.progress == 0:
        draft.note("download_missing", detail=f"qBittorrent never had {name}")
    else:
        draft.note("download_missing", detail=f"{name} is gone from qBittorrent")


def _download_progressed(draft: _Draft, fact: m.DownloadProgressed) -> None:
    request = draft.request
    if request is None:
        return
    complete = fact.progress >= 100.0 or fact.state in ("completed", "seeding")
    started = fact.progress > 0 or fact.state == "downloading"
    if fact.state == "missing":
        _note_missing(draft, fact)
    if request.media_type == "movie" or not draft.episodes:
        if request.download_hash != fact.hash:
            return
        if not is_past(request.state, "downloaded"):
            draft.update(progress=round(fact.progress, 2))
        if complete:
            _observe(draft, "downloaded", "download_completed")
        elif started:
            _observe(draft, "downloading", "download_started")
        return
    per_episode = {(e.season, e.episode): e for e in fact.episodes}
    for key, row in sorted(draft.episodes.items()):
        if row.torrent_hash != fact.hash:
            continue
        own = per_episode.get(key)
        if own is None and fact.linked and key not in fact.linked and not complete:
            # Written before this episode was linked to the download: its own file's progress
            # comes with the next report; the torrent's overall progress says nothing of it.
            continue
        progress = own.progress if own else fact.progress
        if not is_past(row.state, "downloaded"):
            draft.edit_episode(key, progress=round(progress, 2))
        target = episode_download_target(
            torrent_state=fact.state,
            torrent_progress=fact.progress,
            own_progress=own.progress if own else None,
            own_complete=own.complete if own else False,
        )
        if target == "downloaded":
            _observe(draft, "downloaded", "download_completed", key)
        elif target == "downloading":
            _observe(draft, "downloading", "download_started", key)


def _observe(draft: _Draft, target: str, event: str, key: EpisodeKey | None = None) -> None:
    """Move forward on an observation; an observation of an earlier stage is simply stale."""
    current = draft.episodes[key].state if key else draft.request.state  # type: ignore[union-attr]
    if is_past(current, target):
        return
    if key:
        draft.move_episode(key, target, event)
    else:
        draft.move(target, event)


def _download_joined(draft: _Draft, fact: m.DownloadJoined) -> None:
    """This request joins a download another request follows. A show's joined episodes are
    linked to it as if this request had grabbed it: a season pack makes its season known whole
    (``_pack_seasons``, by the download's name)."""
    if draft.request is None:
        return
    if draft.request.media_type == "movie":
        draft.update(download_hash=fact.hash)
        draft.move("grabbing", "joined_download", detail=fact.name)
        draft.claim(fact.hash, fact.name, ())
        return
    draft.know_seasons(_pack_seasons(fact.name, fact.episodes))
    _link_episodes(draft, fact.hash, fact.name, fact.episodes, "joined_download")


def _availability_confirmed(draft: _Draft, fact: m.AvailabilityConfirmed) -> None:
    if draft.request is None:
        return
    if not fact.episodes:
        if fact.jellyfin_id:
            draft.update(jellyfin_id=fact.jellyfin_id)
        draft.move("available", "verified_available", detail=fact.detail)
        return
    if fact.jellyfin_id:
        draft.update(jellyfin_id=fact.jellyfin_id)
    for season, episode, item_id in fact.episodes:
        key = (season, episode)
        if key in draft.episodes:
            if item_id:
                draft.edit_episode(key, jellyfin_id=item_id)
            draft.move_episode(key, "available", "verified_available", detail=fact.detail)


def _availability_unconfirmed(draft: _Draft, fact: m.AvailabilityUnconfirmed) -> None:
    if draft.request is not None:
        draft.note("availability_unconfirmed", detail=fact.reason)


def _deletion_requested(draft: _Draft, fact: m.DeletionRequested) -> None:
    """Deleted through the API: the request, or these episodes of it, for good.

    The episodes forget their file (``final_path`` cleared; the service sync deletes it in
    Sonarr): an episode deleted itself, not only its file, is not brought back by a later
    grab (see ``_lost_only_its_file``).
    """
    if draft.request is None:
        return
    keys = (
        sorted(draft.episodes)
        if not fact.episodes
        else [key for key in fact.episodes if key in draft.episodes]
    )
    for key in keys:
        draft.move_episode(key, "deleted", "deleted", detail="deleted through the API")
        draft.edit_episode(key, final_path=None)
    if not fact.episodes:
        draft.move("deleted", "deleted", detail="deleted through the API")
    draft.deletions.append(
        m.DeletionSyncWanted(
            request_id=draft.request_id,
            media_type=draft.request.media_type,  # type: ignore[arg-type]
            radarr_id=draft.request.radarr_id if not fact.episodes else None,
            sonarr_episode_ids=tuple(
                episode_id
                for key in keys
                if (episode_id := draft.episodes[key].sonarr_episode_id) is not None
            ),
        )
    )


def _episodes_listed(draft: _Draft, fact: m.EpisodesListed) -> None:
    if draft.request is None or draft.request.media_type != "tv":
        return
    draft.fill(sonarr_id=fact.sonarr_id)
    if draft.request.state == "available" and not draft.episodes:
        # Reported available while the listing was on its way: pending episodes would move
        # it back with nothing new to say.
        return
    draft.know_seasons({ref.season for ref in fact.episodes})
    new = [ref for ref in fact.episodes if (ref.season, ref.episode) not in draft.episodes]
    for ref in new:
        draft.episode(ref)
    if new:
        seasons = ", ".join(str(s) for s in sorted({ref.season for ref in new}))
        draft.note(
            "episodes_listed", detail=f"{len(new)} episode(s) of season {seasons} from Sonarr"
        )


def _action_recorded(draft: _Draft, fact: m.ActionRecorded) -> None:
    """One entry per action, whatever the number of episodes it is about (a pack's 13 episodes
    are one line naming them, not 13 lines)."""
    if draft.request is None:
        return
    keys = sorted(key for key in fact.episodes if key in draft.episodes)
    if fact.episodes and not keys:
        return
    if len(keys) == 1:
        draft.note(fact.event, detail=fact.detail, key=keys[0])
    elif keys:
        draft.note(fact.event, detail=f"{episode_span(keys)}: {fact.detail}")
    else:
        draft.note(fact.event, detail=fact.detail)


def _check_requested(draft: _Draft, fact: m.CheckRequested) -> None:
    if draft.request is None:
        return
    draft.update(check_requested_at=draft.now)
    draft.note("check_requested", detail="asked to check again now")


def episode_span(keys: Iterable[EpisodeKey]) -> str:
    """Episodes in words: ``S01E01``, ``S01E01-S01E13 (13 episodes)``, ``S01E02, S01E05``."""
    ordered = sorted(set(keys))
    codes = [f"S{season:02d}E{episode:02d}" for season, episode in ordered]
    if len(codes) == 1:
        return codes[0]
    contiguous = all(b == (a[0], a[1] + 1) for a, b in itertools.pairwise(ordered))
    if contiguous:
        return f"{codes[0]}-{codes[-1]} ({len(codes)} episodes)"
    shown = ", ".join(codes[:4])
    return shown if len(codes) <= 4 else f"{shown} and {len(codes) - 4} more"


def _request_withdrawn(draft: _Draft, fact: m.RequestWithdrawn) -> None:
    """Deleted in Jellyseerr: a request nothing was grabbed for yet is deleted. One already on
    its way goes on, noted; so does one waiting for Sonarr to grab again the files it deleted
    (``approved`` again, but its episodes were grabbed and imported once)."""
    if draft.request is None:
        return
    if draft.request.state in ("requested", "approved") and not _waits_to_be_grabbed_again(draft):
        draft.move("deleted", "request_deleted", detail=fact.detail)
    else:
        draft.note("request_deleted", detail=fact.detail)


_HANDLERS: dict[type, typing.Callable[[_Draft, typing.Any], None]] = {
    m.MediaRequested: _media_requested,
    m.RequestDeclined: _declined,
    m.RequestFailed: _request_failed,
    m.MediaReportedAvailable: _reported_available,
    m.MovieGrabbed: _movie_grabbed,
    m.MovieImported: _movie_imported,
    m.MovieDeleted: _movie_deleted,
    m.EpisodesGrabbed: _episodes_grabbed,
    m.EpisodesImported: _episodes_imported,
    m.EpisodeFilesDeleted: _episode_files_deleted,
    m.SeriesDeleted: _series_deleted,
    m.ImportBlocked: _import_blocked,
    m.LibraryItemAdded: _library_item_added,
    m.DownloadProgressed: _download_progressed,
    m.DownloadJoined: _download_joined,
    m.AvailabilityConfirmed: _availability_confirmed,
    m.AvailabilityUnconfirmed: _availability_unconfirmed,
    m.DeletionRequested: _deletion_requested,
    m.EpisodesListed: _episodes_listed,
    m.ShokoFileReported: _shoko_file_reported,
    m.ActionRecorded: _action_recorded,
    m.CheckRequested: _check_requested,
    m.RequestWithdrawn: _request_withdrawn,
}
