"""The dispatcher loop: read unapplied mail in pages, apply it in waves, each row exactly once.

A wave is the run of rows, from the oldest unapplied, that `correlation`'s batching rule lets
be correlated together (see `planner`), up to twice as many rows as the last wave took (64 at
least: planning looks up every planned row, so it plans about what a wave can take, and a run
of independent rows reaches a whole page in three waves): its rows are routed against one read
of storage (a row about a request earlier rows of the wave change, against it as they leave
it), and delivered at once, every actor getting its own rows in mail order in one
delivery it applies in one transaction. The next wave starts when every row of this one is
applied or a dead letter. Whatever applying one row raises (in translation, correlation, an
actor or a storage write), that row becomes a dead letter after ``max_attempts`` tries instead
of blocking the inbox or stopping the service: a delivery of several rows that fails is tried
again one row at a time. While the database is unavailable the dispatcher waits for it
without counting tries.

Senders first: while webhooks arrive in a burst (``webhook_burst()``), the next wave waits
until the burst ends or ``BURST_WAIT_S`` has passed since it began waiting (rows go on being
read, a page at most): webhooks and rows share one core, the senders are answered sooner, and
the backlog goes in large waves, which cost less per row than many small ones.
"""

from __future__ import annotations

import functools
import logging
import typing
from collections.abc import Awaitable, Callable, Sequence

import attrs
import trio
from status_tracker.storage import (
    CountMailAttempt,
    DatabaseUnavailable,
    Mail,
    MarkMailApplied,
    Op,
    RecordDeadLetter,
    Store,
)

from status_tracker.strict import storable

from ..clock import WallClock
from ..envelope import Deliver, DeliverAll, outlasting_outages
from ..mail import SERVICES_TARGET
from ..runtime import ActorDied
from .planner import Planner, Row, Step, Translator

logger = logging.getLogger(__name__)

CallActor = Callable[[object, Deliver | DeliverAll], Awaitable[object]]
PAGE = 500
"""Mail rows read, and a wave's rows, at most."""
CONCURRENT_DELIVERIES = 64
"""Actors a wave delivers to at once at most: enough to fill the writer's transactions, few
enough that a read of the HTTP side never queues behind hundreds of actors' reads."""
FIRST_PLANNED = 64
"""Rows planned for a wave at least: each wave plans twice as many as the last one took.
A wave ends at the first row that must wait for an earlier one it cannot follow (rows about
two titles at once, say), and planning looks up every planned row's requests: planning the
whole page each time read 500 rows' requests for a wave of 20 when every row waited so."""
BURST_WAIT_S = 2.0
"""The longest a wave waits for a burst to end: how late the board may fall behind in one."""
BURST_POLL_S = 0.02
_T = typing.TypeVar("_T")


class UnreadableMail(Exception):
    """A mail row that can never be applied (bad body, unknown kind or target)."""


