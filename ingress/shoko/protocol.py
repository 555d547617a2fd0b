"""The Shoko SignalR wire format without I/O: hub-protocol records in, Shoko facts out.

Records follow ASP.NET Core's JSON hub protocol (a JSON object ending in U+001E).
"""

from __future__ import annotations

import json
import typing

import attrs
from status_tracker.actors.shoko_matcher.messages import (
    CrossReference,
    EpisodeUpdate,
    FileEventKind,
    ShokoEpisodeUpdated,
    ShokoFact,
    ShokoFileEvent,
    ShokoMovieUpdated,
    ShokoSeriesUpdated,
)

from status_tracker import strict

RECORD_SEPARATOR: typing.Final = "\x1e"
HANDSHAKE: typing.Final = {"protocol": "json", "version": 1}
PING: typing.Final = {"type": 6}

_INVOCATION = 1
_PING = 6
_CLOSE = 7
_HANDSHAKE_RESPONSE_KEYS = frozenset({"error", "minorVersion"})
_PREVIEW_LIMIT = 60

_FILE_EVENT_KINDS: dict[str, FileEventKind] = {
    "shokoevent:filedetected": "detected",
    "shokoevent:filehashed": "hashed",
    "shokoevent:filematched": "matched",
    "shokoevent:filenotmatched": "not_matched",
    "shokoevent:filedeleted": "deleted",
    "shokoevent:filerenamed": "renamed",
    "shokoevent:filemoved": "moved",
}
_SERIES_UPDATED = "shokoevent:seriesupdated"
_EPISODE_UPDATED = "shokoevent:episodeupdated"
_MOVIE_UPDATED = "shokoevent:movieupdated"


@typing.final
class MalformedFrame(ValueError):
    """A record, or the payload of a known Shoko event, that does not have the expected shape."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@typing.final
class NegotiationFailed(Exception):
    """The negotiate answer refused the connection or cannot be used for a WebSocket."""


@typing.final
@attrs.frozen(kw_only=True)
class Invocation:
    """The server calls ``target`` on the client; Shoko's events carry one argument object."""

    target: str
    arguments: tuple[typing.Any, ...]
    invocation_id: str | None = None


@typing.final
@attrs.frozen(kw_only=True)
class Ping:
    """Keep-alive; it carries nothing and needs no answer."""


@typing.final
@attrs.frozen(kw_only=True)
class Close:
    """The server is closing the connection; reconnecting is allowed only if it says so."""

    error: str | None
    allow_reconnect: bool


@typing.final
@attrs.frozen(kw_only=True)
class HandshakeResponse:
    """The server's first record: ``{}`` accepts the handshake, an ``error`` refuses it."""

    error: str | None


@typing.final
@attrs.frozen(kw_only=True)
class OtherMessage:
    """A valid hub message this client has no use for (completions, stream items, acks...)."""

    type: int


HubMessage: typing.TypeAlias = Invocation | Ping | Close | HandshakeResponse | OtherMessage


def encode(message: dict[str, typing.Any]) -> str:
    """One record: ``message`` as compact JSON followed by the record separator."""
    return json.dumps(message, separators=(",", ":")) + RECORD_SEPARATOR


def split_records(text: str) -> list[str]:
    """The records of one WebSocket text message, without the empty tail after the last one."""
    records = text.split(RECORD_SEPARATOR)
    if records[-1] == "":
        records.pop()
    return records


def parse_record(record: str) -> HubMessage:
    """Decode one record (without its separator) received from the server.

    Raises:
        MalformedFrame: the record is not JSON, not an object, or not a hub message.
    """
    try:
        message = strict.load_json(record)
    except ValueError as exc:
        raise MalformedFrame(f"not JSON ({exc}): {_preview(record)}") from None
    if not isinstance(message, dict):
        raise MalformedFrame(f"not a JSON object: {_preview(record)}")
    if "type" not in message:
        if message.keys() <= _HANDSHAKE_RESPONSE_KEYS:
            return HandshakeResponse(error=_optional_text(message, "error", "handshake response"))
        raise MalformedFrame(f"no message type: {_preview(record)}")
    kind = message["type"]
    if not isinstance(kind, int) or isinstance(kind, bool):
        raise MalformedFrame(f"message type is not an integer: {_preview(kind)}")
    if kind == _INVOCATION:
        return _invocation(message)
    if kind == _PING:
        return Ping()
    if kind == _CLOSE:
        return Close(
            error=_optional_text(message, "error", "close"),
            allow_reconnect=message.get("allowReconnect") is True,
        )
    return OtherMessage(type=kind)


