"""What /health says about one dependency, from the outcome of each round of talking to it.

A problem is logged once when it first appears or changes, and once when the dependency
answers well again; never once per poll.
"""

from __future__ import annotations

import datetime
import logging
import time
import typing
from collections.abc import Callable

import attrs

if typing.TYPE_CHECKING:
    from ._http import ClientError

logger = logging.getLogger(__name__)

HealthState = typing.Literal["ok", "degraded", "unknown"]


@typing.final
@attrs.frozen(kw_only=True)
class DependencyStatus:
    """One dependency as /health shows it.

    Attributes:
        reachable: None until the dependency was asked; True after a well-formed answer;
            False after a failure.
        status: ``unknown`` before the first round, ``ok``, or ``degraded`` (see ``reason``).
        reason: why it is degraded, in one sentence, or None.
        errors: failed rounds since start.
        last_ok_at: when it last answered well (ISO 8601 UTC), or None.
    """

    reachable: bool | None
    status: HealthState
    reason: str | None
    errors: int
    last_ok_at: str | None


@typing.final
class DependencyHealth:
    """The running record of one dependency; the clients' users report each round to it."""

    def __init__(self, service: str, *, now: Callable[[], float] = time.time) -> None:
        self._service = service
        self._now = now
        self._reachable: bool | None = None
        self._reason: str | None = None
        self._errors = 0
        self._last_ok_at: float | None = None

    def answered(self) -> None:
        """The dependency gave a well-formed answer."""
        if self._reachable is False:
            logger.info("%s answers well again", self._service)
        self._reachable = True
        self._reason = None
        self._last_ok_at = self._now()

    def failed(self, problem: ClientError | str) -> None:
        """Asking the dependency failed: a client's error, or the reason in a sentence."""
        reason = problem if isinstance(problem, str) else problem.reason
        self._errors += 1
        if reason != self._reason:
            logger.warning("%s is degraded: %s", self._service, problem)
        self._reachable = False
        self._reason = reason

    def status(self) -> DependencyStatus:
        state: HealthState = (
            "unknown" if self._reachable is None else "ok" if self._reachable else "degraded"
        )
        return DependencyStatus(
            reachable=self._reachable,
            status=state,
            reason=self._reason,
            errors=self._errors,
            last_ok_at=None
            if self._last_ok_at is None
            else datetime.datetime.fromtimestamp(self._last_ok_at, datetime.UTC).isoformat(),
        )
