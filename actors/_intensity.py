"""The restart budget of supervisors and registries: at most N restarts in T seconds.

It reads `trio.current_time()`, so tests drive it with MockClock.
"""

from __future__ import annotations

import collections
import typing
from collections.abc import Sequence

import attrs
import trio


@typing.final
@attrs.define(eq=False)
class RestartIntensity:
    """A sliding window of recent restarts and the errors that caused them.

    Attributes:
        intensity: Restarts tolerated within ``period``; one more means giving up.
        period: The window length in seconds.
    """

    intensity: int = attrs.field(validator=attrs.validators.ge(0))
    period: float = attrs.field(validator=attrs.validators.gt(0))
    _restarts: collections.deque[tuple[float, BaseException | None]] = attrs.field(
        init=False, factory=collections.deque
    )

    def record(self, error: BaseException | None) -> bool:
        """Count one restart now.

        Args:
            error: What made the restart necessary (None for a normal exit).

        Returns:
            True when this restart exceeds the budget, so the caller must give up.
        """
        self._forget_old()
        self._restarts.append((trio.current_time(), error))
        return len(self._restarts) > self.intensity

    def in_window(self) -> int:
        """How many restarts fall inside the window right now."""
        self._forget_old()
        return len(self._restarts)

    def cause(self, also: Sequence[BaseException] = ()) -> BaseException | None:
        """The errors inside the window, as the cause of giving up.

        Args:
            also: Further errors to include (crashes not yet counted).

        Returns:
            None when there were no errors, the error itself when there was one, or an
            exception group of all of them.
        """
        self._forget_old()
        errors = [error for _, error in self._restarts if error is not None]
        errors.extend(also)
        if not errors:
            return None
        if len(errors) == 1:
            return errors[0]
        return BaseExceptionGroup("errors within the restart intensity window", errors)

    def reset(self) -> None:
        """Forget every restart (a supervisor that is started again begins afresh)."""
        self._restarts.clear()

    def _forget_old(self) -> None:
        horizon = trio.current_time() - self.period
        while self._restarts and self._restarts[0][0] <= horizon:
            self._restarts.popleft()
