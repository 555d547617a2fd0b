"""The availability verifier: looks in Jellyfin for items that should be there by now.

Jellyfin ignores ``AnyProviderIdEquals``, so it searches by title (and year) and matches the
provider ids itself, then falls back to any item type and to the imported file's path. TV is
checked per episode; a series existing never makes its episodes available. A round that cannot
ask Jellyfin (or cannot read its answer) is recorded on the client's health; with nothing
waiting, a round still asks Jellyfin for its version, so /health never guesses.
"""

from __future__ import annotations

import logging
import typing
from collections.abc import Awaitable, Callable, Sequence

import attrs
import trio
from status_tracker.clients import ClientError, HealthState
from status_tracker.clients.jellyfin import JellyfinClient, JellyfinItem, match_provider_id
from status_tracker.storage import DatabaseUnavailable, Store

from status_tracker.domain import RequestRow

from .dispatch.correlation import normalise_title
from .envelope import Deliver
from .library_match import (
    match_episodes,
    path_suffix_matches,
    same_file_name,
    subtitle_of,
    title_variants,
    titles_match,
)
from .media_request.messages import AvailabilityConfirmed, AvailabilityUnconfirmed

logger = logging.getLogger(__name__)

CallRequest = Callable[[int, Deliver], Awaitable[object]]
WAITING_STATES = ("downloaded", "importing", "anime_matching")


@typing.final
@attrs.frozen(kw_only=True)
class VerifierStatus:
    reachable: bool | None
    status: HealthState
    reason: str | None
    errors: int
    last_ok_at: str | None
    rounds: int
    confirmed: int
    waiting: int


