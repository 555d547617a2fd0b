"""Builders for the pure decision tests: messages as the webhooks produce them, and states
reached by applying those messages through ``decide`` (never written out by hand)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import attrs
from status_tracker.actors.dispatch.correlation import (
    Candidates,
    Lookup,
    lookup_for,
    route,
    same_title,
)
from status_tracker.actors.media_request import messages as m
from status_tracker.actors.media_request.state import Decision, RequestState, decide
from status_tracker.actors.torrent import state as torrent_state
from status_tracker.actors.torrent.messages import (
    DownloadClaimed,
    ObservedFile,
    TorrentObserved,
    TorrentVanished,
)

from status_tracker.domain import ACTIVE_STATES, DownloadRow, EpisodeRow, RequestRow, TimelineEntry

Key = tuple[int, int]
NOW = 1_700_000_000.0


def keys(season: int, numbers: Iterable[int]) -> tuple[Key, ...]:
    """``(season, n)`` for every ``n`` in ``numbers``."""
    return tuple((season, number) for number in numbers)


def label(key: Key) -> str:
    return f"S{key[0]:02d}E{key[1]:02d}"


def torrent_hash(name: str) -> str:
    """A 40-character lower-case hex hash, stable for a name."""
    return (name.encode().hex() * 40)[:40]


# -- messages: Jellyseerr -------------------------------------------------------------------


def movie_requested(
    title: str, *, tmdb_id: int, jellyseerr_id: int | None = 1, approved: bool = True
) -> m.MediaRequested:
    return m.MediaRequested(
        media_type="movie",
        approved=approved,
        tmdb_id=tmdb_id,
        tvdb_id=None,
        title=title,
        year=2025,
        poster_url=None,
        overview=None,
        jellyseerr_request_id=jellyseerr_id,
    )


def series_requested(
    title: str,
    *,
    tvdb_id: int,
    tmdb_id: int | None = None,
    seasons: Sequence[int] = (1,),
    jellyseerr_id: int | None = 1,
    approved: bool = True,
) -> m.MediaRequested:
    return m.MediaRequested(
        media_type="tv",
        approved=approved,
        tmdb_id=tmdb_id,
        tvdb_id=tvdb_id,
        title=title,
        year=2021,
        poster_url=None,
        overview=None,
        jellyseerr_request_id=jellyseerr_id,
        requested_seasons=tuple(seasons),
    )


# -- messages: Radarr -----------------------------------------------------------------------


def movie_grabbed(
    title: str,
    *,
    tmdb_id: int,
    radarr_id: int | None = 7,
    download_hash: str | None,
    anime: bool = False,
) -> m.MovieGrabbed:
    return m.MovieGrabbed(
        radarr_id=radarr_id,
        tmdb_id=tmdb_id,
        imdb_id=None,
        title=title,
        year=2025,
        is_anime=anime,
        download_hash=download_hash,
        release_title=f"{title}.2025.1080p.WEB-DL",
    )


def movie_imported(
    title: str,
    *,
    tmdb_id: int,
    download_hash: str | None,
    anime: bool = False,
    upgrade: bool = False,
) -> m.MovieImported:
    return m.MovieImported(
        radarr_id=7,
        tmdb_id=tmdb_id,
        imdb_id=None,
        title=title,
        year=2025,
        is_anime=anime,
        download_hash=download_hash,
        file=m.ImportedFile(path=f"/movies/{title} (2025)/{title}.mkv"),
        is_upgrade=upgrade,
    )


# -- messages: Sonarr -----------------------------------------------------------------------


def series(
    title: str,
    *,
    tvdb_id: int,
    anime: bool = False,
    sonarr_id: int | None = 41,
    tmdb_id: int | None = None,
) -> m.SeriesRef:
    return m.SeriesRef(
        sonarr_id=sonarr_id,
        tvdb_id=tvdb_id,
        tmdb_id=tmdb_id,
        imdb_id=None,
        title=title,
        year=2021,
        is_anime=anime,
    )


def episode_refs(episodes: Iterable[Key]) -> tuple[m.EpisodeRef, ...]:
    return tuple(
        m.EpisodeRef(season=season, episode=number, title=f"Episode {number}")
        for season, number in episodes
    )


def episodes_grabbed(
    show: m.SeriesRef, episodes: Iterable[Key], *, download_hash: str | None
) -> m.EpisodesGrabbed:
    episodes = tuple(episodes)
    release = f"{show.title}.S{episodes[0][0]:02d}.1080p" if episodes else show.title
    return m.EpisodesGrabbed(
        series=show,
        episodes=episode_refs(episodes),
        download_hash=download_hash,
        release_title=release,
    )


def episode_path(show: m.SeriesRef, key: Key) -> str:
    return f"/tv/{show.title}/Season {key[0]}/{show.title} - {label(key)}.mkv"


def episodes_imported(
    show: m.SeriesRef,
    episodes: Iterable[Key],
    *,
    download_hash: str | None,
    complete: bool,
    upgrade: bool = False,
) -> m.EpisodesImported:
    """A per-file import (one file holding ``episodes``) or an import-complete (a file each)."""
    episodes = tuple(episodes)
    if complete:
        files = tuple(
            m.ImportedFile(path=episode_path(show, key), episodes=(key,)) for key in episodes
        )
    else:
        files = (m.ImportedFile(path=episode_path(show, episodes[0]), episodes=episodes),)
    return m.EpisodesImported(
        series=show,
        episodes=episode_refs(episodes),
        files=files,
        download_hash=download_hash,
        complete=complete,
        is_upgrade=upgrade,
    )


def episode_files_deleted(
    show: m.SeriesRef, episodes: Iterable[Key], *, reason: str | None = "manual"
) -> m.EpisodeFilesDeleted:
    return m.EpisodeFilesDeleted(series=show, episodes=episode_refs(episodes), reason=reason)


# -- messages: Jellyfin, verifier, torrent actor --------------------------------------------


def library_movie(title: str, *, tmdb_id: int, item_id: str = "jf-movie") -> m.LibraryItemAdded:
    return m.LibraryItemAdded(
        item_id=item_id,
        item_type="Movie",
        name=title,
        year=2025,
        provider_ids=(("tmdb", str(tmdb_id)),),
    )


def library_episode(series_name: str, key: Key) -> m.LibraryItemAdded:
    return m.LibraryItemAdded(
        item_id=f"jf-{label(key)}",
        item_type="Episode",
        name=f"Episode {key[1]}",
        year=2021,
        series_name=series_name,
        season=key[0],
        episode=key[1],
    )


def availability_confirmed(episodes: Iterable[Key]) -> m.AvailabilityConfirmed:
    return m.AvailabilityConfirmed(
        by="series by tvdb",
        jellyfin_id="jf-series",
        episodes=tuple(
            (season, number, f"jf-{label((season, number))}") for season, number in episodes
        ),
    )


def progressed(
    download_hash: str,
    percent: float,
    *,
    state: str | None = None,
    per_episode: Mapping[Key, float] | None = None,
) -> m.DownloadProgressed:
    """A TorrentActor report: whole-torrent percent, and each episode's own file percent."""
    if state is None:
        state = "completed" if percent >= 100 else "downloading" if percent > 0 else "queued"
    return m.DownloadProgressed(
        hash=download_hash,
        name="release",
        state=state,
        client_state=None,
        progress=percent,
        episodes=tuple(
            m.EpisodeProgress(season=season, episode=number, progress=value, complete=value >= 100)
            for (season, number), value in sorted((per_episode or {}).items())
        ),
    )


