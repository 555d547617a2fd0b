"""Release parsing for the TorrentActor: what a grabbed release holds, and which torrent file
carries which episode. Pure functions: no I/O, no Trio.

Numbering rules, applied to the file name (the folders only give a season hint, a sample or an
extras flag):

* ``S01E01``, ``s1e1``, ``1x01`` and the multi-episode forms ``S01E01-E02``, ``S01E01E02``,
  ``S01E01-02``, ``1x01-02`` name the season and the episodes; ``S00E01``, ``SP01`` and
  ``OVA``/``OAD`` name a special (season 0).
* ``E01``, ``Ep01``, ``Episode 01`` and a leading ``01 - Title`` name an episode of the season
  the context gives: a season in the file name (``S2``, ``Season 2``, ``2nd Season``), else the
  nearest folder naming one season, else the only (regular) season of the grab.
* The anime ``Title - 01`` (``01v2``, ranges ``01-13``, ``01 ~ 13``) is ambiguous: it may count
  within the season or from the first episode of the show (absolute). The numbers of one torrent
  are read within the season when every one of them names a grabbed episode of its context
  season. Otherwise they are all read as absolute and mapped by position: when the grab's
  regular episodes, sorted, are contiguous (each the next episode of its season, or episode 1 of
  the next season), absolute ``n`` maps to the ``(n - first)``-th of them, ``first`` being the
  lowest absolute number among the torrent's files. So ``Title - 13`` in a grab of S02E01 maps
  to S02E01.
* Tokens holding digits that are not episode numbers are dropped first: resolutions (``1080p``,
  ``1920x1080``, ``4K``), codecs (``x264``, ``H.265``, ``AV1``), bit depths (``10bit``), audio
  (``AAC2.0``, ``DDP5.1``, ``5.1``), years 1900-2099 and bracketed CRC32s (``[8D1A2F4C]``).

Only episodes the grab lists are ever returned.

Parsing takes time linear in the length of the name, whatever the name: no pattern backtracks
over a run of separators, an unclosed bracket is not searched again for every bracket after it,
and episode ranges (``E01-E03``) are merged before they are expanded. A hostile release title or
torrent file name of megabytes cannot stall the service.
"""

from __future__ import annotations

import enum
import itertools
import re
import typing
from collections.abc import Iterable, Mapping, Sequence

import attrs

__all__ = [
    "Episode",
    "ParsedName",
    "ReleaseType",
    "classify_release",
    "episode_progress",
    "map_files_to_episodes",
    "parse_episode_tokens",
]

Episode = tuple[int, int]
"""``(season, episode)`` as Sonarr numbers them; season 0 holds the specials."""

_VIDEO_EXTENSIONS = frozenset({"mkv", "mp4", "avi", "m4v", "ts", "webm", "wmv", "mov"})
_OTHER_EXTENSIONS = frozenset(
    {"srt", "ass", "ssa", "sub", "idx", "sup", "vtt", "nfo", "txt", "jpg", "jpeg", "png", "sfv"}
    | {"md5", "mka", "flac", "mp3", "rar", "zip", "7z", "par2", "exe", "url", "torrent", "nzb"}
)

_CHECKSUM = re.compile(r"[\[(][0-9a-f]{8}[\])]")
_TECHNICAL_TOKEN = re.compile(
    r"(?<![a-z0-9])(?:"
    # resolutions
    r"\d{3,4}[pi]|\d{3,4}x\d{3,4}|[248]k"
    # video codecs, bit depths
    r"|[xh][\s.]?26[456]|av1|vp9|hdr10\+?|(?:hi)?\d{1,2}[\s.-]?bits?|hi10p?"
    # audio codecs with their channel layout, or a channel layout alone
    r"|(?:e-?ac-?3|ac-?3|dd\+?p?|aac|opus|flac|truehd|dts(?:-?hd)?(?:[\s.-]?ma)?|atmos|mp3|l?pcm)"
    r"(?:[\s.-]?[1-9]\.[01])?"
    r"|[1-9]\.[01](?:ch)?"
    # years
    r"|(?:19|20)\d{2}"
    r")(?![a-z0-9])"
)