@typing.final
class AvailabilityVerifier:
    """Checks every waiting request against Jellyfin every ``interval`` seconds."""

    def __init__(
        self,
        *,
        client: JellyfinClient,
        store: Store,
        call_request: CallRequest,
        interval: float,
    ) -> None:
        self._client = client
        self._store = store
        self._call_request = call_request
        self._interval = interval
        self._reasons: dict[int, str] = {}
        self._rounds = 0
        self._confirmed = 0
        self._waiting = 0

    def status(self) -> VerifierStatus:
        return VerifierStatus(
            **attrs.asdict(self._client.health.status()),
            rounds=self._rounds,
            confirmed=self._confirmed,
            waiting=self._waiting,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        while True:
            await trio.sleep(self._interval)
            try:
                await self.verify_once()
            except DatabaseUnavailable:
                logger.warning("The availability verifier waits for the database to come back")
                await self._store.wait_available()

    async def verify_once(self) -> None:
        """Look up every waiting request once (or only ask Jellyfin's version, if none waits).

        Raises:
            DatabaseUnavailable: the waiting requests could not be read.
        """
        waiting = await self._store.requests_in_states(WAITING_STATES)
        self._waiting = len(waiting)
        try:
            if not waiting:
                await self._client.ping()
            for request in waiting:
                await self.verify_request(request)
        except ClientError as exc:
            self._client.health.failed(exc)
            return
        self._client.health.answered()
        self._rounds += 1
        live = {request.id for request in waiting}
        self._reasons = {rid: reason for rid, reason in self._reasons.items() if rid in live}

    async def verify_request(self, request: RequestRow) -> bool:
        """Look the request (or its waiting episodes) up; True when something was confirmed.

        Raises:
            ClientError: Jellyfin could not be asked, or answered what cannot be read.
        """
        if request.media_type == "movie":
            found = await self.find_movie(request)
            if found is not None:
                item, how = found
                await self._confirm(
                    request, AvailabilityConfirmed(by="verifier", jellyfin_id=item.id, detail=how)
                )
                return True
            await self._unconfirmed(request, "not found in Jellyfin yet")
            return False
        episodes = [
            e for e in await self._store.load_episodes(request.id) if e.state in WAITING_STATES
        ]
        if not episodes:
            return False
        found: dict[tuple[int, int], str] = {}
        seen_in: list[JellyfinItem] = []
        for series, by_number in await self.find_series(request):
            items = await self._client.show_episodes(series.id)
            wanted = {e.key: e for e in episodes if e.key not in found}
            matched = match_episodes(wanted, items, by_number=by_number)
            if matched:
                found.update(matched)
                seen_in.append(series)
        if not seen_in:
            await self._unconfirmed(request, "series not found in Jellyfin yet")
            return False
        await self._confirm(
            request,
            AvailabilityConfirmed(
                by="verifier",
                jellyfin_id=seen_in[0].id,
                episodes=tuple((s, e, item) for (s, e), item in sorted(found.items())),
                detail=f"found in Jellyfin series {', '.join(repr(s.name) for s in seen_in)}",
            ),
        )
        if len(found) < len(episodes):
            await self._unconfirmed(
                request, f"{len(episodes) - len(found)} episode(s) not in Jellyfin yet"
            )
        return True

    async def find_movie(self, request: RequestRow) -> tuple[JellyfinItem, str] | None:
        """The movie's Jellyfin item and how it was found, trying each fallback in turn.

        Movie by TMDB id, then series by TMDB id, then any item type by id, then by title
        (the full title, its main part, the subtitle as an episode name, within the year),
        then by the imported file (path, file name, or the Shoko file Shokofin names) — a
        compilation movie Shokofin files as a special of its series is found that way.
        """
        pool = await self._title_search(request, [])
        series_episodes: list[JellyfinItem] = []
        for series in [i for i in pool if i.type == "Series"]:
            if _by_ids([series], request) or titles_match(request.title, (series.name,)):
                series_episodes.extend(await self._client.show_episodes(series.id))
        rules = (
            ("movie matched by provider id", [i for i in pool if i.type == "Movie"], _by_ids),
            ("series matched by provider id", [i for i in pool if i.type == "Series"], _by_ids),
            ("item matched by provider id", [*pool, *series_episodes], _by_ids),
            ("matched by title", [*pool, *series_episodes], _by_title),
            ("matched by file", [*pool, *series_episodes], _by_file),
        )
        for how, items, rule in rules:
            match = rule(items, request)
            if match is None:
                continue
            if match.type == "Series":
                # The movie is inside the series: prefer the special that is its file.
                special = _by_file(series_episodes, request) or _by_title(series_episodes, request)
                match = special or match
            return match, how
        return None

    async def find_series(self, request: RequestRow) -> list[tuple[JellyfinItem, bool]]:
        """The series that may hold the request's episodes, each with whether to trust numbers.

        A series with the request's provider id, or its title (and year), is trusted to number
        episodes as we do. A series whose title only starts with ours (Shokofin's
        ``Link Click Season 3``) is searched too, but only by file (Shoko file id, path).
        """
        candidates = [
            i for i in await self._title_search(request, ["Series"]) if i.type == "Series"
        ]
        match = _by_ids(candidates, request)
        titled = [c for c in candidates if titles_match(request.title, (c.name, c.original_title))]
        if request.year:
            titled = [c for c in titled if c.year in (None, request.year)] or titled
        trusted = [match] if match else titled[:1]
        wanted = normalise_title(request.title)
        related = [
            c
            for c in candidates
            if c not in trusted and normalise_title(c.name).startswith(wanted + " ")
        ]
        return [(series, True) for series in trusted] + [(series, False) for series in related]

    async def _title_search(self, request: RequestRow, types: Sequence[str]) -> list[JellyfinItem]:
        found: dict[str, JellyfinItem] = {}
        for term in title_variants(request.title):
            for item in await self._client.search_items(term, types):
                found.setdefault(item.id, item)
        return list(found.values())

    async def _confirm(self, request: RequestRow, confirmed: AvailabilityConfirmed) -> None:
        self._confirmed += 1
        self._reasons.pop(request.id, None)
        await self._call_request(request.id, Deliver(messages=(confirmed,), source="verifier"))

    async def _unconfirmed(self, request: RequestRow, reason: str) -> None:
        """Say once per reason that the item is still waiting, so it is never silently stuck."""
        if self._reasons.get(request.id) == reason:
            return
        self._reasons[request.id] = reason
        await self._call_request(
            request.id,
            Deliver(messages=(AvailabilityUnconfirmed(reason=reason),), source="verifier"),
        )


def _by_ids(items: Sequence[JellyfinItem], request: RequestRow) -> JellyfinItem | None:
    for key, value in (
        ("tmdb", request.tmdb_id),
        ("tvdb", request.tvdb_id),
        ("imdb", request.imdb_id),
    ):
        if value:
            matches = [i for i in match_provider_id(items, key, value) if i.is_on_disk]
            if matches:
                return matches[0]
    return None


def _by_title(items: Sequence[JellyfinItem], request: RequestRow) -> JellyfinItem | None:
    """An item named like the movie (or, for a special, like its subtitle), in its year."""
    names = [request.title, *filter(None, [subtitle_of(request.title)])]
    for item in items:
        if item.type == "Series" or not item.is_on_disk:
            continue
        if not any(titles_match(name, (item.name, item.original_title)) for name in names):
            continue
        if request.year is None or item.year is None or abs(item.year - request.year) <= 1:
            return item
    return None


def _by_file(items: Sequence[JellyfinItem], request: RequestRow) -> JellyfinItem | None:
    """The item holding the imported file: Shoko file id, path suffix, or file name."""
    for item in items:
        shoko_file = item.provider_ids.get("shoko file")
        if request.shoko_file_id is not None and shoko_file == str(request.shoko_file_id):
            return item
        if (
            request.final_path
            and item.path
            and (
                path_suffix_matches(item.path, request.final_path)
                or same_file_name(item.path, request.final_path)
            )
        ):
            return item
    return None
