"""Shoko's facts the matcher consumes (file events, metadata updates); the listener makes them."""

from __future__ import annotations

import typing

import attrs

FileEventKind = typing.Literal[
    "detected", "hashed", "matched", "not_matched", "deleted", "renamed", "moved"
]


@typing.final
@attrs.frozen(kw_only=True)
class CrossReference:
    """One episode a file is linked to; the Shoko ids are None until Shoko has the metadata."""

    episode_id: int | None
    anidb_episode_id: int
    series_id: int | None
    anidb_anime_id: int


@typing.final
@attrs.frozen(kw_only=True)
class ShokoFileEvent:
    """Something happened to a video file in one of Shoko's import folders.

    Attributes:
        kind: which ``ShokoEvent:File*`` event this was.
        file_id: Shoko's video id (``FileID``); None for ``detected``, which precedes hashing.
        relative_path: path inside the import folder, with the server's separator and a
            leading one (``/Show/Season 01/file.mkv``).
        import_folder_id: the import folder the path is relative to.
        cross_references: the episodes the file is linked to (empty until it is matched).
        previous_relative_path: where the file was before, for ``renamed`` and ``moved``.
    """

    kind: FileEventKind
    file_id: int | None
    relative_path: str
    import_folder_id: int | None
    cross_references: tuple[CrossReference, ...] = ()
    previous_relative_path: str | None = None

    @property
    def has_cross_references(self) -> bool:
        """Shoko has linked the file to at least one episode."""
        return bool(self.cross_references)


@typing.final
@attrs.frozen(kw_only=True)
class EpisodeUpdate:
    """One provider episode inside a series update.

    Attributes:
        reason: the ``UpdateReason`` flags, e.g. ``{"Added", "ImageAdded"}``; "None" is empty.
        episode_id: the provider's episode id.
        shoko_episode_ids: Shoko's episodes linked to it.
    """

    reason: frozenset[str]
    episode_id: int
    shoko_episode_ids: tuple[int, ...]


@typing.final
@attrs.frozen(kw_only=True)
class ShokoSeriesUpdated:
    """A metadata provider's series changed; ``series_id`` is the provider's id."""

    source: str
    reason: frozenset[str]
    series_id: int
    shoko_series_ids: tuple[int, ...]
    episodes: tuple[EpisodeUpdate, ...]


@typing.final
@attrs.frozen(kw_only=True)
class ShokoEpisodeUpdated:
    """A metadata provider's episode changed; ``episode_id`` and ``series_id`` are its ids."""

    source: str
    reason: frozenset[str]
    episode_id: int
    series_id: int
    shoko_episode_ids: tuple[int, ...]
    shoko_series_ids: tuple[int, ...]


@typing.final
@attrs.frozen(kw_only=True)
class ShokoMovieUpdated:
    """A metadata provider's movie changed; ``movie_id`` is the provider's id."""

    source: str
    reason: frozenset[str]
    movie_id: int
    shoko_episode_ids: tuple[int, ...]
    shoko_series_ids: tuple[int, ...]


ShokoFact: typing.TypeAlias = (
    ShokoFileEvent | ShokoSeriesUpdated | ShokoEpisodeUpdated | ShokoMovieUpdated
)
