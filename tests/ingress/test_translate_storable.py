"""Nothing a sender writes gets past translation unless the database can store it.

Issue 7: a webhook answered 200 must never crash the dispatcher later. Table cases for the
reported bodies, then Hypothesis mutations of every webhook fixture with edge values: the result
is a PayloadError naming the field, or a fact whose every integer and string is storable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.dispatch.correlation import lookup_for
from status_tracker.ingress.translate import PayloadError, event_type_of, translate

from status_tracker import strict
from tests.support.fixtures import load_fixture as load
from tests.support.webhook_bodies import (
    FIXTURE_NAMES,
    WEBHOOK_NAMES,
    edited,
    keys_in,
    objects_in,
    source_of,
)

MAX_ID = 2**63 - 1
MIN_INT64 = -(2**63)
INT32 = (-(2**31), 2**31 - 1)
ARABIC_INDIC_ONE = "\u0661"
DOUBLE_STRUCK_ONE = "\U0001d7d9"
NUMERIC_PROVIDERS = {"tmdb", "tvdb", "shoko file"}


def refusal(source: str, body: object) -> str:
    with pytest.raises(PayloadError) as refused:
        translate(source, body)
    return str(refused.value)


# The bodies of the issue, and their kin: each is refused, naming the field.

ISSUE_CASES = [
    pytest.param(
        "radarr",
        {"eventType": "Grab", "movie": {"title": "x", "tmdbId": 2**63}},
        "movie.tmdbId is out of range (0 to 9223372036854775807): 9223372036854775808",
        id="radarr tmdbId 2^63",
    ),
    pytest.param(
        "radarr",
        {"eventType": "Grab", "movie": {"title": "x", "tmdbId": "9223372036854775808"}},
        "movie.tmdbId is not an integer: '9223372036854775808'",
        id="radarr tmdbId 2^63 as text",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_pending_tv.json", {"media.tmdbId": "9223372036854775808"}),
        "media.tmdbId is out of range (0 to 9223372036854775807): 9223372036854775808",
        id="jellyseerr tmdbId 2^63 as text",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Provider_tmdb": "²"}),
        "Provider_tmdb is not a number: '²'",
        id="jellyfin superscript tmdb",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Provider_Tmdb": ARABIC_INDIC_ONE}),
        f"Provider_Tmdb is not a number: '{ARABIC_INDIC_ONE}'",
        id="jellyfin arabic-indic tmdb",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_episode_shokofin.json", {"Provider_shoko file": "+51208"}),
        "Provider_shoko file is not a number: '+51208'",
        id="jellyfin signed shoko file",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_episode.json", {"Provider_tvdb": 2**63}),
        "Provider_tvdb is out of range (0 to 9223372036854775807): 9223372036854775808",
        id="jellyfin tvdb 2^63 unquoted",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"downloadId": "\ud800"}),
        "downloadId contains a lone surrogate (U+D800)",
        id="radarr downloadId surrogate",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.imdbId": "tt\udc00"}),
        "movie.imdbId contains a lone surrogate (U+DC00)",
        id="radarr imdbId surrogate",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"downloadId": "B4A1\udfff"}),
        "downloadId contains a lone surrogate (U+DFFF)",
        id="sonarr downloadId surrogate",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.title": "Violet\x00"}),
        "movie.title contains a NUL character",
        id="radarr title NUL",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"movieFile.path": "/data/\x00.mkv"}),
        "movieFile.path contains a NUL character",
        id="radarr file path NUL",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"release.releaseTitle": "\x00"}),
        "release.releaseTitle contains a NUL character",
        id="radarr release NUL",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"eventType": "Grab\x00"}),
        "eventType contains a NUL character",
        id="radarr event type NUL",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"episodes.4.title": "\x00"}),
        "episodes[4].title contains a NUL character",
        id="sonarr episode title NUL",
    ),
    pytest.param(
        "sonarr",
        edited(
            "sonarr/grab_season_pack.json",
            {
                "eventType": "ManualInteractionRequired",
                "downloadStatusMessages": [{"title": "Batch", "messages": ["ok", "\x00"]}],
            },
        ),
        "downloadStatusMessages[0].messages[1] contains a NUL character",
        id="sonarr status message NUL",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_pending_tv.json", {"subject": "Horimiya\x00 (2021)"}),
        "subject contains a NUL character",
        id="jellyseerr subject NUL",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_pending_tv.json", {"request.requestedBy_username": "\ud83d"}),
        "request.requestedBy_username contains a lone surrogate (U+D83D)",
        id="jellyseerr requester surrogate",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Name": "\x00"}),
        "Name contains a NUL character",
        id="jellyfin name NUL",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Provider_imdb": "tt\x00"}),
        "Provider_imdb contains a NUL character",
        id="jellyfin imdb NUL",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Provider_\x00": "1"}),
        "Provider_\\u0000 contains a NUL character",
        id="jellyfin provider key NUL",
    ),
]


@pytest.mark.parametrize(("source", "body", "message"), ISSUE_CASES)
def test_a_body_the_database_cannot_store_is_refused_naming_the_field(
    source: str, body: object, message: str
) -> None:
    assert refusal(source, body) == message


# Every id and integer field the translators read, at and past its bound.

FIELD_BOUND_CASES = [
    pytest.param("radarr", "radarr/grab.json", "movie.id", 2**63, id="radarr id"),
    pytest.param("radarr", "radarr/grab.json", "movie.tmdbId", -1, id="radarr tmdbId"),
    pytest.param("radarr", "radarr/grab.json", "movie.year", 2**31, id="radarr year"),
    pytest.param("radarr", "radarr/grab.json", "release.size", 2**63, id="release size"),
    pytest.param("sonarr", "sonarr/grab_v3.json", "series.id", 2**64, id="series id"),
    pytest.param("sonarr", "sonarr/grab_v3.json", "series.tvdbId", -5, id="series tvdbId"),
    pytest.param("sonarr", "sonarr/grab_v3.json", "series.tmdbId", 2**63, id="series tmdbId"),
    pytest.param("sonarr", "sonarr/grab_v3.json", "series.year", -(2**31) - 1, id="series year"),
    pytest.param("sonarr", "sonarr/grab_season_pack.json", "episodes.2.id", 2**63, id="episode id"),
    pytest.param(
        "sonarr", "sonarr/grab_season_pack.json", "episodes.2.tvdbId", -1, id="episode tvdbId"
    ),
    pytest.param(
        "sonarr",
        "sonarr/grab_season_pack.json",
        "episodes.2.seasonNumber",
        2**31,
        id="season number",
    ),
    pytest.param(
        "sonarr",
        "sonarr/grab_season_pack.json",
        "episodes.2.episodeNumber",
        10**30,
        id="episode number",
    ),
    pytest.param(
        "jellyseerr",
        "jellyseerr/media_pending_tv.json",
        "media.tvdbId",
        "99999999999999999999",
        id="jellyseerr tvdbId",
    ),
    pytest.param(
        "jellyseerr",
        "jellyseerr/media_pending_tv.json",
        "request.request_id",
        "9223372036854775808",
        id="jellyseerr request id",
    ),
    pytest.param(
        "jellyfin", "jellyfin/item_added_episode.json", "Year", "2147483648", id="jellyfin year"
    ),
    pytest.param(
        "jellyfin",
        "jellyfin/item_added_episode.json",
        "SeasonNumber",
        DOUBLE_STRUCK_ONE,
        id="jellyfin season",
    ),
    pytest.param(
        "jellyfin",
        "jellyfin/item_added_episode.json",
        "EpisodeNumber",
        "9" * 5000,
        id="jellyfin episode",
    ),
]


@pytest.mark.parametrize(("source", "name", "path", "value"), FIELD_BOUND_CASES)
def test_a_number_the_database_cannot_store_is_refused_naming_the_field(
    source: str, name: str, path: str, value: object
) -> None:
    field = re.sub(r"\.([0-9]+)", r"[\1]", path)
    assert refusal(source, edited(name, {path: value})).startswith(f"{field} is ")


def test_requested_seasons_beyond_32_bits_are_refused() -> None:
    body = edited("jellyseerr/media_pending_tv.json", {"extra.0.value": "1, 2147483648"})
    assert refusal("jellyseerr", body).startswith("extra[0].value is out of range")


def test_a_file_spanning_a_thousand_episodes_is_refused() -> None:
    body = edited(
        "jellyfin/item_added_episode.json", {"EpisodeNumber": 1, "EpisodeNumberEnd": 1001}
    )
    assert refusal("jellyfin", body) == (
        "EpisodeNumberEnd is 1000 or more episodes after EpisodeNumber: 1001"
    )


@pytest.mark.parametrize(
    ("source", "name", "changes", "attribute", "expected"),
    [
        ("radarr", "radarr/grab.json", {"movie.tmdbId": MAX_ID}, "tmdb_id", MAX_ID),
        ("radarr", "radarr/grab.json", {"release.size": MAX_ID}, "size", MAX_ID),
        ("radarr", "radarr/grab.json", {"movie.year": 2**31 - 1}, "year", 2**31 - 1),
        (
            "jellyseerr",
            "jellyseerr/media_pending_tv.json",
            {"media.tvdbId": str(MAX_ID)},
            "tvdb_id",
            MAX_ID,
        ),
        (
            "jellyfin",
            "jellyfin/item_added_movie.json",
            {"Provider_tmdb": str(MAX_ID)},
            "provider_ids",
            (("imdb", "tt25041020"), ("tmdb", str(MAX_ID))),
        ),
    ],
)
def test_the_largest_storable_values_are_kept(
    source: str, name: str, changes: dict[str, object], attribute: str, expected: object
) -> None:
    assert getattr(translate(source, edited(name, changes)), attribute) == expected


def test_event_type_for_the_inbox_is_storable() -> None:
    assert event_type_of("radarr", {"eventType": "Grab\x00\ud800"}) == "Grab\\u0000\\ud800"


# Properties: any mutation with edge values gives a PayloadError or a storable fact.


def deep(depth: int, make_level: type[list] | type[dict]) -> object:
    """Lists (or objects under key ``"a"``) nested ``depth`` levels, built without recursion."""
    top: object = [] if make_level is list else {}
    inner = top
    for _ in range(depth):
        child: object = [] if make_level is list else {}
        if isinstance(inner, list):
            inner.append(child)
        else:
            inner["a"] = child
        inner = child
    return top


@attrs.frozen
class Unprintable:
    """An edge value Hypothesis cannot print when it reports a draw: drawn by label, then built."""

    label: str
    value: object = attrs.field(repr=False)


def built(value: object) -> object:
    return value.value if isinstance(value, Unprintable) else value


EDGE_NUMBERS = [
    *(0, 1, -1, 2**31 - 1, 2**31, -(2**31), -(2**31) - 1),
    *(MAX_ID, 2**63, MIN_INT64, MIN_INT64 - 1, 2**64, 10**30),
    *(0.5, 1.0, -0.0, 1e308, float("inf"), True, False),
]
EDGE_TEXTS = [
    *("²", ARABIC_INDIC_ONE, DOUBLE_STRUCK_ONE, "+1", " 1", "1 ", "1.0", "-1", "0", "1e3"),
    *(str(MAX_ID), str(2**63), "2147483648", "9" * 5000, "-" + "9" * 30),
    *("\ud800", "\udfff", "a\udc00b", "\x00", "x\x00", "S01E01\x00.mkv"),
    *("x" * 100_000, "Show - S01E01-9999 - x.mkv", "Show - S9999E9999.mkv", "Anime", "anime"),
]
EDGE_SHAPES = [
    None,
    [],
    {},
    [1],
    ["²"],
    {"title": "\x00"},
    Unprintable("10**5000", 10**5000),
    Unprintable("-10**5000", -(10**5000)),
    Unprintable("[10**5000]", [10**5000]),
    Unprintable("list nested 100,000 deep", deep(100_000, list)),
    Unprintable("object nested 100,000 deep", deep(100_000, dict)),
    Unprintable("[list nested 100,000 deep]", [deep(100_000, list)]),
]
any_text = st.text(st.characters() | st.characters(categories=["Cs"]), max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3)
    ),
    max_leaves=6,
)
edge_values = st.sampled_from(EDGE_NUMBERS + EDGE_TEXTS + EDGE_SHAPES) | json_values
# Keys a translator may read that a fixture lacks, plus provider keys and unstorable keys.
KNOWN_KEYS = sorted(
    {
        str(path[-1])
        for name in FIXTURE_NAMES
        for path in keys_in(load(name))
        if isinstance(path[-1], str)
    }
    | {"Provider_tmdb", "Provider_Tvdb", "Provider_shoko file", "Provider_imdb", "EpisodeNumberEnd"}
    | {"Provider_\x00", "Provider_\ud800", "tmdbId\x00"}
)


def int_bounds(field: str) -> tuple[int, int]:
    """The range a fact's integer field must stay in to be stored (ids are never negative)."""
    if field.endswith("_id") or field == "size":
        return 0, MAX_ID
    if field in {"year", "season", "episode", "episode_end", "requested_seasons", "episodes"}:
        return INT32
    return MIN_INT64, MAX_ID


