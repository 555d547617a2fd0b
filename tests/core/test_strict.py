"""status_tracker.strict: what may be accepted from a sender is exactly what the database stores.

Table cases for each parser, then Hypothesis properties over the whole input space, then the two
pure readers of provider ids (correlation and the request machine) that parse with it.
"""

from __future__ import annotations

import json
import re
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.dispatch.correlation import lookup_for
from status_tracker.actors.media_request import messages as m

from status_tracker import strict

from .builders import apply_all, movie_requested

MAX_ID = 2**63 - 1
HUGE = 10**5000  # repr() and str() refuse it (more than 4300 digits)
ARABIC_INDIC_ONE = "\u0661"
DOUBLE_STRUCK_ONE = "\U0001d7d9"
NOT_IDS = [
    pytest.param(
        2**63, "is out of range (0 to 9223372036854775807): 9223372036854775808", id="2^63"
    ),
    pytest.param("9223372036854775808", "is out of range", id="2^63 text"),
    pytest.param(-1, "is out of range", id="-1"),
    pytest.param("-1", "is not a number: '-1'", id="-1 text"),
    pytest.param(HUGE, "is out of range (0 to 9223372036854775807): <an integer of", id="huge"),
    pytest.param("9" * 5000, "is not a number: '99999", id="5000 digits"),
    pytest.param("²", "is not a number: '²'", id="superscript two"),
    pytest.param(ARABIC_INDIC_ONE, "is not a number: '\u0661'", id="arabic-indic one"),
    pytest.param(DOUBLE_STRUCK_ONE, "is not a number: '\U0001d7d9'", id="double-struck one"),
    pytest.param("+1", "is not a number: '+1'", id="plus sign"),
    pytest.param(" 1", "is not a number: ' 1'", id="leading space"),
    pytest.param("1 ", "is not a number: '1 '", id="trailing space"),
    pytest.param("1.0", "is not a number: '1.0'", id="decimal text"),
    pytest.param("", "is not a number: ''", id="empty"),
    pytest.param(True, "is not an integer: True", id="true"),
    pytest.param(1.0, "is not an integer: 1.0", id="float"),
    pytest.param(None, "is not an integer: None", id="null"),
    pytest.param(["1"], "is not an integer: ['1']", id="list"),
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), ("0", 0), ("007", 7), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID), (1052946, 1052946)],
)
def test_an_id_is_a_json_integer_or_ascii_digits_up_to_2_63_minus_1(
    value: object, expected: int
) -> None:
    assert strict.parse_id(value) == expected


@pytest.mark.parametrize(("value", "message"), NOT_IDS)
def test_anything_else_is_refused_naming_the_field(value: object, message: str) -> None:
    with pytest.raises(ValueError, match=f"^movie.tmdbId {re.escape(message)}"):
        strict.parse_id(value, what="movie.tmdbId")


@pytest.mark.parametrize(
    ("value", "text_allowed", "expected"),
    [
        (2**31 - 1, False, 2**31 - 1),
        (-(2**31), False, -(2**31)),
        (0, False, 0),
        ("2021", True, 2021),
        ("-5", True, -5),
    ],
)
def test_a_small_number_fits_32_bits(value: object, text_allowed: bool, expected: int) -> None:
    assert strict.parse_int32(value, text_allowed=text_allowed) == expected


@pytest.mark.parametrize(
    ("value", "text_allowed", "message"),
    [
        (2**31, False, "year is out of range (-2147483648 to 2147483647): 2147483648"),
        (-(2**31) - 1, False, "year is out of range"),
        pytest.param(
            HUGE,
            False,
            "year is out of range (-2147483648 to 2147483647): <an integer of",
            id="huge",
        ),
        ("2147483648", True, "year is out of range"),
        ("2021", False, "year is not an integer: '2021'"),
        ("²", True, "year is not a number: '²'"),
        ("+1", True, "year is not a number: '+1'"),
        pytest.param("9" * 12, True, "year is not a number", id="12 digits"),
        (True, True, "year is not an integer: True"),
        (2021.0, True, "year is not an integer: 2021.0"),
    ],
)
def test_a_small_number_outside_32_bits_is_refused(
    value: object, text_allowed: bool, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        strict.parse_int32(value, what="year", text_allowed=text_allowed)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("\x00", "a NUL character"),
        ("Horimiya\x00", "a NUL character"),
        ("\ud800", "a lone surrogate (U+D800)"),
        ("abc\udfffdef", "a lone surrogate (U+DFFF)"),
    ],
)
def test_text_a_database_cannot_store_is_refused(text: str, problem: str) -> None:
    assert strict.unstorable_character(text) == problem
    with pytest.raises(ValueError, match=f"^downloadId contains {re.escape(problem)}$"):
        strict.check_text(text, what="downloadId")


