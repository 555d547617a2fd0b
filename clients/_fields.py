"""Reading typed fields from a dependency's JSON reply: any wrong field is an UnexpectedResponse.

Null and absent fields take the caller's default, as every client here treated them before. The
error's ``reason`` names the service, the object and the field ("qBittorrent answered a torrent
whose progress is not a number"); the message adds an excerpt of the value.
"""

from __future__ import annotations

import math
import typing

import httpx

from status_tracker import strict

from ._http import UnexpectedResponse, json_kind

_MIN_INT64: typing.Final = -(2**63)
_MAX_INT64: typing.Final = 2**63 - 1
_PREVIEW_LIMIT = 40

REQUIRED: typing.Final = object()
"""Pass as ``default`` when a field must be present and not null."""


def _preview(value: object) -> str:
    text = repr(value)
    return text if len(text) <= _PREVIEW_LIMIT else text[: _PREVIEW_LIMIT - 3] + "..."


def bad_reply(reason: str, value: object) -> UnexpectedResponse:
    """The error for a 200 reply whose content is wrong; ``value`` is shown only in the message."""
    return UnexpectedResponse(
        f"{reason}: {_preview(value)}", status_code=httpx.codes.OK, reason=reason
    )


@typing.final
class WireObject:
    """One JSON object of ``service``'s reply, e.g. ``what="a torrent"``, read field by field."""

    __slots__ = ("_data", "_service", "_what")

    def __init__(self, value: object, *, service: str, what: str) -> None:
        if not isinstance(value, dict):
            raise bad_reply(f"{service} answered {json_kind(value)} where {what} belongs", value)
        self._data: dict[str, object] = value
        self._service = service
        self._what = what

    def child(self, value: object, what: str) -> WireObject:
        """Another object of the same reply (an item of a list this object holds)."""
        return WireObject(value, service=self._service, what=what)

    def _bad(self, key: str, problem: str) -> UnexpectedResponse:
        return bad_reply(
            f"{self._service} answered {self._what} whose {key} {problem}", self._data.get(key)
        )

    def _present(self, key: str, default: object) -> object:
        value = self._data.get(key)
        if value is None and default is REQUIRED:
            raise self._bad(key, "is missing")
        return value

    def text(self, key: str, default: str | object = "") -> str:
        """A string without characters a database cannot store; or REQUIRED."""
        value = self._present(key, default)
        if value is None:
            return typing.cast("str", default)
        if not isinstance(value, str):
            raise self._bad(key, "is not text")
        problem = strict.unstorable_character(value)
        if problem is not None:
            raise self._bad(key, f"holds {problem}")
        return value

    def optional_text(self, key: str) -> str | None:
        return None if self._data.get(key) is None else self.text(key)

    def integer(
        self,
        key: str,
        default: int | object = 0,
        *,
        minimum: int = _MIN_INT64,
        maximum: int = _MAX_INT64,
    ) -> int:
        """A JSON integer (never true/false, never a float) between ``minimum`` and ``maximum``."""
        value = self._present(key, default)
        if value is None:
            return typing.cast("int", default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self._bad(key, "is not an integer")
        if not minimum <= value <= maximum:
            raise self._bad(key, f"is out of range ({minimum} to {maximum})")
        return value

    def optional_integer(self, key: str) -> int | None:
        """A small number (year, season, episode): a signed 32-bit integer, or None."""
        if self._data.get(key) is None:
            return None
        return self.integer(key, minimum=strict.MIN_INT32, maximum=strict.MAX_INT32)

    def fraction(self, key: str, default: float = 0.0) -> float:
        """A finite number from 0 to 1 (qBittorrent's progress)."""
        value = self._data.get(key)
        if value is None:
            return default
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise self._bad(key, "is not a number")
        number = float(value)
        if not (math.isfinite(number) and 0.0 <= number <= 1.0):
            raise self._bad(key, "is not between 0 and 1")
        return number

    def flag(self, key: str) -> bool:
        """true or false; absent or null is false."""
        value = self._data.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self._bad(key, "is not true or false")
        return value

    def identifier(self, key: str) -> int:
        """An id (0 to 2^63-1, a JSON integer or digit text) that must be there."""
        self._present(key, REQUIRED)
        try:
            return strict.parse_id(self._data[key], what=key)
        except ValueError:
            raise self._bad(key, "is not a valid id") from None

    def optional_identifier(self, key: str) -> int | None:
        """An id, or None when absent, null or 0 (the *arr way of saying "none")."""
        if not self._data.get(key):
            return None
        return self.identifier(key)

    def items(self, key: str) -> list[object]:
        """The list at ``key``; absent or null is empty."""
        value = self._data.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self._bad(key, "is not a list")
        return value

    def mapping(self, key: str) -> dict[str, object]:
        """The object at ``key``; absent or null is empty."""
        value = self._data.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._bad(key, "is not an object")
        return value