@typing.final
@attrs.frozen(kw_only=True)
class BacklogStatistics:
    """The dispatcher's progress since it started: rows waiting then, rows applied or dead
    lettered since, and when it first found none left (None: still replaying)."""

    started_at: float
    at_start: int | None
    applied: int
    drained_at: float | None


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
        webhook_burst: Callable[[], bool] = lambda: False,
    ) -> None:
        self._store = store
        self._webhook_burst = webhook_burst
        self._planner = Planner(store=store, translate=translate, clock=clock)
        self._calls: dict[str, CallActor] = {
            "request": call_request,
            "torrent": call_torrent,
            SERVICES_TARGET: lambda _key, deliver: call_services(deliver),  # type: ignore[arg-type]
        }
        self._clock = clock
        self._max_attempts = max_attempts
        self.dispatched = 0
        self.dead_lettered = 0
        self._started_at = clock.now()
        self._at_start: int | None = None
        self._drained_at: float | None = None

    def backlog(self) -> BacklogStatistics:
        return BacklogStatistics(
            started_at=self._started_at,
            at_start=self._at_start,
            applied=self.dispatched + self.dead_lettered,
            drained_at=self._drained_at,
        )

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Apply all waiting mail (a replay after a restart), then each new row as it lands."""
        task_status.started()
        self._at_start = (await outlasting_outages(self._store, self._counts))["pending"]
        rows: list[Row] = []
        cursor = 0
        waiting_since: float | None = None
        planned = FIRST_PLANNED
        while True:
            posted = self._store.mail_posted.next_pulse()
            if len(rows) < PAGE:
                page = await self._outlasting(
                    functools.partial(
                        self._store.unapplied_mail, after_id=cursor, limit=PAGE - len(rows)
                    )
                )
                for mail in page:
                    rows.append(self._planner.read(mail))
                    await trio.lowlevel.checkpoint()  # translating a page takes a while
                cursor = page[-1].id if page else cursor
            if not rows:
                if self._drained_at is None:
                    self._drained_at = self._clock.now()
                await posted.wait()
                continue
            if self._webhook_burst():
                now = trio.current_time()
                waiting_since = now if waiting_since is None else waiting_since
                if now < waiting_since + BURST_WAIT_S:
                    await trio.sleep(min(BURST_POLL_S, waiting_since + BURST_WAIT_S - now))
                    continue
            waiting_since = None
            steps = await self._through_outages(functools.partial(self._plan, rows[:planned]))
            await self._run_wave(steps)
            del rows[: len(steps)]
            planned = max(FIRST_PLANNED, 2 * len(steps))

    async def _counts(self, _retried: bool) -> dict[str, int]:
        return await self._store.mail_counts()

    async def _plan(self, rows: Sequence[Row], _retried: bool) -> list[Step]:
        return await self._planner.plan(rows)

    async def _outlasting(self, step: Callable[[], Awaitable[_T]]) -> _T:
        """``step()``, tried again each time the database comes back from an outage."""
        return await outlasting_outages(self._store, lambda _retried: step())

    async def _through_outages(self, attempt: Callable[[bool], Awaitable[_T]]) -> _T:
        """``attempt(False)``; after each failure the database being down explains, waits for
        it and runs ``attempt(True)`` (the earlier try may have committed)."""
        retried = False
        while True:
            try:
                return await attempt(retried)
            except Exception as exc:
                if self._store.available and not _caused_by_outage(exc):
                    raise
                await self._store.wait_available()
                retried = True

    async def _run_wave(self, steps: Sequence[Step]) -> None:
        """Apply every step: each actor's in one delivery, many actors at once."""
        groups: dict[tuple[str, object], list[Step]] = {}
        slots = trio.CapacityLimiter(CONCURRENT_DELIVERIES)

        async def bounded(apply: Callable[..., Awaitable[None]], *args: object) -> None:
            async with slots:
                await apply(*args)

        async with trio.open_nursery() as nursery:
            for step in steps:
                if step.actor is None:
                    nursery.start_soon(bounded, self._settle_alone, step)
                else:
                    groups.setdefault(step.actor, []).append(step)
            for (kind, key), group in groups.items():
                nursery.start_soon(bounded, self._deliver, kind, key, group)

    async def _deliver(self, kind: str, key: object, steps: list[Step]) -> None:
        """Deliver an actor's steps together; if that fails, each alone (counting a try)."""
        call = self._calls[kind]
        attempts = [step.mail.attempts for step in steps]
        if len(steps) > 1 and kind != SERVICES_TARGET:
            try:
                await self._through_outages(
                    lambda retried: call(key, _together(steps, redelivery=retried))
                )
            except Exception as exc:
                logger.warning(
                    "mail %s..%s for %s[%r] failed together, trying each alone: %s",
                    steps[0].mail.id,
                    steps[-1].mail.id,
                    kind,
                    key,
                    storable(repr(exc))[:500],
                )
                await self._outlasting(
                    functools.partial(
                        self._store.commit, [CountMailAttempt(mail_id=s.mail.id) for s in steps]
                    )
                )
                attempts = [count + 1 for count in attempts]
            else:
                self.dispatched += len(steps)
                return
        for step, tried in zip(steps, attempts, strict=True):
            deliver = step.deliver
            assert deliver is not None

            async def attempt(redelivery: bool, deliver: Deliver = deliver) -> None:
                await call(key, attrs.evolve(deliver, redelivery=redelivery))

            await self._settle(step.mail, attempt, attempts=tried)

    async def _settle_alone(self, step: Step) -> None:
        """A step no actor takes: a dead letter, the dispatcher's own commit, or a row planned
        again alone at each try."""
        mail = step.mail
        if step.unreadable is not None:
            await self._outlasting(
                functools.partial(self._dead_letter, mail, f"unreadable: {step.unreadable}")
            )
        elif step.failure is not None:
            await self._settle(
                mail, functools.partial(self._apply_alone, mail), attempts=mail.attempts
            )
        else:
            await self._settle(
                mail, functools.partial(self._commit_once, mail, step.ops), attempts=mail.attempts
            )

    async def _apply_alone(self, mail: Mail, redelivery: bool) -> None:
        """Plan and apply one row by itself (raising whatever that raises)."""
        (step,) = await self._planner.plan_exactly([self._planner.read(mail)])
        if step.unreadable is not None:
            raise UnreadableMail(step.unreadable)
        if step.actor is None:
            await self._commit_once(mail, step.ops, redelivery)
            return
        kind, key = step.actor
        assert step.deliver is not None
        await self._calls[kind](key, attrs.evolve(step.deliver, redelivery=redelivery))

    async def _commit_once(self, mail: Mail, ops: Sequence[Op], redelivery: bool) -> None:
        """Commit ``ops`` (which mark ``mail`` applied) unless an earlier try did."""
        if not (redelivery and await self._store.mail_applied(mail.id)):
            await self._store.commit(ops)

    async def _settle(
        self, mail: Mail, attempt: Callable[[bool], Awaitable[None]], *, attempts: int
    ) -> None:
        """``attempt(redelivery)`` until it applies ``mail``, which becomes a dead letter when
        it is unreadable or has failed ``max_attempts`` tries."""
        while True:
            try:
                await self._through_outages(
                    lambda retried, tried=attempts: attempt(retried or tried > 0)
                )
                self.dispatched += 1
                return
            except UnreadableMail as exc:
                await self._outlasting(
                    functools.partial(self._dead_letter, mail, f"unreadable: {exc}")
                )
                return
            except Exception as exc:
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


def _together(steps: Sequence[Step], *, redelivery: bool) -> DeliverAll:
    deliveries = []
    for step in steps:
        assert step.deliver is not None
        deliveries.append(
            attrs.evolve(step.deliver, redelivery=redelivery or step.deliver.redelivery)
        )
    return DeliverAll(deliveries=tuple(deliveries))