def negotiated_connection_token(answer: object) -> str:
    """The ``id`` to open the WebSocket with, from the JSON answer of ``POST .../negotiate``.

    Raises:
        NegotiationFailed: the answer is an error, a redirect, has no token or no WebSockets.
    """
    if not isinstance(answer, dict):
        raise NegotiationFailed(f"negotiate answered a non-object: {_preview(answer)}")
    if "error" in answer:
        raise NegotiationFailed(f"negotiate refused: {_preview(answer['error'])}")
    if "url" in answer:
        raise NegotiationFailed("negotiate redirected to another service, which is unsupported")
    transports = answer.get("availableTransports")
    if isinstance(transports, list) and not any(
        isinstance(offer, dict) and offer.get("transport") == "WebSockets" for offer in transports
    ):
        raise NegotiationFailed("negotiate does not offer WebSockets")
    # negotiateVersion 0 servers only send connectionId, which then doubles as the token.
    token = answer.get("connectionToken", answer.get("connectionId"))
    if not isinstance(token, str) or not token:
        raise NegotiationFailed("negotiate answered without a connection token")
    return token


def translate_invocation(invocation: Invocation) -> ShokoFact | None:
    """The Shoko fact an invocation reports, or None for targets this tracker ignores.

    Targets are matched whole and case-insensitively, as the official SignalR clients do.

    Raises:
        MalformedFrame: a known target whose argument does not have Shoko's shape.
    """
    target = invocation.target.lower()
    if target in _FILE_EVENT_KINDS:
        return _file_event(_FILE_EVENT_KINDS[target], _only_argument(invocation))
    if target == _SERIES_UPDATED:
        return _series_updated(_only_argument(invocation))
    if target == _EPISODE_UPDATED:
        return _episode_updated(_only_argument(invocation))
    if target == _MOVIE_UPDATED:
        return _movie_updated(_only_argument(invocation))
    return None


def _invocation(message: dict[str, typing.Any]) -> Invocation:
    target = message.get("target")
    if not isinstance(target, str) or not target:
        raise MalformedFrame(f"invocation without a target: {_preview(message)}")
    arguments = message.get("arguments")
    if not isinstance(arguments, list):
        raise MalformedFrame(f"invocation of {target} without an arguments list")
    return Invocation(
        target=target,
        arguments=tuple(arguments),
        invocation_id=_optional_text(message, "invocationId", target),
    )


@attrs.frozen
class _Payload:
    """One JSON object of an event argument, read field by field with errors naming the field."""

    data: dict[str, typing.Any]
    where: str

    @classmethod
    def of(cls, value: object, where: str) -> _Payload:
        if not isinstance(value, dict):
            raise MalformedFrame(f"{where} is not a JSON object: {_preview(value)}")
        return cls(value, where)

    def integer(self, key: str) -> int:
        value = self.optional_integer(key)
        if value is None:
            raise MalformedFrame(f"{self.where}.{key} is missing")
        return value

    def optional_integer(self, key: str) -> int | None:
        """An id (every number Shoko's events carry is one): 0 to 2^63-1, or None."""
        value = self.data.get(key)
        if value is None:
            return None
        if not _is_id(value):
            raise MalformedFrame(f"{self.where}.{key} is not an integer id: {_preview(value)}")
        return typing.cast("int", value)

    def text(self, key: str) -> str:
        value = self.optional_text(key)
        if value is None:
            raise MalformedFrame(f"{self.where}.{key} is missing")
        return value

    def optional_text(self, key: str) -> str | None:
        return _optional_text(self.data, key, self.where)

    def integers(self, key: str) -> tuple[int, ...]:
        values = self.items(key)
        if not all(_is_id(value) for value in values):
            raise MalformedFrame(f"{self.where}.{key} holds a non-integer id: {_preview(values)}")
        return tuple(values)

    def items(self, key: str) -> list[typing.Any]:
        """The list at ``key``; absent or null is empty."""
        value = self.data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise MalformedFrame(f"{self.where}.{key} is not a list: {_preview(value)}")
        return value

    def reason(self) -> frozenset[str]:
        flags = {flag.strip() for flag in self.text("Reason").split(",")}
        return frozenset(flags - {"None", ""})


