"""Real payloads of every service, kept in tests/fixtures (copied from the project's shared set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load_fixture(relative_path: str) -> Any:
    """The parsed JSON of ``tests/fixtures/<relative_path>``."""
    return json.loads((FIXTURES / relative_path).read_text(encoding="utf-8"))


def numbered_movie_request(number: int, *, title: str, first_tmdb_id: int) -> Any:
    """Jellyseerr's auto-approved movie request, made the ``number``-th of a series of titles.

    The movie is called ``f"{title} {number}"``; its TMDB id and Jellyseerr request id are
    ``first_tmdb_id + number`` and ``first_tmdb_id // 50 + number``.
    """
    body = load_fixture("jellyseerr/media_auto_approved_movie.json")
    body["subject"] = f"{title} {number} (2020)"
    body["media"]["tmdbId"] = str(first_tmdb_id + number)
    body["request"]["request_id"] = str(first_tmdb_id // 50 + number)
    return body