# Possessive runs (``*+``): with plain ``*`` the two runs around the optional dash try every
# split of a long separator run before the repetition ends, which is quadratic in its length.
# What follows a run is never a separator, so not backtracking into it changes no match.
_EPISODE_CONTINUATION = r"(?:[\s._]*+-?[\s._]*+(?:s\d{1,3})?e\d{1,4}|-\d{1,4}(?![0-9a-z]))*"
_SEASON_EPISODE = re.compile(
    rf"(?<![a-z0-9])s(\d{{1,3}})[\s._-]*e(\d{{1,4}})(?:v\d{{1,2}})?({_EPISODE_CONTINUATION})"
)
_SEASON_CROSS_EPISODE = re.compile(
    r"(?<![a-z0-9])(\d{1,2})x(\d{2,3})(?![0-9])((?:-(?:\d{1,2}x)?\d{2,3}(?![0-9])|x\d{2,3})*)"
)
_EPISODE_ONLY = re.compile(
    rf"(?<![a-z0-9])(?:e|ep[\s._]*|episode[\s._]*)(\d{{1,4}})(?:v\d{{1,2}})?(?![0-9])"
    rf"({_EPISODE_CONTINUATION})"
)
_EPISODE_PIECE = re.compile(r"[\s._]*+(-)?[\s._]*+(?:s\d{1,3}e|\d{1,2}x|e|x)?(\d{1,4})")
_SEASON_TOKEN = re.compile(
    r"(?<![a-z0-9])(s|seasons?[\s._]*)(\d{1,2})"
    r"(?:([\s._]*)(-|~|&|\+|,|and)([\s._]*)(s|season[\s._]*)?(\d{1,2}))?(?![0-9a-z])"
)
_ORDINAL_SEASON = re.compile(r"(?<![a-z0-9])(\d{1,2})(?:st|nd|rd|th)[\s._]*season(?![a-z])")
_SPECIAL = re.compile(
    r"(?<![a-z0-9])(?:sp[\s._]*(\d{1,3})|(?:ova|oad)(?:[\s._-]*(\d{1,3}))?)(?![0-9a-z])"
)
_ANIME_NUMBER = re.compile(
    r"(?:^|[\s_])-[\s_]+(\d{1,4})(?:v\d{1,2})?"
    r"(?:(?:-|[\s_]*~[\s_]*)(\d{1,4})(?:v\d{1,2})?)?"
    r"(?=$|[\s_\[\](){}-]|\.(?!\d))"
)
_NUMBER_RANGE = re.compile(r"(?<![a-z0-9.-])(\d{1,4})(?:-|[\s_]*~[\s_]*)(\d{1,4})(?![a-z0-9.]|-\d)")
_LEADING_NUMBER = re.compile(r"(\d{1,3})(?:v\d{1,2})?(?=$|[\s._-])")
_SPECIALS_FOLDER = re.compile(r"specials?")

_SAMPLE = re.compile(r"(?<![a-z])samples?(?![a-z])")
_EXTRA_IN_NAME = re.compile(
    r"(?<![a-z])(?:ncop|nced|nc[\s._-](?:op|ed)|creditless|clean[\s._-](?:opening|ending)|menu"
    r"|trailer|teaser|featurette|deleted[\s._-]scenes?|behind[\s._-]the[\s._-]scenes)(?![a-z])"
)
_EXTRA_FOLDER = re.compile(
    r"\W*(?:extras?|bonus|featurettes?|trailers?|menus?|ncop|nced|nc[\s._-]?(?:op|ed)|creditless"
    r"|deleted[\s._-]scenes|behind[\s._-]the[\s._-]scenes|interviews?)(?![a-z])"
)
_OPENING_BRACKET = re.compile(r"[\[(]")
_CLOSING_BRACKET = {"[": "]", "(": ")"}
_BATCH = re.compile(r"(?<![a-z])batch(?![a-z])")
_COMPLETE = re.compile(r"(?<![a-z])complete(?![a-z])")


@typing.final
class ReleaseType(enum.Enum):
    """What a grabbed release holds."""

    SINGLE_EPISODE = "single_episode"
    """One episode."""
    MULTI_EPISODE = "multi_episode"
    """Several episodes in one file (``S01E01-E02``)."""
    SEASON_PACK = "season_pack"
    """Several episodes of one season, a file each."""
    MULTI_SEASON_PACK = "multi_season_pack"
    """Episodes of several seasons."""
    BATCH = "batch"
    """An anime-style batch: ``Batch``, ``Complete`` (naming no season) or an absolute range."""


