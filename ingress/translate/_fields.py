"""Typed reading of parsed JSON that turns every malformed field into one clear PayloadError.

Two conventions hold for every source: ``null``, an absent key and ``""`` all mean "missing"; and
a templated body (Jellyseerr, Jellyfin template mode) may carry its numbers as decimal text.
Every value read is one the database can store (``status_tracker.strict``): ids within
0..2^63-1, other integers within 32 bits, text without NUL characters or lone surrogates.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Callable, Mapping

import attrs

from status_tracker import strict

_PREVIEW_LIMIT = 60
_DECIMAL = re.compile(r"[0-9]+")
_INT32 = functools.partial(strict.parse_int32, text_allowed=True)

_T = typing.TypeVar("_T")


@typing.final
class PayloadError(ValueError):
    """A webhook body that cannot be translated; the message names the offending field."""


def preview(value: object) -> str:
    """Return ``repr(value)`` cut short enough to sit in an error message; never raises."""
    return strict.preview(value, limit=_PREVIEW_LIMIT)


def strictly(parse: Callable[..., _T], value: object, what: str) -> _T:
    """``parse(value, what=what)``, one of ``strict``'s parsers, refusing as a PayloadError."""
    try:
        return parse(value, what=what)
    except ValueError as error:
        raise PayloadError(str(error)) from None


@typing.final
@attrs.frozen
class JsonObject:
    """One JSON object of a webhook body, with its path from the top for error messages.

    Attributes:
        data: the object itself.
        path: where it sits in the body (``""`` for the body, ``"media"``, ``"episodes[2]"``).
        numbers_may_be_text: accept ``"123"`` where an integer is expected (templated bodies).
    """

    data: Mapping[str, object]
    path: str = ""
    numbers_may_be_text: bool = False

    @classmethod
    def of(cls, value: object, path: str = "", *, numbers_may_be_text: bool = False) -> JsonObject:
        """Wrap ``value``, which must be a JSON object.

        Raises:
            PayloadError: ``value`` is not a JSON object.
        """
        if not isinstance(value, dict):
            raise PayloadError(f"{path or 'body'} is not a JSON object: {preview(value)}")
        return cls(value, path, numbers_may_be_text)

    def name(self, key: str) -> str:
        """The dotted path of ``key`` in this object, as error messages show it."""
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> object | None:
        """The value at ``key``, or None when it is missing (absent, null or ``""``)."""
        value = self.data.get(key)
        return None if value == "" else value

    def text(self, key: str) -> str:
        """A required, non-empty string."""
        value = self.optional_text(key)
        if value is None:
            raise PayloadError(f"{self.name(key)} is missing")
        return value

    def optional_text(self, key: str) -> str | None:
        """A storable string, or None when missing."""
        value = self.raw(key)
        if value is None:
            return None
        if isinstance(value, str):
            return strictly(strict.check_text, value, self.name(key))
        raise PayloadError(f"{self.name(key)} is not a string: {preview(value)}")

    def integer(self, key: str) -> int:
        """A required signed 32-bit integer."""
        value = self.optional_integer(key)
        if value is None:
            raise PayloadError(f"{self.name(key)} is missing")
        return value

    def optional_integer(self, key: str) -> int | None:
        """A signed 32-bit integer (a year, season or episode number), or None when missing."""
        return self._number(key, _INT32)

    def optional_id(self, key: str) -> int | None:
        """An id, or a byte size, from 0 to 2^63 - 1 (a 64-bit column), or None when missing."""
        return self._number(key, strict.parse_id)

    def _number(self, key: str, parse: Callable[..., int]) -> int | None:
        """The integer at ``key`` (decimal text too, in a templated body), bounded by ``parse``."""
        value = self.raw(key)
        if value is None:
            return None
        is_text_number = (
            self.numbers_may_be_text and isinstance(value, str) and _DECIMAL.fullmatch(value)
        )
        is_number = isinstance(value, int) and not isinstance(value, bool)
        if not (is_number or is_text_number):
            raise PayloadError(f"{self.name(key)} is not an integer: {preview(value)}")
        return strictly(parse, value, self.name(key))

    def flag(self, key: str) -> bool:
        """A boolean; missing counts as false."""
        value = self.raw(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        raise PayloadError(f"{self.name(key)} is not a boolean: {preview(value)}")

    def child(self, key: str) -> JsonObject:
        """A required nested object."""
        value = self.optional_child(key)
        if value is None:
            raise PayloadError(f"{self.name(key)} is missing")
        return value

    def optional_child(self, key: str) -> JsonObject | None:
        """A nested object, or None when missing."""
        value = self.raw(key)
        if value is None:
            return None
        return JsonObject.of(value, self.name(key), numbers_may_be_text=self.numbers_may_be_text)

    def children(self, key: str) -> tuple[JsonObject, ...]:
        """A required list of objects (it may be empty)."""
        if self.raw(key) is None:
            raise PayloadError(f"{self.name(key)} is missing")
        return self.optional_children(key)

    def optional_children(self, key: str) -> tuple[JsonObject, ...]:
        """A list of objects; missing counts as empty."""
        return tuple(
            JsonObject.of(
                item, f"{self.name(key)}[{index}]", numbers_may_be_text=self.numbers_may_be_text
            )
            for index, item in enumerate(self._list(key))
        )

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of storable strings; missing counts as empty."""
        items = self._list(key)
        for index, item in enumerate(items):
            if not isinstance(item, str):
                raise PayloadError(f"{self.name(key)}[{index}] is not a string: {preview(item)}")
            strictly(strict.check_text, item, f"{self.name(key)}[{index}]")
        return typing.cast(tuple[str, ...], tuple(items))

    def _list(self, key: str) -> list[object]:
        value = self.raw(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        raise PayloadError(f"{self.name(key)} is not a list: {preview(value)}")


def unless_zero(value: int | None) -> int | None:
    """Sonarr and Radarr send 0 for an id or year they do not know; make that None."""
    return value or None
