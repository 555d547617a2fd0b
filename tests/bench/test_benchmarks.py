"""Each benchmark in bench/ runs in its --quick size, prints the figures it promises and loses
nothing (no timing is asserted: these are the benchmarks' own smoke tests)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import trio

ROOT = Path(__file__).resolve().parents[2]


async def benchmark(script: str, *arguments: str) -> dict[str, Any]:
    """Run ``bench/<script> --quick`` with ``arguments``; the one JSON object it printed."""
    completed = await trio.run_process(
        [sys.executable, str(ROOT / "bench" / script), "--quick", *arguments],
        cwd=ROOT,
        capture_stdout=True,
        capture_stderr=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr.decode()
    (result,) = [json.loads(line) for line in completed.stdout.decode().splitlines()]
    return result


def has_figures(result: dict[str, Any], *names: str) -> None:
    missing = [name for name in names if result.get(name) is None]
    assert not missing, f"{result.get('benchmark')} printed no {missing}: {result}"


async def test_the_ingest_benchmark_applies_every_webhook(backend: str) -> None:
    result = await benchmark("ingest.py", "--backends", backend)
    has_figures(
        result,
        "accepted_per_s",
        "baseline_accepted_per_s",
        "ingest_ratio",
        "applied_after_s",
        "applied_over_accept",
        "applied_rows_per_s",
    )
    has_figures(result["latency"], "p50_ms", "p99_ms")
    assert (result["refused"], result["baseline_refused"], result["lost"]) == (0, 0, 0)
    assert result["dead_letters"] == 0
    assert result["reached_available"] == result["movies"]


async def test_the_start_up_benchmark_applies_the_whole_backlog(backend: str) -> None:
    result = await benchmark("start_backlog.py", "--backends", backend)
    has_figures(
        result,
        "serving_after_s",
        "empty_serving_after_s",
        "serving_ratio",
        "applied_after_s",
        "applied_per_s",
    )
    assert (result["lost"], result["dead_letters"]) == (0, 0)


async def test_the_fan_out_benchmark_delivers_every_change_to_every_client() -> None:
    result = await benchmark("feed_fanout.py", "--steps", "4", "--rounds", "2")
    has_figures(result, "p99_ratio", "p50_ratio")
    for measured in result["rounds"]:
        has_figures(measured["baseline"], "p50_ms", "p99_ms")
        has_figures(measured["service"], "p50_ms", "p99_ms")
    assert (result["refused"], result["baseline_refused"]) == (0, 0)
    assert (result["undelivered_pairs"], result["baseline_undelivered_pairs"]) == (0, 0)
    assert result["latest_state_delivered"] == 1.0


async def test_the_fan_out_ingest_benchmark_applies_every_webhook() -> None:
    result = await benchmark("feed_fanout.py", "--ingest-movies", "10", "--rounds", "2")
    has_figures(result, "ingest_ratio")
    assert len(result["ingest_ratios"]) == len(result["each_round"]) == 2
    for measured in result["each_round"]:
        for phase in ("without_clients", "with_clients"):
            has_figures(measured[phase], "accepted_per_s", "p99_ms")
    assert (result["refused"], result["lost"]) == (0, 0)


async def test_the_sweep_benchmark_rereads_every_stalled_download(backend: str) -> None:
    result = await benchmark("sweep_cost.py", "--backends", backend)
    measured = result[backend]
    has_figures(measured, "storage_reads", "qbittorrent_calls", "sweep_ms_p50", "sweep_cpu_ms_p50")
    assert measured["rereads"] == result["stalled"]
