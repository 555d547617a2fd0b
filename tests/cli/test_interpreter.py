"""How the process shares the interpreter between its threads, by backend."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from status_tracker.config import Config
from status_tracker.main import POSTGRESQL_SWITCH_INTERVAL_S, share_the_interpreter


@pytest.fixture
def switch_interval() -> Iterator[float]:
    before = sys.getswitchinterval()
    yield before
    sys.setswitchinterval(before)


def test_on_postgresql_the_driver_thread_waits_less_for_the_interpreter(
    switch_interval: float,
) -> None:
    share_the_interpreter(Config(database_url="postgresql://st@db/st"))
    assert sys.getswitchinterval() == pytest.approx(POSTGRESQL_SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() < switch_interval


def test_on_sqlite_the_interpreter_keeps_its_default(switch_interval: float) -> None:
    share_the_interpreter(Config(database_url="sqlite:///./st.db"))
    assert sys.getswitchinterval() == switch_interval