def unstorable(value: object, field: str = "fact") -> Iterator[str]:
    """Every integer or string in ``value`` the database could not store, with its field."""
    if attrs.has(type(value)):
        for attribute in attrs.fields(type(value)):
            yield from unstorable(getattr(value, attribute.name), attribute.name)
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from unstorable(item, field)
    elif value is None or isinstance(value, bool):
        return
    elif isinstance(value, int):
        low, high = int_bounds(field)
        if not low <= value <= high:
            yield f"{field} = {strict.preview(value)}"
    elif isinstance(value, str):
        if (problem := strict.unstorable_character(value)) is not None:
            yield f"{field} contains {problem}"
    else:
        yield f"{field} is a {type(value).__name__}"


def translate_or_refuse(source: str, body: object) -> object:
    """The fact, or the PayloadError; anything else raised fails the test."""
    try:
        return translate(source, body)
    except PayloadError as error:
        return error


def assert_storable_or_refused(source: str, body: object) -> None:
    outcome = translate_or_refuse(source, body)
    if isinstance(outcome, PayloadError):
        assert strict.unstorable_character(str(outcome)) is None, str(outcome)
        return
    assert list(unstorable(outcome)) == []
    for provider, value in getattr(outcome, "provider_ids", ()):
        if provider in NUMERIC_PROVIDERS:
            strict.parse_id(value, what=provider)
    lookup_for(outcome)