# -- applying messages ----------------------------------------------------------------------


def step(
    state: RequestState | None,
    message: m.RequestMessage,
    *,
    request_id: int = 1,
    source: str = "system",
    now: float = NOW,
) -> Decision:
    return decide(state, message, request_id=request_id, now=now, source=source)


def apply_all(
    messages: Iterable[m.RequestMessage],
    *,
    state: RequestState | None = None,
    request_id: int = 1,
    start: float = NOW,
) -> tuple[RequestState, list[Decision]]:
    """Apply ``messages`` in order (one second apart); the final state and every decision."""
    decisions = []
    for offset, message in enumerate(messages):
        decision = step(state, message, request_id=request_id, now=start + offset)
        decisions.append(decision)
        state = decision.state
    assert state is not None
    return state, decisions


def episode_states(state: RequestState) -> dict[Key, str]:
    return {key: row.state for key, row in sorted(state.episodes.items())}


def episode_hashes(state: RequestState) -> dict[Key, str | None]:
    return {key: row.torrent_hash for key, row in sorted(state.episodes.items())}


def entries(decisions: Iterable[Decision]) -> list[TimelineEntry]:
    return [entry for decision in decisions for entry in decision.timeline]


def refusals(decisions: Iterable[Decision]) -> list[TimelineEntry]:
    return [entry for entry in entries(decisions) if entry.event == "transition_refused"]


def episode_row(state: RequestState, key: Key) -> EpisodeRow:
    return state.episodes[key]


# -- the torrent actor ----------------------------------------------------------------------


def claim(
    download_hash: str, request_id: int, episodes: Iterable[Key] = (), name: str | None = None
) -> DownloadClaimed:
    return DownloadClaimed(
        hash=download_hash, request_id=request_id, name=name, episodes=tuple(episodes)
    )


def observed(
    download_hash: str,
    fraction: float,
    *,
    files: Sequence[tuple[str, int, float]] | None = None,
    state: str | None = None,
) -> TorrentObserved:
    """qBittorrent's view: progress 0-1, and ``(name, size, progress 0-1)`` per file."""
    if state is None:
        state = "seeding" if fraction >= 1 else "downloading" if fraction > 0 else "queued"
    return TorrentObserved(
        hash=download_hash,
        name="release",
        state=state,
        client_state={"seeding": "uploading", "downloading": "downloading"}.get(state, state),
        progress=fraction,
        size=sum(size for _, size, _ in files) if files else None,
        files=None
        if files is None
        else tuple(
            ObservedFile(index=index, name=name, size=size, progress=progress)
            for index, (name, size, progress) in enumerate(files)
        ),
    )


