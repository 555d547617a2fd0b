"""status_tracker.json_text: whatever the service answers with reads back as the value it wrote.

orjson writes what it can; what it refuses (a lone surrogate, an integer beyond 64 bits, a
type only ``default`` knows) the standard library writes, so no answer fails for its content.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from status_tracker import json_text

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()  # lone surrogates included
)
STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')  # a string literal, escapes and all
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"{name} is not JSON")


def read_back(text: bytes) -> Any:
    """The value strict JSON (no NaN, no Infinity) gives for ``text``."""
    return json.loads(text.decode(), parse_constant=_refuse_constant)


@given(VALUES)
def test_every_value_reads_back_as_written(value: Any) -> None:
    assert read_back(json_text.dumps(value)) == value


@given(VALUES)
def test_the_text_is_compact_and_keeps_the_keys_order(value: Any) -> None:
    written = json_text.dumps({"z": value, "a": 1})
    assert list(read_back(written)) == ["z", "a"]
    assert not re.search(rb"\s", STRING.sub(b"", written))


def test_non_ascii_text_is_utf8_and_a_lone_surrogate_is_escaped() -> None:
    assert json_text.dumps({"title": "Amélie 🎬"}) == '{"title":"Amélie 🎬"}'.encode()
    assert json_text.dumps({"title": "bad \udc80"}) == b'{"title":"bad \\udc80"}'


def test_integers_beyond_64_bits_are_written_whole() -> None:
    assert json_text.dumps([2**64, -(2**70)]) == f"[{2**64},{-(2**70)}]".encode()


def test_integer_keys_are_written_as_text() -> None:
    assert read_back(json_text.dumps({1: "a", 2: {3: None}})) == {"1": "a", "2": {"3": None}}


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_a_float_that_is_not_finite_is_null(number: float) -> None:
    assert read_back(json_text.dumps({"progress": number})) == {"progress": None}


def test_default_writes_what_neither_library_knows() -> None:
    moment = datetime.datetime(2026, 12, 5, 8, 30)
    assert json_text.dumps([moment], default=str) == b'["2026-12-05 08:30:00"]'
    assert json_text.dumps(["\udc80", moment], default=str) == b'["\\udc80","2026-12-05 08:30:00"]'
    for unknown in (object(), moment):
        with pytest.raises(TypeError):
            json_text.dumps([unknown])


def test_text_for_a_websocket_frame() -> None:
    assert (
        json_text.dumps_text({"type": "request", "title": "Léon"})
        == '{"type":"request","title":"Léon"}'
    )
