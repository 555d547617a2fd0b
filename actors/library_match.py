"""Matching our items to library items when ids are missing: titles, file paths, numbering.

Pure functions used by the verifier (Jellyfin) and the Shoko matcher. Shokofin often files
anime under other titles, without TVDB ids, with absolute episode numbers, or a compilation
movie as a series special; these rules are the fallbacks for those cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath, PureWindowsPath
from typing import Protocol

from .dispatch.correlation import normalise_title

EpisodeKey = tuple[int, int]
# A match starts only where a run of spaces starts ((?<!\s)), and takes the run whole (*+, ++):
# tried from every space of a long run instead, these took time quadratic in its length. The
# matches are the same: the leftmost one always starts where its run of spaces does.
_SUBTITLE_SPLIT = re.compile(
    "(?<!\\s)(?:\\s*+:\\s*|\\s++-\\s+|\\s++~\\s*|\\s*+\uff5e\\s*)"  # \uff5e: full-width ~
)
_YEAR_SUFFIX = re.compile(r"(?<!\s)\s*+\(\d{4}\)\s*+$")


class NumberedItem(Protocol):
    """What episode matching reads from a library item."""

    @property
    def id(self) -> str: ...

    @property
    def season(self) -> int | None: ...

    @property
    def episode(self) -> int | None: ...

    @property
    def episode_end(self) -> int | None: ...

    @property
    def path(self) -> str | None: ...

    @property
    def is_on_disk(self) -> bool: ...


def title_variants(title: str) -> list[str]:
    """Search terms for a title, most specific first: the title, then its main part.

    ``"Violet Evergarden: Recollections"`` → ``["Violet Evergarden: Recollections",
    "Violet Evergarden"]``; a trailing ``(2021)`` is dropped.
    """
    plain = _YEAR_SUFFIX.sub("", title).strip()
    variants = [plain]
    main = _SUBTITLE_SPLIT.split(plain, maxsplit=1)[0].strip()
    if main and main != plain:
        variants.append(main)
    return variants


def subtitle_of(title: str) -> str | None:
    """The part after the main title (``Recollections``), or None when there is none."""
    parts = _SUBTITLE_SPLIT.split(_YEAR_SUFFIX.sub("", title).strip(), maxsplit=1)
    if len(parts) != 2:
        return None
    return parts[1].strip().rstrip("~\uff5e ") or None


def _parts(path: str) -> tuple[str, ...]:
    windows = "\\" in path and "/" not in path
    parsed = PureWindowsPath(path) if windows else PurePosixPath(path)
    return tuple(
        part for part in parsed.parts if part not in ("/", "\\") and not part.endswith(":\\")
    )


def path_suffix_matches(relative_path: str, full_path: str) -> bool:
    """True when ``relative_path`` (e.g. Shoko's, relative to an import folder) ends ``full_path``.

    Compared by whole path components, case-sensitively, whatever the separator.
    """
    tail = _parts(relative_path)
    whole = _parts(full_path)
    return bool(tail) and len(tail) <= len(whole) and whole[-len(tail) :] == tail


def same_file_name(a: str, b: str) -> bool:
    """True when both paths end in the same file name."""
    a_parts, b_parts = _parts(a), _parts(b)
    return bool(a_parts) and bool(b_parts) and a_parts[-1] == b_parts[-1]


def match_path(relative_path: str, candidates: Mapping[object, str]) -> list[object]:
    """The candidates (key → full path) a reported path belongs to.

    By path suffix first; only when no suffix matches, by file name alone.
    """
    by_suffix = [
        key for key, path in candidates.items() if path_suffix_matches(relative_path, path)
    ]
    if by_suffix:
        return by_suffix
    return [key for key, path in candidates.items() if same_file_name(relative_path, path)]


def titles_match(ours: str, theirs: Iterable[str | None]) -> bool:
    """True when our title, or its main part, equals any of the library's titles."""
    wanted = {normalise_title(variant) for variant in title_variants(ours)}
    return any(title and normalise_title(title) in wanted for title in theirs)


def match_episodes(
    wanted: Mapping[EpisodeKey, WantedEpisode],
    items: Sequence[NumberedItem],
    *,
    by_number: bool = True,
) -> dict[EpisodeKey, str]:
    """Library item ids for our episodes.

    Tried in turn: season and episode number (ranges included); the Shoko file id Shokofin
    puts on the item; the file's path or name; then absolute numbering — when the library
    numbers a single season straight through past ours (``13`` to ``24`` for our S02E01-E12)
    and holds exactly as many, they are matched by position. With ``by_number`` false (a
    series we are not sure is ours) only the file decides.
    """
    on_disk = [item for item in items if item.is_on_disk]
    found: dict[EpisodeKey, str] = {}
    for item in on_disk:
        if not by_number or item.season is None or item.episode is None:
            continue
        for number in range(item.episode, (item.episode_end or item.episode) + 1):
            if (item.season, number) in wanted:
                found.setdefault((item.season, number), item.id)
    for key, ours in wanted.items():
        if key not in found:
            for item in on_disk:
                if _same_file(ours, item):
                    found[key] = item.id
                    break
    missing = [key for key in sorted(wanted) if key not in found and key[0] > 0]
    if missing and by_number:
        found.update(_by_continued_numbering(wanted, on_disk, missing))
    return found


class WantedEpisode(Protocol):
    """What episode matching reads from one of our episodes."""

    @property
    def final_path(self) -> str | None: ...

    @property
    def shoko_file_id(self) -> int | None: ...


def _same_file(ours: WantedEpisode, item: NumberedItem) -> bool:
    shoko_file = getattr(item, "provider_ids", {}).get("shoko file")
    if ours.shoko_file_id is not None and shoko_file == str(ours.shoko_file_id):
        return True
    if not ours.final_path or not item.path:
        return False
    return path_suffix_matches(item.path, ours.final_path) or same_file_name(
        item.path, ours.final_path
    )


def _by_continued_numbering(
    wanted: Mapping[EpisodeKey, WantedEpisode],
    items: Sequence[NumberedItem],
    missing: Sequence[EpisodeKey],
) -> dict[EpisodeKey, str]:
    regular = sorted(
        (i for i in items if i.season and i.episode is not None), key=lambda i: i.episode or 0
    )
    ours = sorted(key for key in wanted if key[0] > 0)
    if len({i.season for i in regular}) != 1 or len(regular) != len(ours):
        return {}
    if (regular[0].episode or 0) <= max(number for _, number in ours):
        return {}
    return {key: regular[ours.index(key)].id for key in missing}
