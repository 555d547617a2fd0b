"""Release parsing takes time linear in the name and still reads what the old rules read.

The reference is the module with the pieces the rewrite replaced swapped back in (patterns that
backtrack over a run of separators, brackets searched again from every unclosed one, episode
ranges expanded as they are read). It is quadratic on long names, but on short ones it is the
specification.
"""

from __future__ import annotations

import re
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.torrent import release
from status_tracker.actors.torrent.release import (
    ParsedName,
    ReleaseType,
    classify_release,
    map_files_to_episodes,
    parse_episode_tokens,
)
from test_release import FILE_CASES, PUBLISHED_NAMES  # the sibling module's example tables

MEGABYTE = 1 << 20

REFERENCE_CONTINUATION = r"(?:[\s._]*-?[\s._]*(?:s\d{1,3})?e\d{1,4}|-\d{1,4}(?![0-9a-z]))*"
REFERENCE_PIECE = re.compile(r"[\s._]*(-)?[\s._]*(?:s\d{1,3}e|\d{1,2}x|e|x)?(\d{1,4})")
REFERENCE_BRACKETED = re.compile(r"\[[^\]]*\]|\([^)]*\)")


def reference_episode_numbers(first: int, continuation: str) -> tuple[int, ...]:
    numbers = [first]
    for dash, number in REFERENCE_PIECE.findall(continuation):
        value = int(number)
        if dash and value > numbers[-1]:
            numbers.extend(range(numbers[-1] + 1, value + 1))
        else:
            numbers.append(value)
    return tuple(sorted(set(numbers)))


REFERENCE = {
    "_SEASON_EPISODE": re.compile(
        rf"(?<![a-z0-9])s(\d{{1,3}})[\s._-]*e(\d{{1,4}})(?:v\d{{1,2}})?({REFERENCE_CONTINUATION})"
    ),
    "_EPISODE_ONLY": re.compile(
        rf"(?<![a-z0-9])(?:e|ep[\s._]*|episode[\s._]*)(\d{{1,4}})(?:v\d{{1,2}})?(?![0-9])"
        rf"({REFERENCE_CONTINUATION})"
    ),
    "_EPISODE_PIECE": REFERENCE_PIECE,
    "_episode_numbers": reference_episode_numbers,
    "_blank_bracketed": lambda text: REFERENCE_BRACKETED.sub(" ", text),
}


def reference_parse(name: str) -> ParsedName:
    with mock.patch.multiple(release, **REFERENCE):
        return parse_episode_tokens(name)


# Multi-episode forms, and folders whose brackets nest, overlap or never close.
TRICKY_NAMES = [
    "Show.S01E01-E02.1080p.WEB-DL",
    "Show.S01E01.E02.E03.720p",
    "Show S01E01 - E03 1080p",
    "Show.S01E01-02-03.mkv",
    "Show.S01E05-E03.mkv",
    "Show.S01E01-S01E02.mkv",
    "Show.1x01x02.mkv",
    "Show.E01-E03.1080p",
    "Show Ep 01 - 03",
    "Show Episode 7 E8",
    "[Group] Show - 01 ~ 13 [1080p]",
    "[Group] Show (01-13) [1080p]",
    "[Group] Show (Season 1) [Extras]/[NC] Extras (Menu)/Show - 01.mkv",
    "[Group] Show [Extras/Show - 01.mkv",
    "(Show) [1080p/Show (Extras/Show - 01.mkv",
    "[Group [Show] Extras/Show - 01.mkv",
    "(Group (Show) Extras/Show - 01.mkv",
    "[Group (Show] Extras)/Show - 01.mkv",
]
EXAMPLE_NAMES = sorted({name for name, _, _ in (*FILE_CASES, *PUBLISHED_NAMES)} | set(TRICKY_NAMES))


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_example_parses_as_before(name: str) -> None:
    assert parse_episode_tokens(name) == reference_parse(name)


