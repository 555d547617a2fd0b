"""Properties of release parsing over generated show names, numbers and naming formats."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st
from status_tracker.actors.torrent.release import (
    Episode,
    ReleaseType,
    classify_release,
    map_files_to_episodes,
)

# Words the parser reads as markers; a show name made of them is episode-like by definition.
MARKER_WORDS = frozenset(
    {"episode", "season", "seasons", "specials", "special", "ova", "oad", "sample", "samples"}
    | {"extra", "extras", "bonus", "menu", "menus", "trailer", "trailers", "teaser", "ncop"}
    | {"nced", "creditless", "featurette", "featurettes", "interview", "interviews", "clean"}
    | {"deleted", "behind", "batch", "complete"}
)
TECHNICAL_TOKENS = (
    "1080p",
    "720p",
    "2160p",
    "480i",
    "4K",
    "1920x1080",
    "x264",
    "x265",
    "H.264",
    "H.265",
    "h264",
    "HEVC",
    "AV1",
    "10bit",
    "8-bit",
    "Hi10P",
    "AAC2.0",
    "DDP5.1",
    "DD+5.1",
    "EAC3",
    "TrueHD.7.1",
    "FLAC",
    "Opus",
    "5.1",
    "2.0",
    "HDR10",
    "WEB-DL",
    "BluRay",
)

letter_words = st.text(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=9
)
show_words = st.one_of(
    letter_words.filter(lambda word: word.lower() not in MARKER_WORDS),
    st.integers(1, 9999).map(str),
)
show_names = st.builds(
    lambda words, separator: separator.join(words),
    st.lists(show_words, min_size=1, max_size=5),
    st.sampled_from([" ", "."]),
)
seasons = st.integers(0, 30)
episode_numbers = st.integers(1, 999)
groups = st.sampled_from(["SubsPlease", "Judas", "Erai-raws", "FLE", "ASW"])
checksums = st.text("0123456789ABCDEF", min_size=8, max_size=8).map(lambda crc: f"[{crc}]")
years = st.integers(1900, 2099).map(str)
noise = st.lists(st.one_of(st.sampled_from(TECHNICAL_TOKENS), checksums, years), max_size=4)

Format = Callable[[str, int, int], str]
FORMATS: dict[str, Format] = {
    "SxxEyy": lambda name, season, episode: f"{name}.S{season:02d}E{episode:02d}",
    "sxey": lambda name, season, episode: f"{name} s{season}e{episode}",
    "NxNN": lambda name, season, episode: f"{name} {season}x{episode:02d}",
}


def anime_format(name: str, _season: int, episode: int) -> str:
    return f"{name} - {episode:02d}"


SEASON_NAMING_FORMATS = st.sampled_from(sorted(FORMATS.items()))
ALL_FORMATS = st.sampled_from([*sorted(FORMATS.items()), ("anime", anime_format)])


def file_name(
    name: str, season: int, episode: int, naming: tuple[str, Format], tokens: list[str]
) -> str:
    label, format_episode = naming
    stem = format_episode(name, season, episode)
    if label == "anime":
        return f"[SubsPlease] {stem} {' '.join(f'({token})' for token in tokens)}.mkv"
    return f"{stem}.{'.'.join(tokens)}.mkv" if tokens else f"{stem}.mkv"


@st.composite
def grabs_holding(draw: st.DrawFn, target: Episode, *, same_season: bool) -> list[Episode]:
    """A grab list holding ``target`` among other episodes, shuffled."""
    other_seasons = st.just(target[0]) if same_season else seasons
    others = draw(st.lists(st.tuples(other_seasons, episode_numbers), max_size=6))
    return draw(st.permutations([target, *others]))


@settings(deadline=None)
@given(st.data(), show_names, seasons, episode_numbers, ALL_FORMATS, noise)
def test_formatted_episode_maps_back_to_itself(
    data: st.DataObject,
    name: str,
    season: int,
    episode: int,
    naming: tuple[str, Format],
    tokens: list[str],
) -> None:
    grab = data.draw(grabs_holding((season, episode), same_season=naming[0] == "anime"))

    mapping = map_files_to_episodes([file_name(name, season, episode, naming, tokens)], grab)

    assert mapping == {0: ((season, episode),)}


@settings(deadline=None)
@given(show_names, seasons, episode_numbers, ALL_FORMATS, noise, years)
def test_technical_tokens_never_change_the_mapping(
    name: str,
    season: int,
    episode: int,
    naming: tuple[str, Format],
    tokens: list[str],
    year: str,
) -> None:
    grab = [(season, number) for number in range(max(1, episode - 2), episode + 3)]
    plain = file_name(name, season, episode, naming, [])
    decorated = [
        file_name(name, season, episode, naming, tokens),
        file_name(f"{name} {year}", season, episode, naming, tokens),
        file_name(f"[{year}] {name}", season, episode, naming, tokens),
    ]

    expected = map_files_to_episodes([plain], grab)
    for decorated_name in decorated:
        assert map_files_to_episodes([decorated_name], grab) == expected


@settings(deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(file_name, show_names, seasons, episode_numbers, ALL_FORMATS, noise),
            st.text(max_size=60),
        ),
        max_size=8,
    ),
    st.lists(st.tuples(seasons, episode_numbers), max_size=8),
)
def test_mapping_never_names_an_episode_outside_the_grab(
    names: list[str], grab: list[Episode]
) -> None:
    mapping = map_files_to_episodes(names, grab)

    assert set(mapping) <= set(range(len(names)))
    assert all(episodes and set(episodes) <= set(grab) for episodes in mapping.values())


@settings(deadline=None)
@given(
    show_names,
    seasons,
    episode_numbers,
    ALL_FORMATS,
    noise,
    st.sampled_from(
        [
            "Sample/{}",
            "{root}/Sample/{}",
            "{root}/{}.sample",
            "{root}/{}-sample",
            "{root}/Extras/{}",
            "{root}/Featurettes/{}",
            "{root}/Bonus/{}",
            "{root}/Trailers/{}",
            "{root}/Menus/{}",
            "{root}/{} NCOP1",
            "{root}/{} NCED",
            "{root}/{} Creditless Ending",
            "{root}/{}.Trailer",
        ]
    ),
)
def test_samples_and_extras_never_map(
    name: str,
    season: int,
    episode: int,
    naming: tuple[str, Format],
    tokens: list[str],
    layout: str,
) -> None:
    stem = file_name(name, season, episode, naming, tokens).removesuffix(".mkv")
    path = layout.format(stem, root=f"{name}.S{season:02d}.1080p") + ".mkv"

    assert map_files_to_episodes([path], [(season, episode)]) == {}


@settings(deadline=None)
@given(
    st.data(),
    show_names,
    seasons,
    st.sets(episode_numbers, min_size=1, max_size=15),
    SEASON_NAMING_FORMATS,
)
def test_season_pack_maps_every_episode_file_and_nothing_else(
    data: st.DataObject,
    name: str,
    season: int,
    numbers: set[int],
    naming: tuple[str, Format],
) -> None:
    root = f"{name}.S{season:02d}.1080p.WEB-DL"
    episodes = {file_name(name, season, number, naming, []): number for number in numbers}
    clutter = [f"{root}/{name}.nfo", f"{root}/Sample/sample.mkv", f"{root}/Extras/NCOP.mkv"]
    names = data.draw(st.permutations([*episodes, *clutter]))

    mapping = map_files_to_episodes(
        [f"{root}/{path}" for path in names], [(season, number) for number in numbers]
    )

    assert mapping == {
        index: ((season, episodes[path]),) for index, path in enumerate(names) if path in episodes
    }


@settings(deadline=None)
@given(
    show_names,
    st.integers(1, 30),
    st.integers(1, 40),
    st.integers(1, 200),
)
def test_absolute_batch_maps_by_position(name: str, season: int, count: int, offset: int) -> None:
    grab = [(season, number) for number in range(1, count + 1)]
    first_absolute = count + offset
    names = [f"[Judas] {name} - {first_absolute + index:02d}.mkv" for index in range(count)]

    mapping = map_files_to_episodes(names, grab)

    assert mapping == {index: (episode,) for index, episode in enumerate(grab)}


@settings(deadline=None)
@given(
    show_names,
    seasons,
    st.sets(episode_numbers, min_size=1, max_size=15),
    SEASON_NAMING_FORMATS,
)
def test_one_season_is_a_season_pack_and_one_episode_a_single_episode(
    name: str, season: int, numbers: set[int], naming: tuple[str, Format]
) -> None:
    title = f"{name}.S{season:02d}.1080p.WEB-DL.x264-GROUP"
    names = [f"{title}/{file_name(name, season, number, naming, [])}" for number in numbers]
    grab = [(season, number) for number in numbers]

    expected = ReleaseType.SEASON_PACK if len(numbers) > 1 else ReleaseType.SINGLE_EPISODE
    assert classify_release(title, grab, names) is expected


@settings(deadline=None)
@given(
    show_names,
    st.dictionaries(
        st.integers(1, 30), st.sets(episode_numbers, min_size=1, max_size=5), min_size=2
    ),
    SEASON_NAMING_FORMATS,
)
def test_several_seasons_are_a_multi_season_pack(
    name: str, numbers_by_season: dict[int, set[int]], naming: tuple[str, Format]
) -> None:
    title = f"{name}.1080p.BluRay.x264-GROUP"
    grab = [(season, number) for season, numbers in numbers_by_season.items() for number in numbers]
    names = [f"{title}/{file_name(name, *episode, naming, [])}" for episode in grab]

    assert classify_release(title, grab, names) is ReleaseType.MULTI_SEASON_PACK
