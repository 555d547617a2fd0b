"""Rows an older version accepted into the inbox can never stop a start: they end as dead letters.

Each body below once got a 200 and then crashed the dispatcher at every start. Stored straight
into the inbox (as an older release accepted them), they must now become dead letters while the
service starts, stays healthy and applies the webhooks that come after them.
"""

from __future__ import annotations

import json
import time

from status_tracker.storage import open_store

from tests.support.fixtures import load_fixture
from tests.support.service import started_service, wait_until


def _with(body: dict, path: str, value: object) -> dict:
    target = body
    *parents, last = path.split(".")
    for key in parents:
        target = target[key]
    target[last] = value
    return body


def poison_rows() -> list[tuple[str, str, str]]:
    """(source, kind, raw body) of every known killer, as the sender wrote it."""
    grab = load_fixture("radarr/grab.json")
    item_added = load_fixture("jellyfin/item_added_movie.json")
    rows = [
        ("radarr", "Grab", json.dumps(_with(grab, "movie.tmdbId", 2**63))),
        ("radarr", "Grab", json.dumps(_with(grab, "movie.tmdbId", str(2**63)))),
        ("jellyfin", "ItemAdded", json.dumps(_with(item_added, "Provider_tmdb", "²"))),
        # JSON escapes keep the raw text storable; the parsed value holds a lone surrogate.
        ("radarr", "Grab", json.dumps(_with(grab, "downloadId", "\ud800abc"))),
        ("radarr", "Grab", json.dumps(_with(grab, "movie.imdbId", "tt\udfff"))),
        ("radarr", "Grab", json.dumps(_with(grab, "movie.title", "nul \x00 inside"))),
        ("radarr", "Grab", "[" * 5000 + "]" * 5000),
    ]
    return rows


async def test_a_start_survives_every_poison_row_and_later_webhooks_apply(
    database_url: str,
) -> None:
    async with open_store(database_url) as store:
        for number, (source, kind, body) in enumerate(poison_rows()):
            await store.accept_webhook(
                source=source, kind=kind, body=body, dedupe_key=f"poison-{number}", now=time.time()
            )

    async with started_service(database_url) as service:
        await service.settled()
        letters, count = await service.system.store.dead_letters(limit=50)
        # A NUL is storable text in SQLite, so that one row may apply there; every other
        # row is refused on both backends.
        assert count >= len(poison_rows()) - 1
        assert all(letter.body for letter in letters), "a dead letter keeps its body to retry"
        root = service.system.root
        assert root is not None
        assert root.statistics().state == "running"
        health = await service.http.get("/health")
        assert health.status_code == 200
        assert health.json()["status"] != "failing"

        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.post_fixture("radarr/grab.json", movie__tags=[])
        await service.settled()
        (item,) = [
            r for r in await service.requests() if r["title"] == "Violet Evergarden: Recollections"
        ]
        assert item["state"] == "grabbing"

    async with started_service(database_url) as again:
        await wait_until(
            lambda: _healthy(again.http), what="a second start with the dead letters stored"
        )
        _, count_after = await again.system.store.dead_letters()
        assert count_after == count, "a restart must not apply or re-kill dead letters"


async def _healthy(http: object) -> bool:
    response = await http.get("/health")  # type: ignore[attr-defined]
    return response.status_code == 200