@typing.final
@attrs.frozen(kw_only=True)
class ParsedName:
    """The numbers and flags read from one file path or release title.

    Attributes:
        seasons: seasons the name gives (``S01``, ``Season 1``, ``S01-S03``; ``(0,)`` for a
            special), sorted; the season of ``episodes`` when there is exactly one.
        episodes: episode numbers within the season (``S01E05``, ``E05``, ``SP01``), sorted.
        absolute: anime numbers (``Title - 13``, ``01-13``) that may be absolute, sorted.
        is_special: the name is a special (season 0, ``SPxx``, ``OVA``, ``OAD``).
        is_sample: ``sample`` appears in the file name or one of its folders.
        is_extra: the file is an extra (NCOP, NCED, creditless, menu, trailer, featurette) or
            sits in an extras folder.
        is_video: the extension is a video one (mkv, mp4, avi, m4v, ts, webm, wmv, mov).
        is_batch: the name says ``Batch``, or ``Complete`` without naming a season.
    """

    seasons: tuple[int, ...] = ()
    episodes: tuple[int, ...] = ()
    absolute: tuple[int, ...] = ()
    is_special: bool = False
    is_sample: bool = False
    is_extra: bool = False
    is_video: bool = False
    is_batch: bool = False

    @property
    def holds_content(self) -> bool:
        """Whether the file is a video that may hold an episode (no sample, no extra)."""
        return self.is_video and not self.is_sample and not self.is_extra


def parse_episode_tokens(name: str) -> ParsedName:
    """Read season, episode and absolute numbers and the sample/extra flags from a name.

    Args:
        name: a path inside a torrent (``/``-separated, folders included) or a release title.

    Returns:
        What the last path component says about episodes; the folders only set ``is_sample``
        and ``is_extra``.
    """
    *folders, base = name.lower().split("/")
    stem, extension = _split_extension(base)
    cleaned = _clean(stem)
    numbers = _read_numbers(cleaned)
    leading = _LEADING_NUMBER.match(cleaned.strip())
    if leading and not (numbers.seasons or numbers.episodes or numbers.absolute):
        numbers = ParsedName(episodes=(int(leading[1]),))
    return attrs.evolve(
        numbers,
        is_sample=any(_SAMPLE.search(part) for part in (*folders, stem)),
        is_extra=bool(_EXTRA_IN_NAME.search(stem))
        or any(_EXTRA_FOLDER.match(_blank_bracketed(folder)) for folder in folders),
        is_video=extension in _VIDEO_EXTENSIONS,
        is_batch=bool(_BATCH.search(stem))
        or (bool(_COMPLETE.search(stem)) and not numbers.seasons),
    )


def map_files_to_episodes(
    file_names: Sequence[str], episodes: Sequence[Episode]
) -> dict[int, tuple[Episode, ...]]:
    """Map each torrent file to the grabbed episodes it holds.

    Samples, extras and non-video files map to nothing. Several files may map to one episode
    (a ``v2`` beside the original): all are kept and the caller decides.

    Args:
        file_names: the torrent's file paths in qBittorrent's order (``/``-separated, with the
            root folder).
        episodes: the episodes the grab named.

    Returns:
        File index (position in ``file_names``) to its episodes, sorted; files holding no
        grabbed episode are left out.
    """
    grabbed = frozenset(episodes)
    grab_season = _only_regular_season(grabbed)
    mapping: dict[int, tuple[Episode, ...]] = {}
    anime_numbered: dict[int, tuple[int | None, tuple[int, ...]]] = {}
    for index, file_name in enumerate(file_names):
        parsed = parse_episode_tokens(file_name)
        if not parsed.holds_content:
            continue
        season = _season_context(parsed, file_name, grab_season)
        if parsed.episodes:
            found = tuple((season, number) for number in parsed.episodes)
        elif parsed.absolute:
            anime_numbered[index] = (season, parsed.absolute)
            continue
        elif parsed.is_special:
            specials = [episode for episode in grabbed if episode[0] == 0]
            found = tuple(specials) if len(specials) == 1 else ()
        else:
            found = ()
        found = tuple(sorted(episode for episode in found if episode in grabbed))
        if found:
            mapping[index] = found
    mapping.update(_map_anime_numbers(anime_numbered, grabbed))
    return dict(sorted(mapping.items()))


