"""The JSON text the service writes: API answers, webhook answers and live-feed messages.

Compact, keys in the order they were built. Written by orjson, which takes a tenth of the
standard library's time (a 500-item page: 0.3 against 3.5 ms). What orjson refuses, the
standard library writes as before: a lone surrogate (orjson cannot encode it; ``json``
escapes it), an integer beyond 64 bits, a type it does not know. Non-ASCII text is written as
UTF-8, not escaped; a float that is not finite is written ``null`` (JSON has no NaN).
Imports nothing of ours.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

# Dates and dataclasses go to ``default``, as the standard library sends them (Quart writes a
# date as an HTTP date; orjson would write ISO 8601).
_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """``value`` as compact JSON in UTF-8; ``default`` turns what neither library knows into
    what they do (or raises ``TypeError``)."""
    try:
        return orjson.dumps(value, default=default, option=_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, default=default, separators=(",", ":")).encode()


def dumps_text(value: Any) -> str:
    """``dumps`` as text, for a websocket's text frame."""
    return dumps(value).decode()
