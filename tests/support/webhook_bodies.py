"""The webhook fixtures as translation tests take them: every name, its source, edited copies,
and walks over a body's keys and objects."""

from __future__ import annotations

from .fixtures import FIXTURES, load_fixture

FIXTURE_FOLDERS = ("jellyseerr", "radarr", "sonarr", "jellyfin", "captured")
FIXTURE_NAMES = sorted(
    f"{folder}/{path.name}"
    for folder in FIXTURE_FOLDERS
    for path in (FIXTURES / folder).glob("*.json")
)
REST_RESPONSES = ("jellyfin/items_query_movie.json", "jellyfin/shows_episodes.json")
"""Jellyfin REST replies kept beside the webhook fixtures: not webhook bodies, so refused."""
WEBHOOK_NAMES = [name for name in FIXTURE_NAMES if name not in REST_RESPONSES]

DROP = object()
"""A value for ``edited`` that removes the key instead of setting it."""


def source_of(name: str) -> str:
    """The webhook source of a fixture: its folder, or the file-name prefix for ``captured``."""
    folder, file_name = name.split("/")
    return file_name.split("-")[0] if folder == "captured" else folder


def edited(name: str, changes: dict[str, object]) -> object:
    """The fixture with each dotted path (list indices as numbers) set to a value, or dropped."""
    body = load_fixture(name)
    for path, value in changes.items():
        *parents, last = path.split(".")
        target = body
        for part in parents:
            target = target[int(part) if isinstance(target, list) else part]
        key = int(last) if isinstance(target, list) else last
        if value is DROP:
            del target[key]
        else:
            target[key] = value
    return body


def replaced(name: str, **changes: object) -> object:
    """``edited`` for keyword callers: ``a__b=value`` sets ``body["a"]["b"]``."""
    return edited(name, {key.replace("__", "."): value for key, value in changes.items()})


def keys_in(body: object, path: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every key or list index in ``body``, as a path from the top."""
    if isinstance(body, dict):
        children = list(body.items())
    elif isinstance(body, list):
        children = list(enumerate(body))
    else:
        return []
    found: list[tuple[object, ...]] = []
    for key, value in children:
        found.append((*path, key))
        found.extend(keys_in(value, (*path, key)))
    return found


def objects_in(body: object) -> list[dict[str, object]]:
    """Every JSON object in ``body``, itself included."""
    if isinstance(body, dict):
        return [body, *(found for value in body.values() for found in objects_in(value))]
    if isinstance(body, list):
        return [found for value in body for found in objects_in(value)]
    return []
