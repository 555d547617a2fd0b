"""Real payloads of every service, kept in tests/fixtures (copied from the project's shared set)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Webhook = tuple[str, dict[str, Any]]
"""A webhook: its source (the path's last part) and its body."""


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


def movie_flow(number: int, *, title: str, first_tmdb_id: int) -> list[Webhook]:
    """The four webhooks of one regular (not anime) movie, from request to library.

    Jellyseerr's approval, Radarr's grab and import, Jellyfin's ItemAdded, from the fixtures,
    for the movie ``f"{title} {number}"`` with TMDB id ``first_tmdb_id + number`` (see
    ``numbered_movie_request``) and its own Radarr id, IMDb id, torrent and Jellyfin item.
    """
    tmdb = first_tmdb_id + number
    name = f"{title} {number}"
    imdb = f"tt{tmdb:08d}"
    request = numbered_movie_request(number, title=title, first_tmdb_id=first_tmdb_id)
    grab = load_fixture("radarr/grab.json")
    grab["movie"].update(id=tmdb, tmdbId=tmdb, imdbId=imdb, title=name, tags=[])
    grab["remoteMovie"].update(tmdbId=tmdb, imdbId=imdb, title=name)
    grab["downloadId"] = f"{tmdb:040X}"
    imported = load_fixture("radarr/download.json")
    imported["movie"].update(id=tmdb, tmdbId=tmdb, imdbId=imdb, title=name, tags=[])
    imported["remoteMovie"].update(tmdbId=tmdb, imdbId=imdb, title=name)
    imported["downloadId"] = grab["downloadId"]
    added = load_fixture("jellyfin/item_added_movie.json")
    added.update(Name=name, ItemId=uuid.uuid4().hex, Provider_tmdb=str(tmdb))
    added.pop("Provider_imdb")
    return [("jellyseerr", request), ("radarr", grab), ("radarr", imported), ("jellyfin", added)]