def mutate(body: object, data: st.DataObject) -> None:
    """Set up to four existing keys, and up to three added known keys, to edge values."""
    paths = data.draw(st.lists(st.sampled_from(keys_in(body)), max_size=4, unique=True))
    targets = data.draw(st.lists(st.sampled_from(objects_in(body)), max_size=3))
    for path in paths:
        parent = body
        try:
            for part in path[:-1]:
                parent = parent[part]
            parent[path[-1]] = built(data.draw(edge_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation replaced this path's parent
    for target in targets:
        target[data.draw(st.sampled_from(KNOWN_KEYS))] = built(data.draw(edge_values))


@settings(max_examples=400, deadline=None)
@given(name=st.sampled_from(WEBHOOK_NAMES), data=st.data())
def test_edge_values_give_a_storable_fact_or_a_payload_error(
    name: str, data: st.DataObject
) -> None:
    body = load(name)
    mutate(body, data)
    assert_storable_or_refused(source_of(name), body)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(WEBHOOK_NAMES), value=edge_values, data=st.data())
def test_one_edge_value_anywhere_gives_a_storable_fact_or_a_payload_error(
    name: str, value: object, data: st.DataObject
) -> None:
    body = load(name)
    path = data.draw(st.sampled_from(keys_in(body)))
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = built(value)
    assert_storable_or_refused(source_of(name), body)


# Where a number is read, it is kept exactly when storable, and refused naming the field.

NUMBER_FIELDS = [
    # source, fixture, path in the body, attribute path in the fact, id or int32, as text
    ("radarr", "radarr/grab.json", "movie.id", "radarr_id", "id", False),
    ("radarr", "radarr/download.json", "movie.tmdbId", "tmdb_id", "id", False),
    ("sonarr", "sonarr/grab_season_pack.json", "series.tvdbId", "series.tvdb_id", "id", False),
    (
        "sonarr",
        "sonarr/grab_season_pack.json",
        "episodes.0.id",
        "episodes.0.sonarr_episode_id",
        "id",
        False,
    ),
    (
        "sonarr",
        "sonarr/grab_single_episode.json",
        "episodes.0.seasonNumber",
        "episodes.0.season",
        "int32",
        False,
    ),
    ("jellyseerr", "jellyseerr/media_pending_tv.json", "media.tmdbId", "tmdb_id", "id", True),
    (
        "jellyseerr",
        "jellyseerr/media_pending_tv.json",
        "request.request_id",
        "jellyseerr_request_id",
        "id",
        True,
    ),
    ("jellyfin", "jellyfin/item_added_movie.json", "Provider_tmdb", "provider_ids.1.1", "id", True),
    ("jellyfin", "jellyfin/item_added_episode.json", "SeasonNumber", "season", "int32", True),
    ("jellyfin", "jellyfin/item_added_episode.json", "Year", "year", "int32", False),
]


def pluck(value: object, path: str) -> object:
    for part in path.split("."):
        value = value[int(part)] if part.isdigit() else getattr(value, part)
    return value


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(NUMBER_FIELDS),
    # 0 is Sonarr's and Radarr's word for unknown.
    number=(
        st.integers(min_value=-(2**70), max_value=2**70) | st.sampled_from(EDGE_NUMBERS[:13])
    ).filter(bool),
)
def test_a_number_is_kept_exactly_when_storable(
    field: tuple[str, str, str, str, str, bool], number: int
) -> None:
    source, name, path, attribute, kind, as_text = field
    low, high = (0, MAX_ID) if kind == "id" else INT32
    # Decimal text is ASCII digits only: a sign is refused even in range.
    storable = low <= number <= high and (number >= 0 or not as_text)
    body = edited(name, {path: str(number) if as_text else number})
    if storable:
        kept = pluck(translate(source, body), attribute)
        assert kept == (str(number) if path.startswith("Provider_") else number)
    else:
        field_name = re.sub(r"\.([0-9]+)", r"[\1]", path)
        assert refusal(source, body).startswith(f"{field_name} is ")
