"""Strict reading of untrusted values: ids, bounded integers, storable text and JSON documents.

One parser for every id the service reads (webhook bodies, API paths and query strings,
provider ids in a dependency's reply), so that nothing accepted at the edge can fail later
in a database driver. Imports nothing of ours.

Rules:
- An id is a JSON integer (never a boolean) or ASCII decimal text, from 0 to 2^63 - 1 (what
  a signed 64-bit column stores on both backends). Superscript and other non-ASCII digits,
  ``"+1"``, ``" 1"`` and ``"1.0"`` are not ids.
- A small number (year, season, episode) fits a signed 32-bit column.
- Storable text has no NUL character (PostgreSQL refuses it) and no lone surrogate (UTF-8
  cannot encode it).
- A JSON document nests at most ``MAX_JSON_DEPTH`` arrays and objects.
- An untrusted value shown in an error message goes through ``preview``: short, storable,
  and it never raises (not for a 100,000-deep list, not for a 5,000-digit integer).
"""

from __future__ import annotations

import builtins
import ipaddress
import json
import re
import reprlib
import typing
import urllib.parse

MAX_ID: typing.Final = 2**63 - 1
MAX_INT32: typing.Final = 2**31 - 1
MIN_INT32: typing.Final = -(2**31)
MAX_JSON_DEPTH: typing.Final = 64

_ASCII_DIGITS = re.compile(r"[0-9]+")
_SIGNED_ASCII_DIGITS = re.compile(r"-?[0-9]+")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_PREVIEW_LIMIT = 40
_PREVIEW_MAX_BITS = 256


class _Previewer(reprlib.Repr):
    """``repr`` that is short and never raises, whatever an untrusted value holds.

    Nesting is cut a few levels down (a plain ``repr`` of a deeply nested list raises
    RecursionError) and huge integers are described (``repr`` refuses past 4300 digits).
    """

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 200

    def repr_int(self, x: int, level: int) -> str:
        if x.bit_length() > _PREVIEW_MAX_BITS:
            return f"<an integer of {x.bit_length()} bits>"
        return builtins.repr(x)


_PREVIEWER = _Previewer()


def preview(value: object, *, limit: int = _PREVIEW_LIMIT) -> str:
    """``repr(value)`` cut to at most ``limit`` characters, for error messages; never raises.

    The text is storable: ``repr`` escapes NUL characters and lone surrogates.
    """
    text = _PREVIEWER.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_id(value: object, *, what: str = "id") -> int:
    """An id from a JSON integer or ASCII decimal text.

    Raises:
        ValueError: not an integer or digit text, or outside 0..2^63-1; the message names
            ``what``.
    """
    return _bounded_integer(value, what, 0, MAX_ID, text=_ASCII_DIGITS, max_text_length=20)


def parse_int32(value: object, *, what: str = "number", text_allowed: bool = False) -> int:
    """A signed 32-bit integer (a year, season or episode number).

    Raises:
        ValueError: not an integer (or, with ``text_allowed``, ASCII digit text), or outside
            the signed 32-bit range; the message names ``what``.
    """
    text = _SIGNED_ASCII_DIGITS if text_allowed else None
    return _bounded_integer(value, what, MIN_INT32, MAX_INT32, text=text, max_text_length=11)


def _bounded_integer(
    value: object,
    what: str,
    low: int,
    high: int,
    *,
    text: re.Pattern[str] | None,
    max_text_length: int,
) -> int:
    if text is not None and isinstance(value, str):
        if len(value) > max_text_length or not text.fullmatch(value):
            raise ValueError(f"{what} is not a number: {preview(value)}")
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        raise ValueError(f"{what} is not an integer: {preview(value)}")
    if not low <= number <= high:
        raise ValueError(f"{what} is out of range ({low} to {high}): {preview(number)}")
    return number


def unstorable_character(text: str) -> str | None:
    """The first character of ``text`` a database cannot store, described, or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char = found.group()
    return "a NUL character" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"


def check_text(text: str, *, what: str = "text") -> str:
    """Return ``text`` when a database can store it.

    Raises:
        ValueError: it holds a NUL character or a lone surrogate; the message names ``what``.
    """
    problem = unstorable_character(text)
    if problem is not None:
        raise ValueError(f"{what} contains {problem}")
    return text


def storable(text: str) -> str:
    """``text`` with every character a database cannot store replaced by ``\\uXXXX`` escapes.

    For error messages and logs built from untrusted input, which must never fail to store.
    """
    return _UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in the JSON ``text`` (strings are skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(text: str | bytes, *, max_depth: int = MAX_JSON_DEPTH) -> object:
    """Parse untrusted JSON, refusing documents nested deeper than ``max_depth``.

    Raises:
        ValueError: not UTF-8, not JSON, or nested too deeply; the message says which.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    # No more brackets than levels allowed cannot nest deeper: most bodies are never walked.
    too_many = text.count("[") + text.count("{") > max_depth
    if too_many and json_depth(text) > max_depth:
        raise ValueError(f"JSON nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:  # pragma: no cover - depth is checked first
        raise ValueError(f"JSON nested deeper than {max_depth} levels") from None


def _refuse_constant(name: str) -> typing.NoReturn:
    raise ValueError(f"{name} is not JSON")



Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(text: str) -> str:
    """An origin as browsers send it: lower-case ``scheme://host[:port]``, default port dropped.

    Raises:
        ValueError: not an http(s) origin (a path, query or user part is not allowed).
    """
    try:
        parts = urllib.parse.urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise ValueError(f"{text!r} is not an origin like https://status.example.com") from None
    scheme = parts.scheme.lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"{text!r} is not an origin like https://status.example.com")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"