@pytest.mark.parametrize("text", ["", "Horimiya", "ホリミヤ", "Link Click 😀", "tt25041020"])
def test_ordinary_text_is_storable(text: str) -> None:
    assert strict.unstorable_character(text) is None
    assert strict.check_text(text) == text
    assert strict.storable(text) == text


def test_storable_escapes_what_cannot_be_stored() -> None:
    assert strict.storable("a\x00b\ud800c") == "a\\u0000b\\ud800c"


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def nested_objects(depth: int) -> str:
    return '{"k":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [1, {"b": "]"}]}', 3),
        ('"[[["', 0),
        ('["\\"[[", []]', 2),
        (nested(64), 64),
    ],
)
def test_json_depth_counts_nesting_outside_strings(text: str, depth: int) -> None:
    assert strict.json_depth(text) == depth


def test_json_nested_64_deep_is_parsed() -> None:
    value = strict.load_json(nested(64))
    for _ in range(64):
        assert isinstance(value, list)
        (value,) = value
    assert value == 1


@pytest.mark.parametrize(
    "text",
    [nested(65), nested(100_000), nested_objects(100_000), "[" * 100_000],
    ids=["65 lists", "100,000 lists", "100,000 objects", "100,000 unclosed"],
)
def test_json_nested_deeper_than_64_is_refused_without_recursion_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"^JSON nested deeper than 64 levels$"):
        strict.load_json(text)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": "\xff"}', "^not UTF-8 text"),
        ("NaN", "^NaN is not JSON$"),
        ('{"size": Infinity}', "^Infinity is not JSON$"),
        ("{", "^Expecting property name"),
    ],
)
def test_json_that_is_not_json_is_refused(raw: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        strict.load_json(raw)


def test_json_keeps_what_the_sender_wrote() -> None:
    raw = '{"title": "x", "tmdbId": 9223372036854775808, "imdbId": "\\ud800"}'
    assert strict.load_json(raw.encode()) == {
        "title": "x",
        "tmdbId": 2**63,
        "imdbId": "\ud800",
    }


def deep_list(depth: int) -> list[object]:
    top: list[object] = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


@pytest.mark.parametrize(
    "value",
    [HUGE, -HUGE, [HUGE], {"id": HUGE}, deep_list(100_000), "x" * 1_000_000, "\x00\ud800" * 50],
    ids=["huge", "huge negative", "huge in a list", "huge in an object", "deep", "long", "nul"],
)
def test_preview_is_short_storable_and_never_raises(value: object) -> None:
    text = strict.preview(value)
    assert len(text) <= 40
    assert strict.unstorable_character(text) is None


# Properties over the whole input space.

ids = st.integers(min_value=0, max_value=MAX_ID)
not_ids = st.integers(max_value=-1) | st.integers(min_value=MAX_ID + 1, max_value=10**100)
any_text = st.text(st.characters() | st.characters(categories=["Cs"]))
unicode_digits = st.text(st.characters(categories=["Nd"]), min_size=1).filter(
    lambda text: not text.isascii()
)


@given(ids)
def test_every_id_round_trips_as_number_and_as_text(number: int) -> None:
    assert strict.parse_id(number) == number
    assert strict.parse_id(str(number)) == number


@given(not_ids)
def test_every_integer_outside_the_id_range_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match=r"^id is out of range"):
        strict.parse_id(number)
    with pytest.raises(ValueError, match=r"^id is (out of range|not a number)"):
        strict.parse_id(str(number))


