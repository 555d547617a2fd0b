"""Planning a wave: read what a run of mail rows holds, find their requests in one read, route
each row, and keep the rows, from the first, that may be correlated together (the batching rule
of `correlation`): a row that waits for the wave's rows of one request is routed against that
request as they leave it, worked out with ``decide``."""

from __future__ import annotations

import logging
import typing
from collections.abc import Callable, Sequence

import attrs
import trio
from status_tracker.storage import DatabaseUnavailable, Mail, MarkMailApplied, Op, PostMail, Store

from status_tracker.domain import EpisodeRow, RequestRow
from status_tracker.strict import load_json, parse_id, storable

from ..clock import WallClock
from ..envelope import Deliver
from ..mail import SERVICES_TARGET, decode, encode, request_target
from ..media_request import messages as m
from ..media_request.state import RequestState, decide
from ..reconcile.catch_up import caught_up_kind, split_caught_up
from .correlation import (
    Candidates,
    Footprint,
    Lookup,
    Route,
    Wave,
    downloads_to_join,
    lookup_for,
    read_keys,
    route,
    writes_of,
)
from .matches import OWNER_KINDS, Matches, candidates_in

logger = logging.getLogger(__name__)

WEBHOOK_TARGET = "dispatch"
NEW_REQUESTS = 1 << 62
"""The ids a wave's new requests go by until storage allocates theirs: above every stored id
and in mail order, so "newest first" orders them as their own ids will."""


class Translator(typing.Protocol):
    """Turns a webhook body, as ``json.loads`` returned it, into the fact it reports.

    Whatever it raises means the body can never be applied: the row becomes a dead letter.
    """

    def __call__(self, source: str, body: object, /) -> m.WebhookFact: ...


@typing.final
@attrs.frozen(kw_only=True)
class Row:
    """A mail row as read: a webhook's fact with its look-up, or a hand-off's message and the
    key of the actor it goes to, or why it can never be applied."""

    mail: Mail
    kind: str
    key: object = None
    message: object = None
    caught_up: str | None = None
    lookup: Lookup | None = None
    unreadable: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Step:
    """What applying one row takes, decided before its wave runs: a delivery to the actor
    ``actor`` (kind, key), or the dispatcher's own commit ``ops``, or a dead letter
    (``unreadable``), or, for a row that could not be planned (``failure``), planning it alone
    again. ``nowhere`` says why a webhook applies to no request."""

    mail: Mail
    actor: tuple[str, object] | None = None
    deliver: Deliver | None = None
    ops: tuple[Op, ...] = ()
    unreadable: str | None = None
    failure: Exception | None = None
    footprint: Footprint = attrs.field(factory=Footprint)
    creates: bool = False
    nowhere: str | None = None


def _request_key(key: str | None) -> int | None:
    try:
        return parse_id(key) if key is not None else None
    except ValueError:
        return None


def _torrent_key(key: str | None) -> str | None:
    return key or None


def _services_key(key: str | None) -> str | None:
    """The service sync is one actor, addressed as ``services`` alone."""
    return SERVICES_TARGET if key is None else None


_ACTOR_KEYS: dict[str, Callable[[str | None], object | None]] = {
    "request": _request_key,
    "torrent": _torrent_key,
    SERVICES_TARGET: _services_key,
}
"""Per kind of target: the actor's key from the text after ``kind:`` (None: no colon), or None
when that is no valid target of the kind."""