def vanished(download_hash: str) -> TorrentVanished:
    return TorrentVanished(hash=download_hash)


def torrent_apply(
    messages: Iterable[object], *, row: DownloadRow | None = None
) -> tuple[DownloadRow | None, list[torrent_state.TorrentDecision]]:
    decisions = []
    for offset, message in enumerate(messages):
        decision = torrent_state.decide(row, message, now=NOW + offset)  # type: ignore[arg-type]
        decisions.append(decision)
        row = decision.row
    return row, decisions


def links_of(row: DownloadRow | None) -> dict[int, tuple[Key, ...]]:
    assert row is not None
    return {link.request_id: link.episodes for link in row.links}


def notified(decision: torrent_state.TorrentDecision) -> dict[int, m.DownloadProgressed]:
    return dict(decision.notify)


def without_times(row: DownloadRow | None) -> DownloadRow | None:
    """The row with its timestamps zeroed, to compare what it holds."""
    if row is None:
        return None
    return attrs.evolve(row, created_at=0.0, updated_at=0.0, last_change_at=0.0)


# -- correlation: storage's look-ups over a list of requests --------------------------------


def hashes_of(state: RequestState) -> set[str]:
    found = {row.torrent_hash for row in state.episodes.values()} | {state.request.download_hash}
    return {value for value in found if value}


def owners_of(lookup: Lookup, world: Sequence[RequestState]) -> dict[str, set[int]]:
    """The requests, in any state, holding the lookup's hash (itself or in an episode), episode
    TVDB id, or Shoko file (itself or in an episode), by kind."""

    def holding(value: object, held: Callable[[RequestState], set[object]]) -> set[int]:
        if value is None or value == "":
            return set()
        return {k.request.id for k in world if value in held(k)}

    return {
        "hash": holding(lookup.torrent_hash, hashes_of),
        "episode": holding(
            lookup.episode_tvdb_id or None, lambda k: {e.tvdb_id for e in k.episodes.values()}
        ),
        "shoko_file": holding(
            lookup.shoko_file_id,
            lambda k: {k.request.shoko_file_id} | {e.shoko_file_id for e in k.episodes.values()},
        ),
    }


def find_candidates(lookup: Lookup, world: Sequence[RequestState]) -> Candidates:
    """What the store finds for ``lookup``, as its contract says: newest first, ``by_media``,
    ``by_title`` and the episode and Shoko file look-ups active requests only."""
    newest_first = sorted(
        world, key=lambda known: (known.request.created_at, known.request.id), reverse=True
    )
    same_type = [k for k in newest_first if k.request.media_type == lookup.media_type]

    def rows(predicate) -> tuple[RequestRow, ...]:
        return tuple(k.request for k in same_type if predicate(k))

    def arr_id(row: RequestRow) -> int | None:
        return row.radarr_id if row.media_type == "movie" else row.sonarr_id

    owners = owners_of(lookup, world)
    by_id = {k.request.id: k.request for k in world}

    def owning(kind: str) -> tuple[RequestRow, ...]:
        found = (by_id[request_id] for request_id in sorted(owners[kind], reverse=True))
        return tuple(row for row in found if row.state in ACTIVE_STATES)

    by_media = rows(
        lambda k: (
            k.request.state in ACTIVE_STATES
            and (
                (lookup.tmdb_id is not None and k.request.tmdb_id == lookup.tmdb_id)
                or (lookup.tvdb_id is not None and k.request.tvdb_id == lookup.tvdb_id)
            )
        )
    )
    if lookup.imdb_id and not by_media:
        by_media = rows(
            lambda k: k.request.state in ACTIVE_STATES and k.request.imdb_id == lookup.imdb_id
        )
    return Candidates(
        by_hash=tuple(by_id[request_id] for request_id in sorted(owners["hash"], reverse=True)),
        by_jellyseerr=rows(
            lambda k: (
                lookup.jellyseerr_request_id is not None
                and k.request.jellyseerr_request_id == lookup.jellyseerr_request_id
            )
        ),
        by_arr=rows(lambda k: lookup.arr_id is not None and arr_id(k.request) == lookup.arr_id),
        by_media=by_media,
        by_title=tuple(
            k.request
            for k in sorted(same_type, key=lambda k: k.request.id)
            if lookup.series_title
            and k.request.state in ACTIVE_STATES
            and same_title(k.request.title, lookup.series_title)
        ),
        by_episode=owning("episode"),
        by_shoko_file=owning("shoko_file"),
    )


def route_in(fact: object, world: Sequence[RequestState]):
    """Where the dispatcher sends ``fact`` given the requests in ``world``."""
    lookup = lookup_for(fact)
    assert lookup is not None, f"{fact!r} concerns no request"
    return route(fact, find_candidates(lookup, world))
