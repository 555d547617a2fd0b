"""The dispatcher loop: read unapplied mail in order, route it, and see that it is applied once.

Webhook mail is translated (by the translator the wiring hands in, so a fixed translator fixes
old rows on replay) and correlated here, one at a time, so the correlation of each webhook sees
every earlier one applied; a new request's id comes from the store, so no two processes or runs
hand out the same one. Hand-offs between actors go by the kind of their target, looked up in a
table. Whatever applying one row raises (in translation, correlation, an actor or a storage
write), that row becomes a dead letter after ``max_attempts`` tries instead of blocking the
inbox or stopping the service; while the database is unavailable the dispatcher waits for it
without counting tries.
"""

from __future__ import annotations

import functools
import logging
import typing
from collections.abc import Awaitable, Callable

import attrs
import trio
from status_tracker.storage import (
    CountMailAttempt,
    DatabaseUnavailable,
    Mail,
    MarkMailApplied,
    Op,
    PostMail,
    RecordDeadLetter,
    Store,
)

from status_tracker.domain import ACTIVE_STATES, RequestRow
from status_tracker.strict import load_json, parse_id, storable

from ..clock import WallClock
from ..envelope import Deliver, outlasting_outages
from ..mail import SERVICES_TARGET, decode, encode, request_target
from ..media_request import messages as m
from ..reconcile.catch_up import caught_up_kind, split_caught_up
from ..runtime import ActorDied
from .correlation import Candidates, Lookup, lookup_for, route, same_title

logger = logging.getLogger(__name__)

CallActor = Callable[[object, Deliver], Awaitable[object]]
_T = typing.TypeVar("_T")


class Translator(typing.Protocol):
    """Turns a webhook body, as ``json.loads`` returned it, into the fact it reports.

    Whatever it raises means the body can never be applied: the row becomes a dead letter.
    """

    def __call__(self, source: str, body: object, /) -> m.WebhookFact: ...


class UnreadableMail(Exception):
    """A mail row that can never be applied (bad body, unknown kind or target)."""


@typing.final
@attrs.frozen
class _Handoff:
    """How mail for one kind of target reaches its actor.

    ``key`` turns the text after ``kind:`` (None: the target has no colon) into the actor's
    key, or None when that is no valid target of this kind.
    """

    key: Callable[[str | None], object | None]
    call: CallActor


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