def classify_release(
    title: str, episodes: Sequence[Episode], file_names: Sequence[str] = ()
) -> ReleaseType:
    """Tell what kind of release a grab is.

    The first rule that applies wins: one grabbed episode, or no grabbed episodes and a title
    naming one season and one episode (``Show S3 - 06``), is ``SINGLE_EPISODE``; episodes of
    several regular seasons (or a title naming several) are ``MULTI_SEASON_PACK``; several
    episodes in the torrent's only video file are ``MULTI_EPISODE``; a title saying ``Batch``,
    ``Complete`` (naming no season) or an absolute range is ``BATCH``; several video files are
    ``SEASON_PACK``; a title naming several episodes is ``MULTI_EPISODE``; several grabbed
    episodes, or a title naming a season only, are ``SEASON_PACK``; anything else is
    ``SINGLE_EPISODE``.

    Args:
        title: the release title (Sonarr's ``releaseTitle``).
        episodes: the episodes the grab named (may be empty when unknown).
        file_names: the torrent's file paths, when known.

    Returns:
        The release type.
    """
    grabbed = frozenset(episodes)
    named = parse_episode_tokens(title)
    if len(grabbed) == 1:
        return ReleaseType.SINGLE_EPISODE
    if not grabbed and len(named.seasons) == 1 and len(named.episodes or named.absolute) == 1:
        return ReleaseType.SINGLE_EPISODE  # "Show S3 - 06": one season, one episode
    if len({season for season, _ in grabbed if season > 0}) > 1 or len(named.seasons) > 1:
        return ReleaseType.MULTI_SEASON_PACK
    content_files = sum(1 for name in file_names if parse_episode_tokens(name).holds_content)
    episode_count = len(grabbed) or len(named.episodes) or len(named.absolute)
    if content_files == 1 and episode_count > 1:
        return ReleaseType.MULTI_EPISODE
    if named.is_batch or len(named.absolute) > 1:
        return ReleaseType.BATCH
    if content_files > 1:
        return ReleaseType.SEASON_PACK
    if len(named.episodes) > 1:
        return ReleaseType.MULTI_EPISODE
    if len(grabbed) > 1 or (named.seasons and not named.episodes and not named.absolute):
        return ReleaseType.SEASON_PACK
    return ReleaseType.SINGLE_EPISODE


def episode_progress(
    files: Iterable[tuple[int, int, float]], mapping: Mapping[int, Sequence[Episode]]
) -> dict[Episode, float]:
    """Per-episode download progress from the progress of the files holding it.

    A file holding several episodes counts fully for each. When all of an episode's files have
    size 0 (metadata not known yet) their progress is averaged instead of weighted by size.

    Args:
        files: ``(index, size in bytes, progress 0..1)`` per torrent file, as qBittorrent reports.
        mapping: file index to episodes, as ``map_files_to_episodes`` returns.

    Returns:
        Progress 0-100 for each episode that has at least one file in ``files``.
    """
    weighted_done: dict[Episode, float] = {}
    total_size: dict[Episode, int] = {}
    plain_progress: dict[Episode, list[float]] = {}
    for index, size, progress in files:
        done = min(max(progress, 0.0), 1.0)
        for episode in mapping.get(index, ()):
            weighted_done[episode] = weighted_done.get(episode, 0.0) + size * done
            total_size[episode] = total_size.get(episode, 0) + size
            plain_progress.setdefault(episode, []).append(done)
    return {
        episode: 100.0
        * (
            weighted_done[episode] / total_size[episode]
            if total_size[episode] > 0
            else sum(plain_progress[episode]) / len(plain_progress[episode])
        )
        for episode in sorted(total_size)
    }


def _split_extension(base: str) -> tuple[str, str]:
    stem, dot, extension = base.rpartition(".")
    if dot and extension in _VIDEO_EXTENSIONS | _OTHER_EXTENSIONS:
        return stem, extension
    return base, ""


def _clean(text: str) -> str:
    return _TECHNICAL_TOKEN.sub(" ", _CHECKSUM.sub(" ", text))


def _read_numbers(text: str) -> ParsedName:
    explicit = _SEASON_EPISODE.search(text) or _SEASON_CROSS_EPISODE.search(text)
    if explicit:
        season = int(explicit[1])
        episodes = _episode_numbers(int(explicit[2]), explicit[3])
        return ParsedName(seasons=(season,), episodes=episodes, is_special=season == 0)
    episode_only = _EPISODE_ONLY.search(text)
    episodes = _episode_numbers(int(episode_only[1]), episode_only[2]) if episode_only else ()
    special = _SPECIAL.search(text)
    if special:
        anime = _ANIME_NUMBER.search(text)
        if special[1] or special[2]:
            episodes = (int(special[1] or special[2]),)
        elif not episodes and anime:
            episodes = _number_range(anime)
        return ParsedName(seasons=(0,), episodes=episodes, is_special=True)
    seasons = _named_seasons(text)
    if episodes:
        return ParsedName(seasons=seasons, episodes=episodes)
    numbered = _ANIME_NUMBER.search(text) or _NUMBER_RANGE.search(text)
    return ParsedName(seasons=seasons, absolute=_number_range(numbered) if numbered else ())