NAME_PIECES = (
    st.sampled_from(["S01", "s", "E1", "e", "e9999", "E03", "ep", "episode", "1x", "02", "x"])
    | st.sampled_from(["v2", "sp", "ova", "season", "2nd", "-e2", "-3", "Extras"])
    | st.sampled_from("-~._ []()/")
)
SEPARATORS = st.sampled_from(["", ".", " ", "_", "-", " - ", "._-_.", "  ", "--"])
small_numbers = st.integers(0, 12).map(str) | st.just("9999")
# A name that reaches the continuation rules: a season-and-episode head, then episode pieces.
episode_names = st.builds(
    lambda head, first, pieces, tail: head + first + "".join(pieces) + tail,
    st.sampled_from(["Show.S01E", "show s1e", "Show S01 E", "Show.E", "Show Ep ", "Show.1x0"])
    | st.sampled_from(["Show Episode ", "[G] Show - ", "Show SP"]),
    small_numbers,
    st.lists(
        st.builds(
            lambda separator, prefix, number: separator + prefix + number,
            SEPARATORS,
            st.sampled_from(["", "e", "E", "s01e", "x", "1x", "S2E"]),
            small_numbers,
        ),
        max_size=6,
    ),
    st.sampled_from(["", ".mkv", "v2.mkv", " [1080p].mkv", "-sample.mkv"]),
)
# A folder whose brackets nest, overlap or never close, above a file.
bracketed_folders = st.lists(
    st.sampled_from(["[", "]", "(", ")", " ", "a", "Extras"]), max_size=10
).map(lambda pieces: "".join(pieces) + "/Show - 01.mkv")
short_names = st.one_of(
    st.text("sSeE0129._- x~[]()/vp", max_size=30),
    st.lists(NAME_PIECES, max_size=12).map("".join),
    episode_names,
    bracketed_folders,
)


@settings(max_examples=3000)
@given(short_names)
def test_any_short_name_parses_as_the_reference_does(name: str) -> None:
    assert parse_episode_tokens(name) == reference_parse(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Show.S01E01" + "._" * (MEGABYTE // 2), ParsedName(seasons=(1,), episodes=(1,))),
        ("Show.S01E01" + "._" * (MEGABYTE // 2) + "!", ParsedName(seasons=(1,), episodes=(1,))),
        ("Show.E01" + " ." * (MEGABYTE // 2) + "-x.mkv", ParsedName(episodes=(1,), is_video=True)),
        (
            "Show.S01E01" + "-E1-E9999" * (MEGABYTE // 9),
            ParsedName(seasons=(1,), episodes=tuple(range(1, 10000))),
        ),
        (
            "[" * MEGABYTE + "/Show.S01E02.mkv",
            ParsedName(seasons=(1,), episodes=(2,), is_video=True),
        ),
        (
            "(" * MEGABYTE + "[Extras]/Extras/Show.S01E02.mkv",
            ParsedName(seasons=(1,), episodes=(2,), is_extra=True, is_video=True),
        ),
    ],
    ids=["separators", "separators-then-stop", "episode-only", "ranges", "[", "("],
)
def test_a_megabyte_name_is_read_like_a_short_one(name: str, expected: ParsedName) -> None:
    """Names the old parsing needed minutes to hours for (quadratic: 20 KB took 5 s).

    No time is asserted: a quadratic regression makes this test hang the run, which is the
    signal.
    """
    assert parse_episode_tokens(name) == expected


def test_a_megabyte_release_title_still_classifies_and_maps() -> None:
    """A hostile ``releaseTitle`` or torrent name of 1 MB gives the answer a short one gives.

    A quadratic regression makes this test hang the run instead of failing it.
    """
    title = "Show.S01E01" + "._" * (MEGABYTE // 2)

    assert classify_release(title, ()) is ReleaseType.SINGLE_EPISODE
    assert map_files_to_episodes([f"{title}/{title}.mkv"], [(1, 1)]) == {0: ((1, 1),)}
