"""The entry points: pick the translator for a webhook source, name its event, key its delivery."""

from __future__ import annotations

import hashlib
import typing
from collections.abc import Callable

from status_tracker.actors.media_request.messages import WebhookFact
from status_tracker.actors.reconcile.catch_up import event_key as _event_key
from status_tracker.ingress.translate._fields import JsonObject
from status_tracker.ingress.translate._jellyfin import translate_jellyfin
from status_tracker.ingress.translate._jellyseerr import translate_jellyseerr
from status_tracker.ingress.translate._radarr import translate_radarr
from status_tracker.ingress.translate._sonarr import translate_sonarr

from status_tracker import strict

WebhookSource = typing.Literal["jellyseerr", "radarr", "sonarr", "jellyfin"]


class _Translator(typing.NamedTuple):
    translate: Callable[[JsonObject], WebhookFact]
    event_type_key: str
    templated: bool


_TRANSLATORS: dict[str, _Translator] = {
    "jellyseerr": _Translator(translate_jellyseerr, "notification_type", templated=True),
    "radarr": _Translator(translate_radarr, "eventType", templated=False),
    "sonarr": _Translator(translate_sonarr, "eventType", templated=False),
    "jellyfin": _Translator(translate_jellyfin, "NotificationType", templated=True),
}


def translate(source: str, body: object) -> WebhookFact:
    """Translate one parsed webhook body from ``source`` into the fact it reports.

    Args:
        source: which service sent it.
        body: the body as ``json.loads`` returned it.

    Returns:
        The fact; ``WebhookTested`` for a test notification, ``UnhandledEvent`` for an event
        type the tracker does not act on.

    Raises:
        PayloadError: the body is not what ``source`` sends; the message names the problem.
        KeyError: ``source`` is not a webhook source.
    """
    translator = _TRANSLATORS[source]
    return translator.translate(JsonObject.of(body, numbers_may_be_text=translator.templated))


def event_type_of(source: WebhookSource, body: object) -> str:
    """The event type a body names (``eventType``, ``notification_type``, ``NotificationType``).

    For logs and the inbox, so it never raises and is always storable (``strict.storable``):
    ``""`` when the body names no event type.

    Raises:
        KeyError: ``source`` is not a webhook source.
    """
    key = _TRANSLATORS[source].event_type_key
    event_type = body.get(key) if isinstance(body, dict) else None
    return strict.storable(event_type) if isinstance(event_type, str) else ""


def dedupe_key(source: str, raw_body: bytes) -> str:
    """The inbox key of one delivery: sha256 hex of ``source``, a NUL byte and the raw body."""
    return hashlib.sha256(source.encode() + b"\0" + raw_body).hexdigest()


def event_key(source: str, fact: WebhookFact) -> str | None:
    """The inbox's second dedupe key of a delivery: the identity of the event it reports.

    Derived from (source, event kind, download id, episode or movie ids, file) by the same rule
    the reconciler uses for what it reads from Sonarr's, Radarr's and Jellyseerr's APIs, so a
    webhook and the history record of one event are one delivery, whichever comes first. It
    never makes two webhooks one: those are one only with identical bodies (``dedupe_key``),
    since an identity repeats when the event does (the same release grabbed again). None for
    events without such an identity.
    """
    return _event_key(source, fact)
