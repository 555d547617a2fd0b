"""Hypothesis properties of webhook translation: only PayloadError escapes, noise is ignored.

Mutations start from the shared fixtures: drop keys, add unknown keys, replace values with
arbitrary JSON.
"""

from __future__ import annotations

import contextlib
import copy
import random
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from status_tracker.ingress.translate import PayloadError, translate

from tests.support.fixtures import load_fixture as load
from tests.support.webhook_bodies import FIXTURE_NAMES, keys_in, objects_in, source_of

# Keys (as paths, "*" for any list index) a translator may need; every other key is optional.
REQUIRED_PATHS = {
    "jellyseerr": {"notification_type", "subject", "media", "media.media_type"},
    "radarr": {"eventType", "movie", "movie.title", "remoteMovie.title", "movieFile"}
    | {"movieFile.path"},
    "sonarr": {"eventType", "series", "series.title", "episodes", "episodes.*"}
    | {"episodes.*.seasonNumber", "episodes.*.episodeNumber"}
    | {"episodeFile", "episodeFile.path", "episodeFiles", "episodeFiles.*.path"},
    "jellyfin": {"NotificationType", "ItemId", "ItemType", "Name"},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
unknown_keys = st.text(max_size=8).map(lambda suffix: f"unknown_{suffix}")


def pattern_of(path: tuple[object, ...]) -> str:
    return ".".join("*" if isinstance(part, int) else str(part) for part in path)


def parent_of(body: object, path: tuple[object, ...]) -> object:
    for part in path[:-1]:
        body = body[part]
    return body


def translate_or_refuse(source: str, body: object) -> object:
    """The fact, or the PayloadError; anything else raised fails the test."""
    try:
        return translate(source, body)
    except PayloadError as error:
        return error


def with_unknown_keys(body: object, data: st.DataObject) -> object:
    noisy = copy.deepcopy(body)
    for target in data.draw(st.lists(st.sampled_from(objects_in(noisy)), max_size=5)):
        target.setdefault(data.draw(unknown_keys), data.draw(json_values))
    return noisy


@settings(max_examples=300)
@given(name=st.sampled_from(FIXTURE_NAMES), data=st.data())
def test_any_mutation_is_a_fact_or_a_payload_error(name: str, data: st.DataObject) -> None:
    body = with_unknown_keys(load(name), data)
    paths = keys_in(body)
    for path in data.draw(st.lists(st.sampled_from(paths), max_size=4, unique=True)):
        replacement = data.draw(st.none() | json_values.map(lambda value: [value]))
        # An earlier mutation may have replaced or removed this path's parent: then skip it.
        with contextlib.suppress(KeyError, IndexError, TypeError):
            parent = parent_of(body, path)
            if replacement is None:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement[0]
    translate_or_refuse(source_of(name), body)


@settings(max_examples=200)
@given(name=st.sampled_from(FIXTURE_NAMES), data=st.data())
def test_unknown_keys_change_nothing(name: str, data: st.DataObject) -> None:
    body = load(name)
    expected = translate_or_refuse(source_of(name), body)
    actual = translate_or_refuse(source_of(name), with_unknown_keys(body, data))
    if isinstance(expected, PayloadError):
        assert str(actual) == str(expected)
    else:
        assert actual == expected


@settings(max_examples=200)
@given(name=st.sampled_from(FIXTURE_NAMES), data=st.data())
def test_dropping_optional_keys_keeps_the_fact_type(name: str, data: st.DataObject) -> None:
    source = source_of(name)
    body = load(name)
    expected = translate_or_refuse(source, body)
    assume(not isinstance(expected, PayloadError))
    optional = [
        path
        for path in keys_in(body)
        if isinstance(path[-1], str) and pattern_of(path) not in REQUIRED_PATHS[source]
    ]
    # Deepest first, so dropping a key never removes another chosen key's parent first.
    chosen = data.draw(st.lists(st.sampled_from(optional), max_size=6, unique=True))
    for path in sorted(chosen, key=len, reverse=True):
        parent_of(body, path).pop(path[-1], None)
    assert type(translate(source, body)) is type(expected)


years = st.integers(min_value=1000, max_value=9999)
# Storable titles: a NUL character or a lone surrogate makes the body a PayloadError.
titles = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), min_size=1)


def jellyseerr_request(subject: str) -> object:
    body = load("jellyseerr/media_auto_approved_movie.json")
    body["subject"] = subject
    return body


@given(title=titles, year=years)
def test_subject_title_and_year_round_trip(title: str, year: int) -> None:
    fact = translate("jellyseerr", jellyseerr_request(f"{title} ({year})"))
    assert (fact.title, fact.year) == (title, year)


@given(title=titles)
def test_subject_without_year_is_all_title(title: str) -> None:
    assume(not re.search(r" \([0-9]{4}\)\Z", title))
    fact = translate("jellyseerr", jellyseerr_request(title))
    assert (fact.title, fact.year) == (title, None)


@pytest.mark.parametrize(
    "name", ["sonarr/import_complete_season_pack.json", "captured/sonarr-import.json"]
)
@given(rng=st.randoms(use_true_random=False))
def test_import_complete_mapping_ignores_file_order(name: str, rng: random.Random) -> None:
    body = load(name)
    files = translate("sonarr", body).files
    rng.shuffle(body["episodeFiles"])
    shuffled = translate("sonarr", body).files
    assert sorted(shuffled, key=lambda file: file.path) == sorted(files, key=lambda file: file.path)


# Sonarr's multi-episode naming styles (Settings → Media Management), for numbers in order.
MULTI_EPISODE_STYLES = {
    "extend": lambda numbers: f"E{numbers[0]:02d}" + "".join(f"-{n:02d}" for n in numbers[1:]),
    "repeat": lambda numbers: "".join(f"E{n:02d}" for n in numbers),
    "scene": lambda numbers: "-".join(f"E{n:02d}" for n in numbers),
    "range": lambda numbers: f"E{numbers[0]:02d}" + f"-{numbers[-1]:02d}" * (len(numbers) > 1),
    "prefixed range": lambda numbers: (
        f"E{numbers[0]:02d}" + f"-E{numbers[-1]:02d}" * (len(numbers) > 1)
    ),
}


@given(
    style=st.sampled_from(sorted(MULTI_EPISODE_STYLES)),
    season=st.integers(min_value=0, max_value=99),
    first=st.integers(min_value=1, max_value=9980),
    count=st.integers(min_value=1, max_value=20),
)
def test_a_multi_episode_file_holds_the_episodes_its_name_names(
    style: str, season: int, first: int, count: int
) -> None:
    numbers = list(range(first, first + count))
    name = f"Show - S{season:02d}{MULTI_EPISODE_STYLES[style](numbers)} - Title [HDTV-720p].mkv"
    episodes = [(season, number) for number in numbers] + [(season + 1, 1)]
    body = {
        "eventType": "Download",
        "series": {"title": "Show"},
        "episodes": [{"seasonNumber": s, "episodeNumber": e} for s, e in episodes],
        "episodeFiles": [{"path": f"/tv/Show/{name}"}, {"path": "/tv/Show/other.mkv"}],
    }
    assert translate("sonarr", body).files[0].episodes == tuple(episodes[:-1])