@typing.final
class Planner:
    """Reads and routes mail rows for the dispatcher."""

    def __init__(self, *, store: Store, translate: Translator, clock: WallClock) -> None:
        self._store = store
        self._translate = translate
        self._clock = clock

    def read(self, mail: Mail) -> Row:
        """What ``mail`` holds (translated by this planner's translator, so a fixed translator
        fixes old rows on replay)."""
        kind, colon, key = mail.target.partition(":")
        caught_up, message_kind = split_caught_up(mail.kind)
        try:
            if kind == WEBHOOK_TARGET:
                # What the reconciler caught up on is the fact itself, not a body to translate.
                if caught_up is not None:
                    fact = decode(message_kind, mail.body)
                else:
                    fact = self._translate(mail.source, load_json(mail.body))
                return Row(
                    mail=mail, kind=kind, message=fact, caught_up=caught_up, lookup=lookup_for(fact)
                )
            message = decode(message_kind, mail.body)
        except Exception as exc:  # a body that can never be applied
            reason = str(exc) if kind == WEBHOOK_TARGET else f"{mail.kind}: {exc}"
            return Row(mail=mail, kind=kind, unreadable=storable(reason))
        actor_key = _ACTOR_KEYS[kind](key if colon else None) if kind in _ACTOR_KEYS else None
        if actor_key is None:
            return Row(mail=mail, kind=kind, unreadable=f"unknown target {mail.target!r}")
        return Row(mail=mail, kind=kind, key=actor_key, message=message, caught_up=caught_up)

    async def plan(self, rows: Sequence[Row]) -> list[Step]:
        """The steps of the longest run of ``rows``, from the first, that may be correlated
        together; a row that cannot be planned (storage refuses its look-up, routing it fails)
        is a failing step of its own, after the rows before it.

        Raises:
            DatabaseUnavailable: the database is down; nothing was planned.
        """
        try:
            return await self.plan_exactly(rows)
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            if not self._store.available:
                raise
            if len(rows) == 1:
                return [Step(mail=rows[0].mail, failure=exc)]
            return await self.plan(rows[: len(rows) // 2])

    async def plan_exactly(self, rows: Sequence[Row]) -> list[Step]:
        """As `plan`, but raising whatever planning any of ``rows`` raises."""
        lookups = [row.lookup for row in rows if row.lookup is not None]
        handed_to = [row.key for row in rows if row.kind == "request" and row.unreadable is None]
        matches = await self.matches(lookups, handed_to)
        at = self._clock.now()
        wave = Wave()
        followed = _Followed(self._store, matches, at)
        steps: list[Step] = []
        for row in rows:
            found, chosen = self._route(row, matches)
            joinable = await self._to_join(row, found, chosen)
            step = self._step(row, found, chosen, matches, joinable, at, followed.new_request)
            waits = wave.waits_for(step.footprint)
            if waits:
                following = await self._following(row, waits, followed, at)
                if following is None:
                    break
                step = following
            applied_to = _applied_to(step)
            wave.take(step.footprint, applied_to=applied_to)
            if applied_to is not None and step.deliver is not None:
                followed.deliver(applied_to, step.deliver)
            if step.nowhere is not None:
                logger.info(
                    "mail %s (%s %s) applies to nothing: %s",
                    row.mail.id,
                    row.mail.source,
                    row.mail.kind,
                    step.nowhere,
                )
            steps.append(step)
            await trio.lowlevel.checkpoint()  # a long page must not hold up the HTTP server
        return await self._with_new_ids(steps)

    async def _following(
        self, row: Row, waits: frozenset[int | None], followed: _Followed, at: float
    ) -> Step | None:
        """The step of ``row``, which reads keys the wave's rows of one request write, routed
        against that request as they leave it, if it then goes to that request alone (not to a
        new one, not to several); else None: it waits for a later wave.

        What it reads is then what it read against storage, the request's id and what the
        request now holds: no row of another request writes any of it (see `Wave`)."""
        (request_id,) = waits if len(waits) == 1 else (None,)
        if request_id is None or row.lookup is None:
            return None
        state = await followed.state_of(request_id)
        if state is None:
            return None
        around = followed.matches.around(row.lookup, state.request, state.episodes.values())
        found, chosen = self._route(row, around)
        if chosen.create or chosen.targets != (request_id,):
            return None
        return self._step(row, found, chosen, around, Joinable(), at, followed.new_request)

    async def _to_join(self, row: Row, found: Candidates, chosen: Route) -> Joinable:
        """What a new request may join: the episodes of the active requests found for its
        media (TV), and the names of the downloads they follow."""
        fact = row.message
        if not (chosen.create and isinstance(fact, m.MediaRequested) and found.by_media):
            return Joinable()
        episodes: dict[int, list[EpisodeRow]] = {}
        if fact.media_type == "tv":
            episodes = await self._store.episodes_by_request([r.id for r in found.by_media])
        hashes = {r.download_hash for r in found.by_media if r.download_hash}
        hashes |= {e.torrent_hash for rows in episodes.values() for e in rows if e.torrent_hash}
        downloads = await self._store.load_downloads(hashes) if hashes else {}
        return Joinable(episodes=episodes, names={key: row.name for key, row in downloads.items()})

    async def matches(self, lookups: Sequence[Lookup], request_ids: Sequence[object]) -> Matches:
        """Every request the look-ups can find, and the requests with these ids, in one go."""
        columns: dict[str, list[object]] = {
            "id": list(request_ids),
            "tmdb_id": [lookup.tmdb_id for lookup in lookups],
            "tvdb_id": [lookup.tvdb_id for lookup in lookups],
            "imdb_id": [lookup.imdb_id for lookup in lookups],
            "radarr_id": [x.arr_id for x in lookups if x.media_type == "movie"],
            "sonarr_id": [x.arr_id for x in lookups if x.media_type == "tv"],
            "jellyseerr_request_id": [lookup.jellyseerr_request_id for lookup in lookups],
        }
        wanted = {
            column: [value for value in values if value is not None]
            for column, values in columns.items()
        }
        requests = {row.id: row for row in await self._store.requests_holding(wanted)}
        owners = {}
        held = (
            [x.torrent_hash for x in lookups if x.torrent_hash],
            [x.episode_tvdb_id for x in lookups if x.episode_tvdb_id],
            [x.shoko_file_id for x in lookups if x.shoko_file_id is not None],
        )
        for kind, values in zip(OWNER_KINDS, held, strict=True):
            if values:
                owners[kind] = await self._store.request_owners(kind, values)
        missing = {i for by_value in owners.values() for ids in by_value.values() for i in ids}
        missing -= set(requests)
        if missing:
            requests |= {row.id: row for row in await self._store.requests_holding({"id": missing})}
        active: tuple[RequestRow, ...] = ()
        if any(lookup.series_title for lookup in lookups):
            active = tuple(await self._store.active_requests())
            requests |= {row.id: row for row in active}
        return Matches(requests=requests, owners=owners, active=active)

    @staticmethod
    def _route(row: Row, matches: Matches) -> tuple[Candidates, Route]:
        """A webhook row's candidates, and where it goes."""
        if row.lookup is None:
            return Candidates(), Route()
        found = candidates_in(row.lookup, matches)
        return found, route(row.message, found)

    def _step(
        self,
        row: Row,
        found: Candidates,
        chosen: Route,
        matches: Matches,
        joinable: Joinable,
        at: float,
        new_request: Callable[[], int],
    ) -> Step:
        """How ``row`` is applied; a new request goes by the id ``new_request()`` gives until
        it has its own (see ``_with_new_ids``)."""
        mail = row.mail
        if row.unreadable is not None:
            return Step(mail=mail, unreadable=row.unreadable)
        deliver = Deliver(
            messages=(row.message,),
            source=mail.source,
            mail_id=mail.id,
            redelivery=mail.attempts > 0,
            caught_up=row.caught_up,
        )
        if row.kind != WEBHOOK_TARGET:
            if row.kind == "request":
                written = writes_of([(row.key, matches.requests.get(row.key))], [row.message])
            else:
                written = frozenset({(row.kind, row.key)})
            return Step(
                mail=mail,
                actor=(row.kind, row.key),
                deliver=deliver,
                footprint=Footprint(writes=written),
            )
        applied = MarkMailApplied(mail_id=mail.id, at=at)
        if row.lookup is None:
            return Step(mail=mail, ops=(applied,))
        reads = read_keys(row.lookup, found, matches.owner_ids(row.lookup))
        messages: tuple[object, ...] = (row.message,)
        if chosen.create:
            if isinstance(row.message, m.MediaRequested):
                messages += downloads_to_join(
                    row.message, found.by_media, joinable.episodes, joinable.names
                )
            return Step(
                mail=mail,
                actor=("request", new_request()),
                deliver=attrs.evolve(deliver, messages=messages, created_at=at),
                footprint=Footprint(reads=reads, writes=writes_of([], messages)),
                creates=True,
            )
        targets = [(target, matches.requests.get(target)) for target in chosen.targets]
        footprint = Footprint(reads=reads, writes=writes_of(targets, messages))
        if not targets:
            return Step(mail=mail, ops=(applied,), footprint=footprint, nowhere=chosen.reason)
        if len(targets) == 1:
            return Step(
                mail=mail,
                actor=("request", chosen.targets[0]),
                deliver=deliver,
                footprint=footprint,
            )
        return Step(
            mail=mail,
            ops=(*_fan_out(mail, chosen.targets, messages, row.caught_up, at), applied),
            footprint=footprint,
        )

    async def _with_new_ids(self, steps: list[Step]) -> list[Step]:
        """The steps, those going to a request the wave creates given its new id, allocated in
        mail order."""
        foreseen = [step.actor[1] for step in steps if step.creates and step.actor is not None]
        if not foreseen:
            return steps
        ids = dict(
            zip(foreseen, await self._store.allocate_request_ids(len(foreseen)), strict=True)
        )
        return [
            attrs.evolve(step, actor=("request", ids[step.actor[1]]))
            if step.actor is not None and step.actor[0] == "request" and step.actor[1] in ids
            else step
            for step in steps
        ]


@typing.final
@attrs.frozen(kw_only=True)
class Joinable:
    """The episodes of active requests for a new request's media, by request id, and the names
    of the downloads they follow, by hash."""

    episodes: dict[int, list[EpisodeRow]] = attrs.field(factory=dict)
    names: dict[str, str | None] = attrs.field(factory=dict)


def _applied_to(step: Step) -> int | None:
    """The one request a step is applied to, if it is delivered to one (not a redelivery, which
    its actor may find applied already)."""
    if step.actor is None or step.actor[0] != "request" or step.deliver is None:
        return None
    if step.deliver.redelivery or not isinstance(step.actor[1], int):
        return None
    return step.actor[1]


@typing.final
class _Followed:
    """The requests a wave's rows are applied to, as those rows leave them: each worked out
    with ``decide`` on the rows' messages when a later row of the wave needs it, from the
    request as stored (as a new one, for a request the wave creates).

    ``decide`` runs here at the time the wave was planned and in the actor at its own; what a
    row is routed by (a request's keys, state, type and creation time) does not depend on it
    (a property test of `correlation` routes with the two times apart)."""

    def __init__(self, store: Store, matches: Matches, at: float) -> None:
        self._store = store
        self.matches = matches
        self._at = at
        self._deliveries: dict[int, list[Deliver]] = {}
        self._states: dict[int, tuple[int, RequestState | None]] = {}
        self._episodes: dict[int, list[EpisodeRow]] = {}
        self._created = 0

    def new_request(self) -> int:
        """The id a request the wave creates goes by until it has its own."""
        self._created += 1
        return NEW_REQUESTS + self._created

    def deliver(self, request_id: int, deliver: Deliver) -> None:
        """The wave applies ``deliver`` to the request ``request_id``, after what it held."""
        self._deliveries.setdefault(request_id, []).append(deliver)

    async def state_of(self, request_id: int) -> RequestState | None:
        """The request as the wave's rows so far leave it; None when that cannot be known here
        (it is not among the requests read, or applying a row raises)."""
        deliveries = self._deliveries.get(request_id, [])
        if request_id in self._states:
            done, state = self._states[request_id]
        elif request_id > NEW_REQUESTS:
            done, state = 0, None
        elif request_id in self.matches.requests:
            done, state = 0, await self._stored(request_id)
        else:
            return None
        try:
            for deliver in deliveries[done:]:
                for fact in deliver.messages:
                    decision = decide(
                        state,
                        fact,  # type: ignore[arg-type]
                        request_id=request_id,
                        now=self._at,
                        source=deliver.source,
                    )
                    state = decision.state
        except Exception:  # its actor will dead-letter it; the row waiting for it waits
            logger.debug("could not follow request %s", request_id, exc_info=True)
            return None
        self._states[request_id] = (len(deliveries), state)
        return state

    async def _stored(self, request_id: int) -> RequestState:
        if request_id not in self._episodes:
            # In one read, the episodes of every stored request the wave's rows go to so far:
            # only those can be followed (not every request read: with a title looked up,
            # that is every active one).
            unread = [i for i in self._deliveries if i < NEW_REQUESTS and i not in self._episodes]
            found = await self._store.episodes_by_request(unread)
            self._episodes.update((i, found.get(i, [])) for i in unread)
        episodes = self._episodes.get(request_id, [])
        return RequestState(
            request=self.matches.requests[request_id],
            episodes={episode.key: episode for episode in episodes},
        )


def _fan_out(
    mail: Mail,
    targets: Sequence[int],
    messages: Sequence[object],
    caught_up: str | None,
    at: float,
) -> list[PostMail]:
    """One fact for several requests: each gets its copy as durable mail of its own."""
    posts = []
    for target in targets:
        for message in messages:
            kind, body = encode(message)
            if caught_up is not None:
                kind = caught_up_kind(caught_up, kind)
            posts.append(
                PostMail(
                    target=request_target(target), source=mail.source, kind=kind, body=body, at=at
                )
            )
    return posts
