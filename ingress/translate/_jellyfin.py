"""Jellyfin webhook plugin body → fact.

Two renderings reach us: "Send All Properties" (numbers are numbers, Guids are 32 hex digits) and
a user template (every value a string, ``""`` when undefined, Guids possibly hyphenated).
"""

from __future__ import annotations

import re

from status_tracker.actors.media_request.messages import (
    LibraryItemAdded,
    UnhandledEvent,
    WebhookFact,
)
from status_tracker.ingress.translate._fields import JsonObject, PayloadError, preview, strictly

from status_tracker import strict

_PROVIDER_PREFIX = "Provider_"
# The provider ids the tracker reads as numbers (correlation, Shoko file matching).
_NUMERIC_PROVIDERS = frozenset({"tmdb", "tvdb", "shoko file"})
# One file holds a few episodes; a wider span would have the tracker walk billions of them.
_MAX_EPISODES_PER_FILE = 1000
_GUID = re.compile(r"[0-9a-f]{32}")


def translate_jellyfin(body: JsonObject) -> WebhookFact:
    """Translate a Jellyfin webhook body (its ``numbers_may_be_text`` should be set).

    Only ``ItemAdded`` is acted on; the plugin has no test notification.

    Raises:
        PayloadError: a field the notification needs is missing or malformed.
    """
    notification_type = body.text("NotificationType")
    if notification_type != "ItemAdded":
        return UnhandledEvent(source="jellyfin", event_type=notification_type)
    episode = body.optional_integer("EpisodeNumber")
    episode_end = body.optional_integer("EpisodeNumberEnd")
    if (
        episode is not None
        and episode_end is not None
        and episode_end - episode >= _MAX_EPISODES_PER_FILE
    ):
        raise PayloadError(
            f"EpisodeNumberEnd is {_MAX_EPISODES_PER_FILE} or more episodes after"
            f" EpisodeNumber: {episode_end}"
        )
    return LibraryItemAdded(
        item_id=_guid(body, "ItemId"),
        item_type=body.text("ItemType"),
        name=body.text("Name"),
        year=body.optional_integer("Year"),
        series_name=body.optional_text("SeriesName"),
        series_id=_guid(body, "SeriesId") if body.raw("SeriesId") is not None else None,
        season=body.optional_integer("SeasonNumber"),
        episode=episode,
        episode_end=episode_end,
        provider_ids=_provider_ids(body),
    )


def _guid(body: JsonObject, key: str) -> str:
    """A Jellyfin item id as 32 lower-case hex digits, whichever form the plugin rendered."""
    value = body.text(key)
    guid = value.replace("-", "").lower()
    if not _GUID.fullmatch(guid):
        raise PayloadError(f"{body.name(key)} is not a Jellyfin item id: {preview(value)}")
    return guid


def _provider_ids(body: JsonObject) -> tuple[tuple[str, str], ...]:
    """Every non-empty ``Provider_<key>``, key lower-cased, sorted by key.

    Numbers are taken as their decimal text, for templates that left a provider id unquoted. The
    ids the tracker reads as numbers must be ids (ASCII digits, below 2^63).
    """
    provider_ids: dict[str, str] = {}
    for key in body.data:
        if not key.startswith(_PROVIDER_PREFIX):
            continue
        strictly(strict.check_text, key, strict.storable(key))
        provider = key.removeprefix(_PROVIDER_PREFIX).lower()
        value = body.raw(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise PayloadError(f"{key} is not a string: {preview(value)}")
        if provider in _NUMERIC_PROVIDERS or isinstance(value, int):
            value = str(strictly(strict.parse_id, value, key))
        provider_ids[provider] = strictly(strict.check_text, value, key)
    return tuple(sorted(provider_ids.items()))