def _episode_numbers(first: int, continuation: str) -> tuple[int, ...]:
    # Spans, expanded once at the end: expanding each range as it is read would let a name
    # repeating "-E1-E9999" cost ten thousand numbers per nine characters.
    spans = [(first, first)]
    last = first
    for dash, number in _EPISODE_PIECE.findall(continuation):
        value = int(number)
        spans.append((last + 1, value) if dash and value > last else (value, value))
        last = value
    numbers: list[int] = []
    for low, high in sorted(spans):
        start = max(low, numbers[-1] + 1) if numbers else low
        numbers.extend(range(start, high + 1))
    return tuple(numbers)


def _number_range(match: re.Match[str]) -> tuple[int, ...]:
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    return tuple(range(first, last + 1)) if last > first else (first,)


def _blank_bracketed(text: str) -> str:
    r"""Replace each ``[...]`` and ``(...)`` with a space, left to right; unclosed ones stay.

    The same as ``re.sub(r"\[[^\]]*\]|\([^)]*\)", " ", text)``, which searches the rest of the
    text again from every unclosed bracket (quadratic); here the next closing bracket of each
    kind is remembered, so each part of the text is searched once per kind.
    """
    pieces: list[str] = []
    kept_from = 0
    next_closing: dict[str, int] = {}
    for opening in _OPENING_BRACKET.finditer(text):
        start = opening.start()
        if start < kept_from:
            continue  # inside a bracket already blanked
        bracket = opening[0]
        closing = next_closing.get(bracket)
        if closing is None or 0 <= closing < start:
            closing = text.find(_CLOSING_BRACKET[bracket], start + 1)
            next_closing[bracket] = closing
        if closing < 0:
            continue
        pieces += (text[kept_from:start], " ")
        kept_from = closing + 1
    pieces.append(text[kept_from:])
    return "".join(pieces)


def _named_seasons(text: str) -> tuple[int, ...]:
    seasons: set[int] = set()
    for keyword, first, gap, connector, gap_after, prefix, last in _SEASON_TOKEN.findall(text):
        seasons.add(int(first))
        if not last:
            continue
        if connector in ("-", "~"):
            # "S3 - 06" is season 3, episode 6 (the anime "Title S3 - 06"); a range needs no
            # gap ("S1-3"), or names the season again ("S01 - S03"), or says "Seasons".
            spaced = bool(gap or gap_after)
            if spaced and not prefix and not keyword.startswith("seasons"):
                continue
            seasons.update(range(int(first), int(last) + 1))
        else:
            seasons.add(int(last))
    seasons.update(int(number) for number in _ORDINAL_SEASON.findall(text))
    return tuple(sorted(seasons))


def _only_regular_season(grabbed: frozenset[Episode]) -> int | None:
    seasons = {season for season, _ in grabbed if season > 0} or {season for season, _ in grabbed}
    return next(iter(seasons)) if len(seasons) == 1 else None


def _season_context(parsed: ParsedName, file_name: str, grab_season: int | None) -> int | None:
    if len(parsed.seasons) == 1:
        return parsed.seasons[0]
    for folder in reversed(file_name.lower().split("/")[:-1]):
        if _SPECIALS_FOLDER.fullmatch(folder.strip()):
            return 0
        seasons = _read_numbers(_clean(folder)).seasons
        if len(seasons) == 1:
            return seasons[0]
    return grab_season


def _map_anime_numbers(
    anime_numbered: Mapping[int, tuple[int | None, tuple[int, ...]]], grabbed: frozenset[Episode]
) -> dict[int, tuple[Episode, ...]]:
    if not anime_numbered:
        return {}
    within_season: dict[int, tuple[Episode, ...]] = {}
    for index, (season, numbers) in anime_numbered.items():
        found = tuple((season, number) for number in numbers if season is not None)
        if not found or any(episode not in grabbed for episode in found):
            break
        within_season[index] = found
    else:
        return within_season
    in_absolute_order = sorted(episode for episode in grabbed if episode[0] > 0)
    if not _is_contiguous(in_absolute_order):
        return {}
    first = min(numbers[0] for _, numbers in anime_numbered.values())
    mapping: dict[int, tuple[Episode, ...]] = {}
    for index, (_, numbers) in anime_numbered.items():
        found = tuple(
            in_absolute_order[number - first]
            for number in numbers
            if number - first < len(in_absolute_order)
        )
        if found:
            mapping[index] = found
    return mapping


def _is_contiguous(in_order: Sequence[Episode]) -> bool:
    return bool(in_order) and all(
        (later == (earlier[0], earlier[1] + 1)) or (later == (earlier[0] + 1, 1))
        for earlier, later in itertools.pairwise(in_order)
    )
