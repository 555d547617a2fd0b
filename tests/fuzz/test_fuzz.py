"""Mutated real payloads and hostile queries against the real service process, on both backends.

Every fixture a service really sends is mutated (wrong types, edge numbers, Unicode digits,
lone surrogates, NULs, deep nesting, raw non-JSON bodies) and posted to its webhook; API paths
and query strings get the same treatment. Whatever arrives, the service answers without a 5xx,
stays alive with a /health that is not failing, and a rejected body changes nothing.

Bounded for CI: ``ST_FUZZ_EXAMPLES`` examples per test (default 250), derandomized so CI
runs the same cases each time; set ``ST_FUZZ_RANDOM=1`` to explore new ones, and
``ST_FUZZ_REPORT=path`` to write the figures (payloads per endpoint, statuses, deaths) as JSON.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.service_process import ServiceProcess, service_process, throwaway_postgres_url
from tests.support.ci import require_or_skip
from tests.support.fixtures import FIXTURES

EXAMPLES = int(os.environ.get("ST_FUZZ_EXAMPLES", "250"))
SOURCES = ("jellyseerr", "radarr", "sonarr", "jellyfin")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("ST_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _webhook_fixtures() -> list[tuple[str, Any]]:
    found = []
    for source in SOURCES:
        for path in sorted((FIXTURES / source).glob("*.json")):
            found.append((source, json.loads(path.read_text())))
        for path in sorted((FIXTURES / "captured").glob(f"{source}-*.json")):
            found.append((source, json.loads(path.read_text())))
    return found


WEBHOOK_FIXTURES = _webhook_fixtures()

EDGE_VALUES: list[Any] = [
    None, True, False, 0, -1, 1.5, 2**31 - 1, 2**31, -(2**31) - 1, 2**63 - 1, 2**63,
    -(2**63) - 1, 10**40, "", "0", "-1", "²", "\u0661\u0662", "\U0001d7d9", "+1", " 1",
    "1.0", "1e3",
    "9223372036854775807", "9223372036854775808", "\ud800", "x\udfffy", "\x00", "a\x00b",
    "x" * 70_000, "<html><body>500</body></html>", "🎬🍿", "\u202eevil", [], {}, [[[]]],
    {"id": {"id": {"id": 1}}}, [None, 1, "a"], "../../etc/passwd", "%", "_", "' OR 1=1 --",
]  # fmt: skip


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


RAW_BODIES: list[bytes] = [
    b"", b"null", b"[]", b"\"text\"", b"42", b"{", b"{\"eventType\": ", b"\xff\xfe\xfd",
    b"\x00\x00", b"NaN", b"{\"a\": NaN}", b"{\"a\": Infinity}", _deep(1_000).encode(),
    _deep(100_000).encode(), b"{\"a\":" * 50_000, b"<html></html>", "é".encode("latin-1"),
]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*prefix, index))


def _replace(body: Any, path: tuple[Any, ...], value: Any, *, delete: bool) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(body))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return copy


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated_webhooks(draw: st.DrawFn) -> tuple[str, bytes]:
    """(source, raw body): a real payload with one or more fields mutated, or raw garbage."""
    source, body = draw(st.sampled_from(WEBHOOK_FIXTURES))
    kind = draw(st.sampled_from(["edge", "edge", "generated", "delete", "several", "raw"]))
    if kind == "raw":
        raw = draw(st.sampled_from(RAW_BODIES) | st.binary(max_size=300))
        return draw(st.sampled_from(SOURCES)), raw
    paths = list(_paths(body))
    mutations = draw(st.integers(min_value=2, max_value=5)) if kind == "several" else 1
    for _ in range(mutations):
        path = draw(st.sampled_from(paths))
        value = draw(json_values) if kind == "generated" else draw(st.sampled_from(EDGE_VALUES))
        body = _replace(body, path, value, delete=kind == "delete")
        paths = list(_paths(body))
    return source, json.dumps(body).encode()


ids = st.sampled_from(
    ["1", "0", "-1", "²", "\U0001d7d9", "\u0661", "9223372036854775807",
     "9223372036854775808", "1.0", "%20", "abc", "99999999999999999999999999", "1%00",
     "..%2f..", ""]
) | st.integers(min_value=-(2**70), max_value=2**70).map(str)  # fmt: skip
short_edge_texts = [str(value) for value in EDGE_VALUES if len(str(value)) < 1000]
query_values = st.sampled_from(short_edge_texts) | st.text(max_size=20) | ids


@st.composite
def hostile_api_calls(draw: st.DrawFn) -> tuple[str, str, str, dict[str, str], bytes | None]:
    """(endpoint, method, path, query, body) for the API: hostile ids, parameters and bodies."""
    target = draw(st.sampled_from(["list", "detail", "delete", "episodes", "health", "other"]))
    query: dict[str, str] = {}
    if target == "list":
        names = st.sampled_from(["state", "media_type", "q", "limit", "offset", "token", "x"])
        query = draw(st.dictionaries(names, query_values, max_size=4))
        return "GET /api/requests", "GET", "/api/requests", query, None
    if target == "health":
        query = draw(st.dictionaries(st.text(max_size=5), query_values))
        return "GET /health", "GET", "/health", query, None
    if target == "other":
        method = draw(st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]))
        path = "/" + draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz/_.%", max_size=30))
        return f"{method} (any path)", method, path, {}, None
    request_id = draw(ids)
    if target == "detail":
        return "GET /api/requests/{id}", "GET", f"/api/requests/{request_id}", {}, None
    if target == "delete":
        return "DELETE /api/requests/{id}", "DELETE", f"/api/requests/{request_id}", {}, None
    episodes = draw(
        st.sampled_from(RAW_BODIES)
        | json_values.map(lambda v: json.dumps({"episodes": v}).encode())
        | st.lists(
            st.fixed_dictionaries(
                {"season": st.sampled_from(EDGE_VALUES), "episode": st.sampled_from(EDGE_VALUES)}
            ),
            max_size=3,
        ).map(lambda v: json.dumps({"episodes": v}).encode())
    )
    endpoint = "DELETE /api/requests/{id}/episodes"
    return endpoint, "DELETE", f"/api/requests/{request_id}/episodes", {}, episodes


FIGURES: dict[str, Any] = collections.defaultdict(collections.Counter)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """The real service process on each backend, checked healthy and alive afterwards."""
    folder = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    urls = _sqlite_url(folder) if request.param == "sqlite" else _postgres_url()
    with urls as database_url, service_process(database_url, folder) as service:
        yield service
        assert service.alive(), service.log.read_text()[-4000:]
        with service.client() as http:
            _wait_for_inbox_to_drain(http)
            health = http.get("/health")
            assert health.status_code == 200, health.text
            body = health.json()
            assert body["supervisor"]["state"] == "running"
            figures = FIGURES[request.param]
            figures["dead_letters"] = body["dead_letters"]["count"]
            figures["process_deaths"] = 0 if service.alive() else 1
            figures["actor_crash_log_lines"] = service.log.read_text().count("crashed")
    _write_report()


def _sqlite_url(folder: Path) -> Any:
    return contextlib.nullcontext(f"sqlite:///{folder / 'fuzz.db'}")


def _postgres_url() -> Any:
    try:
        return throwaway_postgres_url()
    except OSError as exc:  # pragma: no cover - the server is missing
        require_or_skip(f"PostgreSQL unreachable: {exc}")
        raise


def _wait_for_inbox_to_drain(http: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if http.get("/health").json()["inbox"].get("pending", 1) == 0:
            return
        time.sleep(0.05)
    raise AssertionError("the inbox did not drain within 60 s after the fuzzing")


def _write_report() -> None:
    target = os.environ.get("ST_FUZZ_REPORT")
    if target:
        Path(target).write_text(json.dumps(FIGURES, indent=2, sort_keys=True))


def _stored_webhooks(http: httpx.Client) -> int:
    health = http.get("/health")
    assert health.status_code == 200, f"/health is failing: {health.text}"
    return health.json()["inbox"]["webhooks"]


@FUZZ_SETTINGS
@given(case=mutated_webhooks())
def test_no_mutated_webhook_gets_a_5xx_or_changes_anything_when_refused(
    live: ServiceProcess, case: tuple[str, bytes]
) -> None:
    source, raw = case
    with live.client() as http:
        before = _stored_webhooks(http)
        response = http.post(f"/webhooks/{source}", content=raw, headers=live.webhook_headers())
        FIGURES[live_key(live)][f"webhooks/{source} {response.status_code}"] += 1
        assert response.status_code < 500, response.text
        assert response.headers["content-type"].startswith("application/json"), response.text
        if response.status_code >= 400:
            assert "error" in response.json()
            assert _stored_webhooks(http) == before, "a refused body must change nothing"
    assert live.alive(), f"the service died: {live.log.read_text()[-4000:]}"


@FUZZ_SETTINGS
@given(call=hostile_api_calls())
def test_no_hostile_api_call_gets_a_5xx(
    live: ServiceProcess, call: tuple[str, str, str, dict[str, str], bytes | None]
) -> None:
    endpoint, method, path, query, body = call
    with live.client() as http:
        response = http.request(
            method, _with_raw_query(path, query), content=body, headers=live.api_headers()
        )
        FIGURES[live_key(live)][f"{endpoint} {response.status_code}"] += 1
        assert response.status_code < 500, f"{method} {path} {query}: {response.text}"
        if response.status_code >= 400:
            assert response.json().get("error"), response.text
    assert live.alive(), live.log.read_text()[-4000:]


def _with_raw_query(path: str, query: dict[str, str]) -> str:
    """``path?query`` percent-encoded byte by byte, lone surrogates included (invalid UTF-8)."""
    if not query:
        return path

    def encoded(text: str) -> str:
        return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")

    return path + "?" + "&".join(f"{encoded(k)}={encoded(v)}" for k, v in query.items())


def live_key(live: ServiceProcess) -> str:
    return "sqlite" if live.database_url.startswith("sqlite") else "postgresql"
