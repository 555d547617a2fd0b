"""Durable hand-offs between actors: messages to and from the mail table's text bodies."""

from __future__ import annotations

import json

import cattrs
from status_tracker.storage import PostMail

from .media_request import messages as request_messages
from .torrent import messages as torrent_messages

_converter = cattrs.Converter()
_KINDS: dict[str, type] = {
    cls.__name__: cls
    for module in (request_messages, torrent_messages)
    for cls in vars(module).values()
    if isinstance(cls, type)
    and cls.__module__ == module.__name__
    and hasattr(cls, "__attrs_attrs__")
}


def encode(message: object) -> tuple[str, str]:
    """Return (kind, body) for a message that may travel through the mail table."""
    kind = type(message).__name__
    if _KINDS.get(kind) is not type(message):
        raise TypeError(f"{kind} cannot travel as mail")
    return kind, json.dumps(_converter.unstructure(message), separators=(",", ":"))


def post(target: str, source: str, message: object, *, at: float) -> PostMail:
    """The write that hands ``message`` to the actor at ``target``, inside the sender's commit."""
    kind, body = encode(message)
    return PostMail(target=target, source=source, kind=kind, body=body, at=at)


def decode(kind: str, body: str) -> object:
    """Rebuild the message a mail row holds.

    Raises:
        KeyError: the kind is not a known message.
    """
    return _converter.structure(json.loads(body), _KINDS[kind])


SERVICES_TARGET = "services"
"""Hand-offs to the service sync (calls to Radarr/Sonarr)."""


def request_target(request_id: int) -> str:
    return f"request:{request_id}"


def torrent_target(torrent_hash: str) -> str:
    return f"torrent:{torrent_hash}"
