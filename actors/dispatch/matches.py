"""What one read of storage found under the keys of a page of facts, and each fact's candidates
among it: storage's look-ups (newest first, ``by_media`` and the episode look-ups active only),
answered from rows read in bulk."""

from __future__ import annotations

import typing
from collections.abc import Iterable, Mapping, Sequence

import attrs

from status_tracker.domain import ACTIVE_STATES, EpisodeRow, RequestRow

from .correlation import Candidates, Lookup, episode_keys, normalise_title, request_keys

OWNER_KINDS = ("hash", "episode", "shoko_file")
"""Keys an episode can hold for its request, read as the requests holding them."""


_ID_COLUMNS = ("tmdb_id", "tvdb_id", "imdb_id", "radarr_id", "sonarr_id", "jellyseerr_request_id")


@typing.final
@attrs.frozen(kw_only=True)
class Matches:
    """Requests storage holds under some keys, in any state.

    ``requests`` has every request whose TMDB, TVDB, IMDb, *arr or Jellyseerr id is one looked
    up, every request an owner list names, and any other request read with them. ``owners``
    maps each of `OWNER_KINDS` and a value looked up to the ids of the requests holding it,
    themselves or in an episode. ``active`` has every active request, ordered by id, when a fact
    looks up a title (it is empty otherwise).
    """

    requests: Mapping[int, RequestRow] = attrs.field(factory=dict)
    owners: Mapping[str, Mapping[object, frozenset[int]]] = attrs.field(factory=dict)
    active: tuple[RequestRow, ...] = ()
    _by_id_column: dict[tuple[str, object], list[RequestRow]] = attrs.field(
        init=False, factory=dict
    )
    _active_by_title: dict[str, list[RequestRow]] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        for row in self.requests.values():
            for column in _ID_COLUMNS:
                value = getattr(row, column)
                if value is not None:
                    self._by_id_column.setdefault((column, value), []).append(row)
        for row in self.active:
            self._active_by_title.setdefault(normalise_title(row.title), []).append(row)

    def holding(self, column: str, value: object) -> list[RequestRow]:
        """The requests whose ``column`` (one of the id columns) holds ``value``."""
        return self._by_id_column.get((column, value), []) if value is not None else []

    def active_titled(self, title: str) -> list[RequestRow]:
        """The active requests whose title is ``title`` (see `same_title`), ordered by id."""
        return self._active_by_title.get(normalise_title(title), [])

    def owner_ids(self, lookup: Lookup) -> frozenset[int]:
        """Every request holding one of ``lookup``'s hash, episode or Shoko keys, any state."""
        held = zip(
            OWNER_KINDS,
            (lookup.torrent_hash, lookup.episode_tvdb_id, lookup.shoko_file_id),
            strict=True,
        )
        return frozenset(
            request_id
            for kind, value in held
            if value is not None
            for request_id in self.owners.get(kind, {}).get(value, ())
        )

    def around(self, lookup: Lookup, row: RequestRow, episodes: Iterable[EpisodeRow]) -> Matches:
        """What storage would find for ``lookup`` alone were the request ``row.id`` stored as
        ``row`` with ``episodes``, all else as read: a fact is correlated against a request as
        the rows before it in a wave leave it (only the rows holding its keys, so that this costs
        what a few look-ups cost, not a page's)."""
        arr_column = "radarr_id" if lookup.media_type == "movie" else "sonarr_id"
        looked_up = (
            ("tmdb_id", lookup.tmdb_id),
            ("tvdb_id", lookup.tvdb_id),
            ("imdb_id", lookup.imdb_id),
            ("jellyseerr_request_id", lookup.jellyseerr_request_id),
            (arr_column, lookup.arr_id),
        )
        ids = {found.id for column, value in looked_up for found in self.holding(column, value)}
        ids |= self.owner_ids(lookup)
        requests = {i: self.requests[i] for i in ids if i in self.requests} | {row.id: row}
        held = request_keys(row).union(*(episode_keys(episode) for episode in episodes))
        owned = (lookup.torrent_hash, lookup.episode_tvdb_id, lookup.shoko_file_id)
        owners: dict[str, dict[object, frozenset[int]]] = {}
        for kind, value in zip(OWNER_KINDS, owned, strict=True):
            if value is not None:
                others = self.owners.get(kind, {}).get(value, frozenset()) - {row.id}
                owners[kind] = {value: others | {row.id} if (kind, value) in held else others}
        active: list[RequestRow] = []
        if lookup.series_title is not None:
            active = [r for r in self.active_titled(lookup.series_title) if r.id != row.id]
            if row.state in ACTIVE_STATES:
                active = sorted([*active, row], key=lambda r: r.id)
        return Matches(requests=requests, owners=owners, active=tuple(active))


def candidates_in(lookup: Lookup, matches: Matches) -> Candidates:
    """The candidates storage's look-ups give for ``lookup``, from ``matches``."""

    def newest_first(*found: Sequence[RequestRow], active_only: bool) -> tuple[RequestRow, ...]:
        rows = {
            row.id: row
            for group in found
            for row in group
            if row.media_type == lookup.media_type
            and (not active_only or row.state in ACTIVE_STATES)
        }
        return tuple(sorted(rows.values(), key=lambda row: (row.created_at, row.id), reverse=True))

    def owning(kind: str, value: object, *, active_only: bool) -> tuple[RequestRow, ...]:
        ids = sorted(matches.owners.get(kind, {}).get(value, ()), reverse=True)
        rows = (matches.requests.get(request_id) for request_id in ids)
        return tuple(
            row
            for row in rows
            if row is not None and (not active_only or row.state in ACTIVE_STATES)
        )

    arr_column = "radarr_id" if lookup.media_type == "movie" else "sonarr_id"
    by_media = newest_first(
        matches.holding("tmdb_id", lookup.tmdb_id),
        matches.holding("tvdb_id", lookup.tvdb_id),
        active_only=True,
    )
    if not by_media and lookup.imdb_id:
        by_media = newest_first(matches.holding("imdb_id", lookup.imdb_id), active_only=True)
    title = lookup.series_title
    return Candidates(
        by_hash=owning("hash", lookup.torrent_hash, active_only=False)
        if lookup.torrent_hash
        else (),
        by_jellyseerr=newest_first(
            matches.holding("jellyseerr_request_id", lookup.jellyseerr_request_id),
            active_only=False,
        ),
        by_arr=newest_first(matches.holding(arr_column, lookup.arr_id), active_only=False),
        by_media=by_media,
        by_title=tuple(
            row for row in matches.active_titled(title) if row.media_type == lookup.media_type
        )
        if title
        else (),
        by_episode=owning("episode", lookup.episode_tvdb_id, active_only=True)
        if lookup.episode_tvdb_id
        else (),
        by_shoko_file=owning("shoko_file", lookup.shoko_file_id, active_only=True)
        if lookup.shoko_file_id is not None
        else (),
    )
