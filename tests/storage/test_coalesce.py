"""Look-ups asked for at once are read together; a failed or abandoned read strands no one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import TypeVar

import pytest
import trio
import trio.testing
from status_tracker.storage import SaveDownload, Store
from status_tracker.storage._coalesce import Coalesced

from status_tracker.domain import DownloadRow


class Reads:
    """A read that records the keys of each call; it fails when asked for ``fail_with`` among
    other keys (alone, it is read)."""

    def __init__(self, *, fail_with: int | None = None, took_s: float = 0.0) -> None:
        self.calls: list[list[int]] = []
        self.fail_with = fail_with
        self.took_s = took_s

    async def __call__(self, keys: Collection[int]) -> Mapping[int, str]:
        self.calls.append(sorted(keys))
        await trio.sleep(self.took_s)
        if self.fail_with in keys and len(keys) > 1:
            raise RuntimeError("the batch failed")
        return {key: f"row {key}" for key in keys if key % 10 != 0}


K = TypeVar("K")
V = TypeVar("V")


async def at_once(get: Callable[[K], Awaitable[V]], keys: list[K]) -> dict[K, V]:
    """``get`` of every key, all started together; what each gave."""
    got: dict[K, V] = {}

    async def one(key: K) -> None:
        got[key] = await get(key)

    async with trio.open_nursery() as nursery:
        for key in keys:
            nursery.start_soon(one, key)
    return got


async def test_keys_asked_for_at_once_are_read_in_one_call(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reads = Reads()
    got = await at_once(Coalesced(reads).get, [1, 2, 3, 10, 2])
    assert got == {1: "row 1", 2: "row 2", 3: "row 3", 10: None}
    assert reads.calls == [[1, 2, 3, 10]]


async def test_keys_asked_for_one_after_another_are_read_each_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reads = Reads()
    coalesced = Coalesced(reads)
    assert [await coalesced.get(key) for key in (1, 2)] == ["row 1", "row 2"]
    assert reads.calls == [[1], [2]]


async def test_when_the_read_for_all_fails_each_other_key_is_read_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reads = Reads(fail_with=1)
    coalesced = Coalesced(reads)
    got: dict[int, str | None] = {}
    failed: list[int] = []

    async def get(key: int) -> None:
        try:
            got[key] = await coalesced.get(key)
        except RuntimeError:
            failed.append(key)

    async with trio.open_nursery() as nursery:
        for key in (1, 2, 3):
            nursery.start_soon(get, key)
    # The first asker, whose read it was, fails; the others get their rows.
    assert len(failed) == 1
    assert got == {key: f"row {key}" for key in {1, 2, 3} - set(failed)}
    assert reads.calls[0] == [1, 2, 3]
    assert sorted(reads.calls[1:]) == [[key] for key in sorted(got)]


async def test_when_the_first_asker_is_cancelled_the_others_read_alone(
    autojump_clock: trio.testing.MockClock,
) -> None:
    readers: list[trio.lowlevel.Task] = []
    reads = Reads(took_s=1.0)

    async def read(keys: Collection[int]) -> Mapping[int, str]:
        readers.append(trio.lowlevel.current_task())
        return await reads(keys)

    coalesced = Coalesced(read)
    got: dict[int, str | None] = {}
    scopes: dict[trio.lowlevel.Task, tuple[int, trio.CancelScope]] = {}

    async def get(key: int) -> None:
        with trio.CancelScope() as scope:
            scopes[trio.lowlevel.current_task()] = (key, scope)
            got[key] = await coalesced.get(key)

    async with trio.open_nursery() as nursery:
        for key in (1, 2, 3):
            nursery.start_soon(get, key)
        await trio.sleep(0.5)  # the first asker reads for all three
        cancelled, scope = scopes[readers[0]]
        scope.cancel()
    assert got == {key: f"row {key}" for key in {1, 2, 3} - {cancelled}}
    assert reads.calls[0] == [1, 2, 3]
    assert sorted(reads.calls[1:]) == [[key] for key in sorted(got)]


@pytest.fixture
def counted_fetches(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    sqls: list[str] = []
    fetch = store.fetch

    async def counting(sql: str, *args: object, **kwargs: object) -> object:
        sqls.append(sql)
        return await fetch(sql, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "fetch", counting)
    return sqls


async def test_a_waves_actors_loading_their_downloads_make_one_read(
    store: Store, counted_fetches: list[str]
) -> None:
    hashes = [f"{n:040x}" for n in range(1, 51)]
    await store.commit(
        [SaveDownload(row=DownloadRow(hash=h, name=f"Movie {h[-2:]}")) for h in hashes[:40]]
    )
    counted_fetches.clear()
    found = await at_once(store.load_download, hashes)
    assert {h for h, row in found.items() if row is not None} == set(hashes[:40])
    assert all(row.name == f"Movie {h[-2:]}" for h, row in found.items() if row is not None)
    assert len(counted_fetches) == 1
