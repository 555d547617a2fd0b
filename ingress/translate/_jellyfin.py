"""Jellyfin webhook plugin body → fact.

Two renderings reach us: "Send All Properties" (numbers are numbers, Guids are 32 hex digits) and
a user template (every value a string, ``""`` when undefined, Guids possibly hyphenated).
"""

from __future__ import annotations

import re

from actors.media_request.messages import LibraryItemAdded, UnhandledEvent, WebhookFact
from ingress.translate._fields import JsonObject, PayloadError, preview

_PROVIDER_PREFIX = "Provider_"
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
    return LibraryItemAdded(
        item_id=_guid(body, "ItemId"),
        item_type=body.text("ItemType"),
        name=body.text("Name"),
        year=body.optional_integer("Year"),
        series_name=body.optional_text("SeriesName"),
        series_id=_guid(body, "SeriesId") if body.raw("SeriesId") is not None else None,
        season=body.optional_integer("SeasonNumber"),
        episode=body.optional_integer("EpisodeNumber"),
        episode_end=body.optional_integer("EpisodeNumberEnd"),
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

    Numbers are taken as their decimal text, for templates that left a provider id unquoted.
    """
    provider_ids: dict[str, str] = {}
    for key in body.data:
        if not key.startswith(_PROVIDER_PREFIX):
            continue
        value = body.raw(key)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            continue
        if not isinstance(value, str):
            raise PayloadError(f"{key} is not a string: {preview(value)}")
        provider_ids[key.removeprefix(_PROVIDER_PREFIX).lower()] = value
    return tuple(sorted(provider_ids.items()))