def _caused_by_outage(error: BaseException) -> bool:
    """Whether ``error``, or what it was raised from, is the database being unavailable."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DatabaseUnavailable):
            return True
        seen = seen.__cause__
    return False


@typing.final
class Dispatcher:
    """Routes every mail row to its actor and counts the ones that keep failing."""

    def __init__(
        self,
        *,
        store: Store,
        translate: Translator,
        call_request: CallActor,
        call_torrent: CallActor,
        call_services: Callable[[Deliver], Awaitable[object]],
        clock: WallClock,
        max_attempts: int = 3,
    ) -> None:
        self._store = store
        self._translate = translate
        self._call_request = call_request
        self._handoffs = {
            "request": _Handoff(key=_request_key, call=call_request),
            "torrent": _Handoff(key=_torrent_key, call=call_torrent),
            SERVICES_TARGET: _Handoff(
                key=_services_key, call=lambda _key, deliver: call_services(deliver)
            ),
        }
        self._clock = clock
        self._max_attempts = max_attempts
        self.dispatched = 0
        self.dead_lettered = 0

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Apply all waiting mail (a replay after a restart), then each new row as it lands."""
        task_status.started()
        cursor = 0
        while True:
            posted = self._store.mail_posted.next_pulse()
            batch = await self._outlasting(
                functools.partial(self._store.unapplied_mail, after_id=cursor, limit=100)
            )
            if not batch:
                await posted.wait()
                continue
            for mail in batch:
                await self._dispatch(mail)
                cursor = mail.id

    async def _outlasting(self, step: Callable[[], Awaitable[_T]]) -> _T:
        """``step()``, tried again each time the database comes back from an outage."""
        return await outlasting_outages(self._store, lambda _retried: step())

    async def _dispatch(self, mail: Mail) -> None:
        attempts = mail.attempts
        while True:
            try:
                await self._apply(mail, redelivery=attempts > 0)
                self.dispatched += 1
                return
            except UnreadableMail as exc:
                await self._outlasting(
                    functools.partial(self._dead_letter, mail, f"unreadable: {exc}")
                )
                return
            except Exception as exc:
                if not self._store.available or _caused_by_outage(exc):
                    # Not this row's fault: wait for the database, then try again as a
                    # redelivery (the earlier try may have committed) without counting it.
                    await self._store.wait_available()
                    attempts = max(attempts, 1)
                    continue
                # A timed-out call may still be applied later: the retry is a redelivery,
                # which the actor checks against the mail row before applying.
                attempts += 1
                cause = exc.__cause__ if isinstance(exc, ActorDied) and exc.__cause__ else exc
                logger.warning(
                    "mail %s (%s %s) failed (try %s): %s",
                    mail.id,
                    mail.source,
                    mail.kind,
                    attempts,
                    storable(repr(cause))[:500],
                )
                if attempts >= self._max_attempts:
                    failed = (
                        "crashed its actor"
                        if isinstance(exc, (ActorDied, trio.TooSlowError))
                        else "failed"
                    )
                    error = f"{failed} {attempts} times: {storable(repr(cause))[:2000]}"
                    await self._outlasting(functools.partial(self._dead_letter, mail, error))
                    return
                await self._outlasting(
                    functools.partial(self._store.commit, [CountMailAttempt(mail_id=mail.id)])
                )

    async def _dead_letter(self, mail: Mail, error: str) -> None:
        now = self._clock.now()
        await self._store.commit(
            [
                RecordDeadLetter(
                    at=now,
                    actor=mail.target,
                    message=f"{mail.source} {mail.kind} (mail {mail.id})",
                    error=error,
                    mail_id=mail.id,
                    target=mail.target,
                    source=mail.source,
                    kind=mail.kind,
                    body=mail.body,
                ),
                MarkMailApplied(mail_id=mail.id, at=now, error=error),
            ]
        )
        self.dead_lettered += 1

    async def _apply(self, mail: Mail, *, redelivery: bool) -> None:
        kind, colon, key = mail.target.partition(":")
        if kind == "dispatch":
            await self._apply_webhook(mail, redelivery=redelivery)
            return
        caught_up, message_kind = split_caught_up(mail.kind)
        try:
            message = decode(message_kind, mail.body)
        except Exception as exc:  # a body no message class can be built from
            raise UnreadableMail(storable(f"{mail.kind}: {exc}")) from exc
        deliver = Deliver(
            messages=(message,),
            source=mail.source,
            mail_id=mail.id,
            redelivery=redelivery,
            caught_up=caught_up,
        )
        handoff = self._handoffs.get(kind)
        actor_key = handoff.key(key if colon else None) if handoff is not None else None
        if handoff is None or actor_key is None:
            raise UnreadableMail(f"unknown target {mail.target!r}")
        await handoff.call(actor_key, deliver)

    async def _apply_webhook(self, mail: Mail, *, redelivery: bool) -> None:
        # What the reconciler caught up on is the fact itself, not a body to translate.
        caught_up, message_kind = split_caught_up(mail.kind)
        try:
            if caught_up is not None:
                fact = decode(message_kind, mail.body)
            else:
                fact = self._translate(mail.source, load_json(mail.body))
        except Exception as exc:  # whatever the translator refuses can never be applied
            raise UnreadableMail(storable(str(exc))) from exc
        lookup = lookup_for(fact)
        if lookup is None:
            await self._store.commit([MarkMailApplied(mail_id=mail.id, at=self._clock.now())])
            return
        found = await self._candidates(lookup)
        chosen = route(fact, found)
        messages: tuple[object, ...] = (fact,)
        if chosen.create:
            targets: tuple[int, ...] = (await self._store.allocate_request_id(),)
            if isinstance(fact, m.MediaRequested):
                messages += await self._downloads_to_join(fact, found.by_media)
        else:
            targets = chosen.targets
        if not targets:
            logger.info(
                "mail %s (%s %s) applies to nothing: %s",
                mail.id,
                mail.source,
                mail.kind,
                chosen.reason,
            )
            await self._store.commit([MarkMailApplied(mail_id=mail.id, at=self._clock.now())])
            return
        if len(targets) == 1:
            deliver = Deliver(
                messages=messages,
                source=mail.source,
                mail_id=mail.id,
                redelivery=redelivery,
                caught_up=caught_up,
            )
            await self._call_request(targets[0], deliver)
            return
        await self._fan_out(mail, targets, messages, caught_up)

    async def _fan_out(
        self,
        mail: Mail,
        targets: tuple[int, ...],
        messages: tuple[object, ...],
        caught_up: str | None,
    ) -> None:
        """One fact for several requests: hand each its copy durably, then mark the webhook."""
        now = self._clock.now()
        ops: list[Op] = []
        for target in targets:
            for message in messages:
                kind, body = encode(message)
                if caught_up is not None:
                    kind = caught_up_kind(caught_up, kind)
                ops.append(
                    PostMail(
                        target=request_target(target),
                        source=mail.source,
                        kind=kind,
                        body=body,
                        at=now,
                    )
                )
        ops.append(MarkMailApplied(mail_id=mail.id, at=now))
        await self._store.commit(ops)

    async def _candidates(self, lookup: Lookup) -> Candidates:
        store = self._store
        by_hash: list[RequestRow] = []
        if lookup.torrent_hash:
            by_hash = await self._load(await store.request_ids_for_hash(lookup.torrent_hash))
        by_jellyseerr = await store.find_requests(
            media_type=lookup.media_type,
            jellyseerr_request_id=lookup.jellyseerr_request_id,
            active_only=False,
        )
        by_arr = await store.find_requests(
            media_type=lookup.media_type, arr_id=lookup.arr_id, active_only=False
        )
        by_media = await store.find_requests(
            media_type=lookup.media_type, tmdb_id=lookup.tmdb_id, tvdb_id=lookup.tvdb_id
        )
        if not by_media and lookup.imdb_id:
            by_media = await store.find_requests(
                media_type=lookup.media_type, imdb_id=lookup.imdb_id
            )
        by_title: list[RequestRow] = []
        if lookup.series_title:
            by_title = [
                row
                for row in await store.active_requests()
                if row.media_type == lookup.media_type
                and same_title(row.title, lookup.series_title)
            ]
        by_episode: list[RequestRow] = []
        if lookup.episode_tvdb_id:
            ids = await store.request_ids_for_episode_tvdb(lookup.episode_tvdb_id)
            by_episode = [r for r in await self._load(ids) if r.state in ACTIVE_STATES]
        by_shoko_file: list[RequestRow] = []
        if lookup.shoko_file_id is not None:
            ids = await store.request_ids_for_shoko_file(lookup.shoko_file_id)
            by_shoko_file = [r for r in await self._load(ids) if r.state in ACTIVE_STATES]
        return Candidates(
            by_hash=tuple(by_hash),
            by_jellyseerr=tuple(by_jellyseerr),
            by_arr=tuple(by_arr),
            by_media=tuple(by_media),
            by_title=tuple(by_title),
            by_episode=tuple(by_episode),
            by_shoko_file=tuple(by_shoko_file),
        )

    async def _load(self, request_ids: list[int]) -> list[RequestRow]:
        """The requests with these ids, in the given order, skipping any that vanished."""
        rows = [await self._store.load_request(request_id) for request_id in request_ids]
        return [row for row in rows if row is not None]

    async def _downloads_to_join(
        self, fact: m.MediaRequested, others: tuple[RequestRow, ...]
    ) -> tuple[m.DownloadJoined, ...]:
        """A new request for media another active request is downloading joins that download."""
        downloading = ("grabbing", "downloading", "downloaded")
        for other in others:
            if fact.media_type == "movie":
                if other.download_hash and other.state in downloading:
                    return (m.DownloadJoined(hash=other.download_hash, name=None),)
                continue
            by_hash: dict[str, list[m.EpisodeRef]] = {}
            for episode in await self._store.load_episodes(other.id):
                wanted = not fact.requested_seasons or episode.season in fact.requested_seasons
                if wanted and episode.torrent_hash and episode.state in downloading:
                    by_hash.setdefault(episode.torrent_hash, []).append(
                        m.EpisodeRef(
                            season=episode.season, episode=episode.episode, title=episode.title
                        )
                    )
            if by_hash:
                return tuple(
                    m.DownloadJoined(hash=torrent_hash, name=None, episodes=tuple(refs))
                    for torrent_hash, refs in sorted(by_hash.items())
                )
        return ()