def _only_argument(invocation: Invocation) -> _Payload:
    if len(invocation.arguments) != 1:
        raise MalformedFrame(
            f"{invocation.target} has {len(invocation.arguments)} arguments instead of one"
        )
    return _Payload.of(invocation.arguments[0], invocation.target)


def _file_event(kind: FileEventKind, payload: _Payload) -> ShokoFileEvent:
    relative_path = payload.text("RelativePath")
    # Servers released before 2024-04 named the list CrossRefs.
    key = "CrossReferences" if "CrossReferences" in payload.data else "CrossRefs"
    return ShokoFileEvent(
        kind=kind,
        file_id=payload.optional_integer("FileID"),
        relative_path=relative_path,
        import_folder_id=payload.optional_integer("ImportFolderID"),
        cross_references=tuple(
            _cross_reference(_Payload.of(item, f"{payload.where}.{key}[{index}]"))
            for index, item in enumerate(payload.items(key))
        ),
        previous_relative_path=_previous_relative_path(kind, payload, relative_path),
    )


def _previous_relative_path(
    kind: FileEventKind, payload: _Payload, relative_path: str
) -> str | None:
    if kind == "moved":
        return payload.optional_text("PreviousRelativePath")
    if kind != "renamed":
        return None
    previous = payload.optional_text("PreviousFileName")
    # Some v5 builds fill PreviousFileName with the whole previous relative path.
    if previous is None or "/" in previous or "\\" in previous:
        return previous
    folder_end = max(relative_path.rfind("/"), relative_path.rfind("\\")) + 1
    return relative_path[:folder_end] + previous


def _cross_reference(payload: _Payload) -> CrossReference:
    return CrossReference(
        episode_id=payload.optional_integer("EpisodeID"),
        anidb_episode_id=payload.integer("AnidbEpisodeID"),
        series_id=payload.optional_integer("SeriesID"),
        anidb_anime_id=payload.integer("AnidbAnimeID"),
    )


def _series_updated(payload: _Payload) -> ShokoSeriesUpdated:
    return ShokoSeriesUpdated(
        source=payload.text("Source"),
        reason=payload.reason(),
        series_id=payload.integer("SeriesID"),
        shoko_series_ids=payload.integers("ShokoSeriesIDs"),
        episodes=tuple(
            _episode_update(_Payload.of(item, f"{payload.where}.Episodes[{index}]"))
            for index, item in enumerate(payload.items("Episodes"))
        ),
    )


def _episode_update(payload: _Payload) -> EpisodeUpdate:
    return EpisodeUpdate(
        reason=payload.reason(),
        episode_id=payload.integer("EpisodeID"),
        shoko_episode_ids=payload.integers("ShokoEpisodeIDs"),
    )


def _episode_updated(payload: _Payload) -> ShokoEpisodeUpdated:
    return ShokoEpisodeUpdated(
        source=payload.text("Source"),
        reason=payload.reason(),
        episode_id=payload.integer("EpisodeID"),
        series_id=payload.integer("SeriesID"),
        shoko_episode_ids=payload.integers("ShokoEpisodeIDs"),
        shoko_series_ids=payload.integers("ShokoSeriesIDs"),
    )


def _movie_updated(payload: _Payload) -> ShokoMovieUpdated:
    return ShokoMovieUpdated(
        source=payload.text("Source"),
        reason=payload.reason(),
        movie_id=payload.integer("MovieID"),
        shoko_episode_ids=payload.integers("ShokoEpisodeIDs"),
        shoko_series_ids=payload.integers("ShokoSeriesIDs"),
    )


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= strict.MAX_ID


def _optional_text(message: dict[str, typing.Any], key: str, where: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedFrame(f"{where}.{key} is not a string: {_preview(value)}")
    problem = strict.unstorable_character(value)
    if problem is not None:
        raise MalformedFrame(f"{where}.{key} holds {problem}")
    return value


def _preview(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _PREVIEW_LIMIT else text[: _PREVIEW_LIMIT - 3] + "..."
