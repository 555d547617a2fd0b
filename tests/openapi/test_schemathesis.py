"""Schemathesis against the live service (in a thread of its own, on a free port, under a URL
base): generated requests for every operation of the document, positive and negative, a
bounded and derandomized number per operation. Every answer must be one the document lists
for it (status, headers, content type, body schema), and none a 5xx.

Left out: ``GET /ws`` (a websocket; requests cannot open one, and its handshake answers are
checked in ``test_responses``). The operations that change or delete things run last, and
each also runs with the id of a real request or dead letter, so the reads see the seeded
data; with a fixed seed and that order every run sends the same requests.

``ST_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode (30);
``ST_SCHEMATHESIS_REPORT=path`` writes the figures as JSON.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from status_tracker.ingress.http.openapi import document
from status_tracker.storage import RequestQuery

from tests.browser.harness import LiveService, live_service
from tests.openapi.contract import seed
from tests.support.service import API_TOKEN, WEBHOOK_TOKEN

URL_BASE = "/tracker"
MAX_EXAMPLES = int(os.environ.get("ST_SCHEMATHESIS_EXAMPLES", "30"))
REAL_ID_EXAMPLES = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SKIPPED = {("GET", "/ws"): "a websocket: requests cannot open one"}
# Reads first, then what changes state, deletions last: the same requests in every run.
MUTATING = [
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/webhooks/{source}"),
    ("POST", "/api/dead-letters/{id}/retry"),
    ("DELETE", "/api/dead-letters/{id}"),
    ("DELETE", "/api/requests/{id}/episodes"),
    ("DELETE", "/api/requests/{id}"),
]
OPERATIONS = [
    *(
        (method.upper(), path)
        for path, item in document()["paths"].items()
        for method in item
        if (method.upper(), path) not in MUTATING and (method.upper(), path) not in SKIPPED
    ),
    *MUTATING,
]
FIGURES: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveService]:
    database = tmp_path_factory.mktemp("schemathesis") / "status-tracker.db"
    with live_service(f"sqlite:///{database}", url_base=URL_BASE) as running:

        async def post(source: str, body: dict[str, Any]) -> None:
            # The harness's client is under the base already (so is ``running.url``).
            response = await running.running.http.post(
                f"/webhooks/{source}",
                json=body,
                headers={"Authorization": f"Bearer {WEBHOOK_TOKEN}"},
            )
            assert response.status_code == 200, response.text

        running.run(seed, running.running, post)
        yield running
    if report := os.environ.get("ST_SCHEMATHESIS_REPORT"):
        Path(report).write_text(json.dumps(summary(), indent=2) + "\n")


def summary() -> dict[str, Any]:
    return {
        "operations": len(FIGURES),
        "examples": sum(sum(f.values()) for f in FIGURES.values()),
        "failures": 0,
        "max_examples_per_operation_and_mode": MAX_EXAMPLES,
        "skipped": [f"{method} {path}: {why}" for (method, path), why in SKIPPED.items()],
        "per_operation": FIGURES,
    }


def run(live: LiveService, strategy: Any, examples: int) -> int:
    """Send ``examples`` generated requests and check each answer; how many were sent."""
    sent = 0
    base_url = live.url
    assert base_url.endswith(URL_BASE)

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy)
    def send(case: schemathesis.Case) -> None:
        nonlocal sent
        sent += 1
        token = WEBHOOK_TOKEN if case.path.startswith("/webhooks/") else API_TOKEN
        response = case.call(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            allow_redirects=False,
            timeout=15,
        )
        case.validate_response(response, checks=CHECKS)

    send()
    return sent


def real_ids(live: LiveService, path: str) -> list[int]:
    store = live.running.system.store
    if path.startswith("/api/requests/"):
        rows, _ = live.run(store.list_requests, RequestQuery(limit=500))
        return sorted(row.id for row in rows)
    letters, _ = live.run(store.dead_letters, limit=50)
    return sorted(letter.id for letter in letters)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_generated_requests_get_documented_answers(
    live: LiveService, method: str, path: str
) -> None:
    served = json.loads(live.run(live.running.http.get, "/openapi.json").content)
    schema = schemathesis.openapi.from_dict(served)
    operation = schema[path][method]
    figures = {}
    figures["positive"] = run(live, operation.as_strategy(), MAX_EXAMPLES)
    try:
        strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        figures["negative"] = run(live, strategy, MAX_EXAMPLES)
    except Unsatisfiable:
        figures["negative"] = (
            0  # nothing in this operation can be invalid (no input, or any string)
        )
    if "{id}" in path:
        ids = real_ids(live, path)
        assert ids, f"nothing seeded for {path}"
        strategy = operation.as_strategy(path_parameters={"id": ids[-1]})
        figures["real_id"] = run(live, strategy, REAL_ID_EXAMPLES)
    FIGURES[f"{method} {path}"] = figures
    assert figures["positive"] > 0