@given(unicode_digits | any_text.filter(lambda text: not re.fullmatch("[0-9]+", text)))
def test_text_that_is_not_ascii_digits_is_never_an_id(text: str) -> None:
    with pytest.raises(ValueError, match=r"^id is not a number"):
        strict.parse_id(text)


@given(st.integers(min_value=-(2**80), max_value=2**80), st.booleans())
def test_parse_int32_accepts_exactly_the_signed_32_bit_range(number: int, as_text: bool) -> None:
    value = str(number) if as_text else number
    if -(2**31) <= number < 2**31:
        assert strict.parse_int32(value, text_allowed=True) == number
    else:
        with pytest.raises(ValueError, match=r"^number is (out of range|not a number)"):
            strict.parse_int32(value, text_allowed=True)


@given(unicode_digits)
def test_unicode_digits_are_never_a_small_number(text: str) -> None:
    with pytest.raises(ValueError, match=r"^number is not a number"):
        strict.parse_int32(text, text_allowed=True)


@given(any_text)
def test_storable_text_always_passes_check_text(text: str) -> None:
    escaped = strict.storable(text)
    assert strict.check_text(escaped) == escaped
    if strict.unstorable_character(text) is None:
        assert escaped == text
    else:
        with pytest.raises(ValueError, match=r"^text contains a (NUL character|lone surrogate)"):
            strict.check_text(text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children),
    max_leaves=10,
)


@given(json_values)
def test_json_within_the_depth_limit_reads_back_as_written(value: object) -> None:
    assert strict.load_json(json.dumps(value)) == value


@settings(max_examples=50)
@given(st.integers(min_value=0, max_value=3_000), st.sampled_from([nested, nested_objects]))
def test_json_depth_decides_alone_whether_a_document_is_read(
    depth: int, document: typing.Callable[[int], str]
) -> None:
    if depth <= 64:
        strict.load_json(document(depth))
    else:
        with pytest.raises(ValueError, match=r"^JSON nested deeper than 64 levels$"):
            strict.load_json(document(depth))


# The pure readers of provider ids carried as text in LibraryItemAdded.

NOT_ID_TEXTS = [
    "²",
    ARABIC_INDIC_ONE,
    DOUBLE_STRUCK_ONE,
    "+1",
    " 1",
    "9223372036854775808",
    "9" * 5000,
]


def library_movie_with(tmdb: str, shoko_file: str) -> m.LibraryItemAdded:
    return m.LibraryItemAdded(
        item_id="0f8e7d6c5b4a49382716a5b4c3d2e1f0",
        item_type="Movie",
        name="Alien: Romulus",
        year=2024,
        provider_ids=(("shoko file", shoko_file), ("tmdb", tmdb)),
    )


@pytest.mark.parametrize("text", NOT_ID_TEXTS)
def test_correlation_treats_a_provider_id_that_is_not_an_id_as_unknown(text: str) -> None:
    lookup = lookup_for(library_movie_with(tmdb=text, shoko_file=text))
    assert lookup is not None
    assert (lookup.tmdb_id, lookup.shoko_file_id) == (None, None)


def test_correlation_reads_a_provider_id_that_is_an_id() -> None:
    lookup = lookup_for(library_movie_with(tmdb="945961", shoko_file="51208"))
    assert lookup is not None
    assert (lookup.tmdb_id, lookup.shoko_file_id) == (945961, 51208)


@pytest.mark.parametrize("text", NOT_ID_TEXTS)
def test_a_library_item_with_a_shoko_file_that_is_not_an_id_still_makes_the_movie_available(
    text: str,
) -> None:
    state, _ = apply_all(
        [
            movie_requested("Alien: Romulus", tmdb_id=945961),
            library_movie_with(tmdb="945961", shoko_file=text),
        ]
    )
    assert state.request is not None
    assert state.request.state == "available"
    assert state.request.jellyfin_id == "0f8e7d6c5b4a49382716a5b4c3d2e1f0"
