"""Jellyseerr (also Overseerr, Seerr) webhook body → fact.

The body is the user's JSON template rendered by Jellyseerr: every scalar is a string and ``""``
means missing. Title and year exist only inside ``subject``, as ``"<title> (<year>)"``.
"""

from __future__ import annotations

import functools
import re
import typing

from status_tracker.actors.media_request.messages import (
    MediaReportedAvailable,
    MediaRequested,
    MediaType,
    RequestDeclined,
    RequestFailed,
    UnhandledEvent,
    WebhookFact,
    WebhookTested,
)
from status_tracker.ingress.translate._fields import JsonObject, PayloadError, preview, strictly

from status_tracker import strict

_SUBJECT_WITH_YEAR = re.compile(r"(?P<title>.*) \((?P<year>[0-9]{4})\)", re.DOTALL)
_REQUESTED_SEASONS = "Requested Seasons"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_MEDIA_TYPES: tuple[MediaType, ...] = ("movie", "tv")
_SEASON = functools.partial(strict.parse_int32, text_allowed=True)
_MEDIA_FACTS: dict[str, type[RequestDeclined | RequestFailed | MediaReportedAvailable]] = {
    "MEDIA_DECLINED": RequestDeclined,
    "MEDIA_FAILED": RequestFailed,
    "MEDIA_AVAILABLE": MediaReportedAvailable,
}
"""Notifications that name only the media and the request: the fact each one is."""


def translate_jellyseerr(body: JsonObject) -> WebhookFact:
    """Translate a Jellyseerr webhook body (its ``numbers_may_be_text`` should be set).

    Raises:
        PayloadError: a field the notification needs is missing or malformed.
    """
    notification_type = body.text("notification_type")
    match notification_type:
        case "TEST_NOTIFICATION":
            return WebhookTested(source="jellyseerr")
        case "MEDIA_PENDING" | "MEDIA_APPROVED" | "MEDIA_AUTO_APPROVED":
            title, year = _parse_subject(body.text("subject"))
            media = body.child("media")
            request = body.optional_child("request")
            return MediaRequested(
                media_type=_media_type(media),
                approved=notification_type != "MEDIA_PENDING",
                tmdb_id=media.optional_id("tmdbId"),
                tvdb_id=media.optional_id("tvdbId"),
                title=title,
                year=year,
                poster_url=body.optional_text("image"),
                overview=body.optional_text("message"),
                jellyseerr_request_id=_request_id(request),
                requested_seasons=_requested_seasons(body),
                requested_by=_requested_by(request),
            )
        case "MEDIA_DECLINED" | "MEDIA_FAILED" | "MEDIA_AVAILABLE":
            media = body.child("media")
            return _MEDIA_FACTS[notification_type](
                media_type=_media_type(media),
                tmdb_id=media.optional_id("tmdbId"),
                tvdb_id=media.optional_id("tvdbId"),
                jellyseerr_request_id=_request_id(body.optional_child("request")),
            )
        case _:
            return UnhandledEvent(source="jellyseerr", event_type=notification_type)


def _parse_subject(subject: str) -> tuple[str, int | None]:
    """Split ``"<title> (<year>)"`` into title and year; a subject without a year is all title.

    The title may itself hold parentheses: ``"Foo (Bar) (2021)"`` is ``("Foo (Bar)", 2021)``.

    Raises:
        PayloadError: nothing is left for the title.
    """
    match = _SUBJECT_WITH_YEAR.fullmatch(subject)
    title, year = (match["title"], int(match["year"])) if match else (subject, None)
    if not title:
        raise PayloadError(f"subject has no title: {preview(subject)}")
    return title, year


def _media_type(media: JsonObject) -> MediaType:
    media_type = media.text("media_type")
    if media_type not in _MEDIA_TYPES:
        raise PayloadError(
            f"{media.name('media_type')} is not 'movie' or 'tv': {preview(media_type)}"
        )
    return typing.cast(MediaType, media_type)


def _requested_by(request: JsonObject | None) -> str | None:
    """Who asked: Jellyseerr's display name (``requestedBy_username``), never an e-mail address.

    Jellyseerr falls back to the e-mail address for a user without a display name; that is
    personal data the board has no need of, so it is left out.
    """
    if request is None:
        return None
    name = request.optional_text("requestedBy_username")
    email = request.optional_text("requestedBy_email")
    if name is None or name == email or _EMAIL.fullmatch(name.strip()):
        return None
    return name.strip() or None


def _request_id(request: JsonObject | None) -> int | None:
    return request.optional_id("request_id") if request is not None else None


def _requested_seasons(body: JsonObject) -> tuple[int, ...]:
    """Season numbers from ``extra`` ``{"name": "Requested Seasons", "value": "1, 2"}``."""
    for item in body.optional_children("extra"):
        if item.optional_text("name") != _REQUESTED_SEASONS:
            continue
        value = item.optional_text("value") or ""
        seasons = [season.strip() for season in value.split(",") if season.strip()]
        if not all(season.isascii() and season.isdigit() for season in seasons):
            raise PayloadError(
                f"{item.name('value')} is not a list of season numbers: {preview(value)}"
            )
        return tuple(strictly(_SEASON, season, item.name("value")) for season in seasons)
    return ()
