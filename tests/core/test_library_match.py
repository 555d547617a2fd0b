"""Title and path matching used when the library has no ids for an item (pure rules)."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.library_match import (
    match_episodes,
    match_path,
    path_suffix_matches,
    same_file_name,
    subtitle_of,
    title_variants,
    titles_match,
)

LIBRARY = "/data/anime/shows/Lycoris Recoil/Season 1/"


@pytest.mark.parametrize(
    ("title", "variants", "subtitle"),
    [
        (
            "Violet Evergarden: Recollections",
            ["Violet Evergarden: Recollections", "Violet Evergarden"],
            "Recollections",
        ),
        (
            "Chainsaw Man - The Movie: Reze Arc",
            ["Chainsaw Man - The Movie: Reze Arc", "Chainsaw Man"],
            "The Movie: Reze Arc",
        ),
        ("Horimiya", ["Horimiya"], None),
        ("Horimiya (2021)", ["Horimiya"], None),
        ("Solo Leveling -ReAwakening-", ["Solo Leveling -ReAwakening-"], None),
        ("9-1-1", ["9-1-1"], None),
        ("Kaguya-sama ~Love Is War~", ["Kaguya-sama ~Love Is War~", "Kaguya-sama"], "Love Is War"),
    ],
)
def test_title_variants_and_subtitles(
    title: str, variants: list[str], subtitle: str | None
) -> None:
    assert title_variants(title) == variants
    assert subtitle_of(title) == subtitle


SPACES = " " * (1 << 20)


@pytest.mark.parametrize(
    ("title", "variants", "subtitle"),
    [
        (f"Title{SPACES}x", [f"Title{SPACES}x"], None),
        (
            f"Title{SPACES}- Part Two (2021){SPACES}",
            [f"Title{SPACES}- Part Two", "Title"],
            "Part Two",
        ),
        (f"Title :{SPACES}", ["Title :", "Title"], None),
    ],
    ids=["spaces", "spaces-then-subtitle-and-year", "colon-then-spaces"],
)
def test_a_title_with_a_megabyte_of_spaces_reads_like_a_short_one(
    title: str, variants: list[str], subtitle: str | None
) -> None:
    """A library item's name comes from outside; the old patterns were quadratic in a run of
    spaces (20 KB took 1.5 s). No time is asserted: a quadratic regression hangs the run."""
    assert title_variants(title) == variants
    assert subtitle_of(title) == subtitle


@pytest.mark.parametrize(
    ("ours", "theirs", "expected"),
    [
        ("Violet Evergarden: Recollections", "Violet Evergarden", True),
        ("Violet Evergarden: Recollections", "violet evergarden recollections", True),
        ("Pokémon", "Pokemon", True),
        ("Horimiya", "Horimiya: The Missing Pieces", False),
        ("Link Click", "Link Click (Shiguang Dailiren)", False),
        ("リコリス・リコイル", "リコリス・リコイル", True),
        ("リコリス・リコイル", "進撃の巨人", False),
    ],
)
def test_titles_match_on_the_title_or_its_main_part(ours: str, theirs: str, expected: bool) -> None:
    assert titles_match(ours, (theirs,)) is expected


@pytest.mark.parametrize(
    ("relative", "full", "expected"),
    [
        ("/Lycoris Recoil/Season 1/E01.mkv", f"{LIBRARY}E01.mkv", True),
        ("\\Lycoris Recoil\\Season 1\\E01.mkv", f"{LIBRARY}E01.mkv", True),
        ("/Season 1/E01.mkv", f"{LIBRARY}E01.mkv", True),
        ("/coil/Season 1/E01.mkv", f"{LIBRARY}E01.mkv", False),
        ("/Lycoris Recoil/Season 1/E02.mkv", f"{LIBRARY}E01.mkv", False),
        ("/E01.mkv", "E01.mkv", True),
        ("", f"{LIBRARY}E01.mkv", False),
    ],
)
def test_a_reported_path_matches_by_whole_trailing_components(
    relative: str, full: str, expected: bool
) -> None:
    assert path_suffix_matches(relative, full) is expected


def test_match_path_prefers_a_suffix_to_a_bare_file_name() -> None:
    candidates = {
        "right": f"{LIBRARY}Lycoris.Recoil.S01E01.mkv",
        "same name elsewhere": "/other/Lycoris.Recoil.S01E01.mkv",
    }
    assert match_path("/Lycoris Recoil/Season 1/Lycoris.Recoil.S01E01.mkv", candidates) == ["right"]
    assert match_path("/renamed by shoko/Lycoris.Recoil.S01E01.mkv", candidates) == [
        "right",
        "same name elsewhere",
    ]
    assert match_path("/unknown.mkv", candidates) == []


segment = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N"), whitelist_characters=" ._-[]()"),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip(" ") == s and s not in (".", ".."))


@given(
    root=st.lists(segment, min_size=1, max_size=4), tail=st.lists(segment, min_size=1, max_size=3)
)
def test_any_trailing_part_of_a_path_matches_it_with_either_separator(
    root: list[str], tail: list[str]
) -> None:
    full = "/" + "/".join([*root, *tail])
    assert path_suffix_matches("/" + "/".join(tail), full)
    assert path_suffix_matches("\\" + "\\".join(tail), full)
    assert same_file_name("/x/" + tail[-1], full)


@given(root=st.lists(segment, min_size=1, max_size=4), name=segment, other=segment)
def test_a_different_file_name_never_matches(root: list[str], name: str, other: str) -> None:
    if name == other:
        return
    full = "/" + "/".join([*root, name])
    assert not path_suffix_matches("/" + other, full)
    assert not same_file_name("/" + other, full)


@given(title=segment, subtitle=segment)
def test_a_movie_title_matches_its_series_and_itself(title: str, subtitle: str) -> None:
    full = f"{title}: {subtitle}"
    assert titles_match(full, (full,))
    assert titles_match(full, (title,))
    assert subtitle_of(full) == subtitle


@attrs.frozen
class Item:
    id: str
    season: int | None
    episode: int | None
    episode_end: int | None = None
    path: str | None = None
    is_on_disk: bool = True
    provider_ids: dict = attrs.field(factory=dict)


@attrs.frozen
class Wanted:
    final_path: str | None = None
    shoko_file_id: int | None = None


def test_episodes_match_by_number_including_multi_episode_files() -> None:
    items = [Item("a", 1, 1), Item("b", 1, 2, episode_end=3), Item("v", 1, 4, is_on_disk=False)]
    wanted = {(1, n): Wanted() for n in range(1, 5)}
    assert match_episodes(wanted, items) == {(1, 1): "a", (1, 2): "b", (1, 3): "b"}


def test_episodes_match_by_shoko_file_or_file_when_numbers_differ() -> None:
    items = [
        Item("by-shoko", 1, 40, provider_ids={"shoko file": "51208"}),
        Item("by-name", 1, 41, path="/vfs/x/Show.S02E02.mkv"),
    ]
    wanted = {
        (2, 1): Wanted(shoko_file_id=51208),
        (2, 2): Wanted(final_path="/data/Show/Season 2/Show.S02E02.mkv"),
    }
    assert match_episodes(wanted, items) == {(2, 1): "by-shoko", (2, 2): "by-name"}


def test_continued_numbering_is_matched_by_position_only_past_ours() -> None:
    wanted = {(2, n): Wanted() for n in range(1, 4)}
    continued = [Item(f"abs{n}", 1, n) for n in (13, 14, 15)]
    assert match_episodes(wanted, continued) == {(2, 1): "abs13", (2, 2): "abs14", (2, 3): "abs15"}
    season_one = [Item(f"s1e{n}", 1, n) for n in (1, 2, 3)]
    assert match_episodes(wanted, season_one) == {}, "season 1 must never stand in for season 2"
