"""Table-driven tests of webhook translation: every shared fixture, malformed bodies, edge cases.

Fixtures are read from ``tests/fixtures``; edited copies are built with
``edited(name, {dotted.path: value})`` (``tests/support/webhook_bodies.py``).
"""

from __future__ import annotations

import hashlib
import re

import pytest
from status_tracker.actors.media_request.messages import (
    EpisodeFilesDeleted,
    EpisodesGrabbed,
    EpisodesImported,
    ImportBlocked,
    LibraryItemAdded,
    MediaReportedAvailable,
    MediaRequested,
    MovieDeleted,
    MovieGrabbed,
    MovieImported,
    RequestDeclined,
    RequestFailed,
    SeriesDeleted,
    UnhandledEvent,
    WebhookTested,
)
from status_tracker.ingress.translate import PayloadError, dedupe_key, event_type_of, translate

from tests.support.fixtures import FIXTURES
from tests.support.fixtures import load_fixture as load
from tests.support.webhook_bodies import DROP, FIXTURE_NAMES, REST_RESPONSES, edited, source_of

HORIMIYA_HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
LINK_CLICK_HASH = "9e3d7c1b5a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d"
LYCORIS_HASH = "3f92992e2fbeb6ebb251304236bf5e0b600a91c3"
RECOLLECTIONS_HASH = "327cce10156316f79c005b0e953b9e8498e066eb"
HORIMIYA_POSTER = "https://artworks.thetvdb.com/banners/v4/series/384435/posters/65a1b2c3d4e60.jpg"
LINK_CLICK_POSTER = (
    "https://artworks.thetvdb.com/banners/v4/series/403179/posters/65a1b2c3d4e60.jpg"
)
TMDB_POSTERS = "https://image.tmdb.org/t/p/w600_and_h900_bestv2/"
RECOLLECTIONS_FILE = "Violet.Evergarden.Recollections.2022.1080p.NF.WEB-DL.AAC2.0.x264-GST.mkv"


def pluck(value: object, path: str) -> object:
    """Follow a dotted attribute path; ``*`` maps the rest of the path over a tuple."""
    head, _, rest = path.partition(".")
    if head == "*":
        return tuple(pluck(item, rest) if rest else item for item in value)
    value = getattr(value, head)
    return pluck(value, rest) if rest else value


def season_pairs(season: int, episodes: range) -> tuple[tuple[tuple[int, int], ...], ...]:
    """The expected ``files.*.episodes`` of a pack with one file per episode."""
    return tuple(((season, episode),) for episode in episodes)


# fixture, expected fact type, expected values by attribute path
FIXTURE_CASES: list[tuple[str, type, dict[str, object]]] = [
    (
        "jellyseerr/media_pending_tv.json",
        MediaRequested,
        {
            "media_type": "tv",
            "approved": False,
            "title": "Horimiya",
            "year": 2021,
            "tmdb_id": 110316,
            "tvdb_id": 384435,
            "jellyseerr_request_id": 72,
            "requested_seasons": (1,),
            "requested_by": "izumi",
            "poster_url": TMDB_POSTERS + "wN6ElhZ8o5fGvX7wC2tA9c2dKpL.jpg",
        },
    ),
    (
        "jellyseerr/media_approved_tv.json",
        MediaRequested,
        {
            "media_type": "tv",
            "approved": True,
            "title": "Horimiya",
            "year": 2021,
            "tmdb_id": 110316,
            "tvdb_id": 384435,
            "jellyseerr_request_id": 72,
            "requested_seasons": (1,),
        },
    ),
    (
        "jellyseerr/media_auto_approved_movie.json",
        MediaRequested,
        {
            "media_type": "movie",
            "approved": True,
            "title": "Violet Evergarden: Recollections",
            "year": 2021,
            "tmdb_id": 1052946,
            "tvdb_id": None,
            "jellyseerr_request_id": 71,
            "requested_seasons": (),
            "requested_by": "kyouko",
            "poster_url": TMDB_POSTERS + "mQ5ZK6bFsCZvR4N7bSXkx1cQvA2.jpg",
            "overview": "A compilation film that retells Violet's journey as an Auto Memory Doll,"
            " framed by new scenes.",
        },
    ),
    (
        "jellyseerr/media_auto_approved_tv_multi_season.json",
        MediaRequested,
        {
            "media_type": "tv",
            "approved": True,
            "title": "Link Click",
            "year": 2021,
            "tmdb_id": 127532,
            "tvdb_id": 403179,
            "jellyseerr_request_id": 73,
            "requested_seasons": (2, 3),
        },
    ),
    (
        "jellyseerr/media_available_movie.json",
        MediaReportedAvailable,
        {"media_type": "movie", "tmdb_id": 1052946, "tvdb_id": None, "jellyseerr_request_id": 71},
    ),
    (
        "jellyseerr/media_failed_movie.json",
        RequestFailed,
        {"media_type": "movie", "tmdb_id": 1218925, "tvdb_id": None, "jellyseerr_request_id": 74},
    ),
    ("jellyseerr/test_notification.json", WebhookTested, {"source": "jellyseerr"}),
    (
        "captured/jellyseerr-movie-auto-approved.json",
        MediaRequested,
        {
            "media_type": "movie",
            "approved": True,
            "title": "Violet Evergarden: The Movie",
            "year": 2020,
            "tmdb_id": 533514,
            "tvdb_id": None,
            "jellyseerr_request_id": 69,
            "poster_url": TMDB_POSTERS + "A9R6bukzzRmOzxvDQsXdQpeNm8l.jpg",
        },
    ),
    (
        "captured/jellyseerr-tv-auto-approved.json",
        MediaRequested,
        {
            "media_type": "tv",
            "approved": True,
            "title": "Lycoris Recoil",
            "year": 2022,
            "tmdb_id": 154494,
            "tvdb_id": 414057,
            "jellyseerr_request_id": 68,
            "requested_seasons": (1,),
        },
    ),
    (
        "radarr/grab.json",
        MovieGrabbed,
        {
            "radarr_id": 51,
            "tmdb_id": 1052946,
            "imdb_id": "tt25041020",
            "title": "Violet Evergarden: Recollections",
            "year": 2021,
            "is_anime": True,
            "download_hash": RECOLLECTIONS_HASH,
            "release_title": "Violet.Evergarden.Recollections.2022.1080p.NF.WEB-DL.AAC2.0.x264-GST",
            "size": 3725590528,
            "poster_url": "https://image.tmdb.org/t/p/original/aB3dE5fG7hI9jK1lM3nO5pQ7rS9.jpg",
        },
    ),
    (
        "radarr/grab_anime.json",
        MovieGrabbed,
        {
            "radarr_id": 63,
            "tmdb_id": 1218925,
            "imdb_id": None,
            "title": "Chainsaw Man - The Movie: Reze Arc",
            "year": 2025,
            "is_anime": True,
            "download_hash": "7a9c1e3f5b7d9f1a3c5e7a9b1d3f5a7c9e1b3d5f",
        },
    ),
    (
        "radarr/download.json",
        MovieImported,
        {
            "radarr_id": 51,
            "tmdb_id": 1052946,
            "imdb_id": "tt25041020",
            "title": "Violet Evergarden: Recollections",
            "year": 2021,
            "is_anime": True,
            "download_hash": RECOLLECTIONS_HASH,
            "is_upgrade": False,
            "file.path": "/data/anime/movies/Violet Evergarden - Recollections (2021)/"
            + RECOLLECTIONS_FILE,
            "file.relative_path": RECOLLECTIONS_FILE,
            "file.source_path": "/data/downloads/complete/radarr/" + RECOLLECTIONS_FILE,
            "file.episodes": (),
        },
    ),
    ("radarr/test.json", WebhookTested, {"source": "radarr"}),
    (
        "captured/radarr-grab.json",
        MovieGrabbed,
        {
            "radarr_id": 52,
            "tmdb_id": 533514,
            "imdb_id": "tt8652818",
            "title": "Violet Evergarden: The Movie",
            "year": 2020,
            "is_anime": True,
            "download_hash": "c2c60f66c126652a86f7f2ee73dc83d4e255929e",
            "size": 1181116032,
            "poster_url": "https://image.tmdb.org/t/p/original/4b7uAGVtgA85Yd911yOJqIsHigx.jpg",
        },
    ),
    (
        # Radarr sends no top-level sourcePath (hand-added in the capture); movieFile has none here.
        "captured/radarr-import.json",
        MovieImported,
        {
            "radarr_id": 51,
            "tmdb_id": 1052946,
            "title": "Violet Evergarden: Recollections",
            "is_anime": True,
            "download_hash": RECOLLECTIONS_HASH,
            "file.relative_path": RECOLLECTIONS_FILE,
            "file.source_path": None,
        },
    ),
    (
        "sonarr/grab_season_pack.json",
        EpisodesGrabbed,
        {
            "series.sonarr_id": 41,
            "series.title": "Horimiya",
            "series.year": 2021,
            "series.tvdb_id": 384435,
            "series.tmdb_id": 110316,
            "series.imdb_id": "tt13544716",
            "series.is_anime": True,
            "series.poster_url": HORIMIYA_POSTER,
            "episodes.*.season": (1,) * 13,
            "episodes.*.episode": tuple(range(1, 14)),
            "download_hash": HORIMIYA_HASH,
            "release_title": "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio]"
            "[Multi-Subs] (Batch)",
            "size": 9412845312,
        },
    ),
    (
        "sonarr/grab_anime_absolute.json",
        EpisodesGrabbed,
        {
            "series.is_anime": True,
            "episodes.*.season": (1,),
            "episodes.*.episode": (13,),
            "episodes.*.sonarr_episode_id": (2113,),
            "episodes.*.tvdb_id": (8170013,),
            "download_hash": "5f0c8e2a9b7d4c3e1a6f8b0d2c4e6a8b0c2d4e6f",
            "release_title": "[SubsPlease] Horimiya - 13 (1080p) [8D1A2F4C]",
        },
    ),
    (
        "sonarr/grab_single_episode.json",
        EpisodesGrabbed,
        {
            "series.title": "Link Click",
            "series.is_anime": False,
            "series.poster_url": LINK_CLICK_POSTER,
            "episodes.*.season": (3,),
            "episodes.*.episode": (1,),
            "episodes.*.title": ("Episode 1",),
            "download_hash": LINK_CLICK_HASH,
        },
    ),
    (
        "sonarr/grab_season_pack_miniseries.json",
        EpisodesGrabbed,
        {
            "series.title": "Chernobyl",
            "series.year": 2019,
            "series.is_anime": False,
            "episodes.*.episode": (1, 2, 3, 4, 5),
            "download_hash": "d2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8",
        },
    ),
    (
        # v3: no tmdbId, year, images; episodes without tvdbId.
        "sonarr/grab_v3.json",
        EpisodesGrabbed,
        {
            "series.sonarr_id": 12,
            "series.title": "Chernobyl",
            "series.tvdb_id": 360893,
            "series.tmdb_id": None,
            "series.year": None,
            "series.imdb_id": "tt7366338",
            "series.poster_url": None,
            "series.path": "/data/tv/Chernobyl (2019) {tvdb-360893}",
            "episodes.*.episode": (1,),
            "episodes.*.tvdb_id": (None,),
            "download_hash": "e1f3a5c7b9d1e3f5a7c9b1d3e5f7a9c1b3d5e7f9",
            "size": 5798205849,
        },
    ),
    (
        "sonarr/download_single.json",
        EpisodesImported,
        {
            "complete": False,
            "is_upgrade": False,
            "series.title": "Link Click",
            "episodes.*.episode": (1,),
            "files.*.episodes": (((3, 1),),),
            "files.*.relative_path": (
                "Season 03/Link Click (2021) - S03E01 - Episode 1 [WEBDL-1080p][AAC 2.0][h264]"
                "-VARYG.mkv",
            ),
            "files.*.source_path": (
                "/data/downloads/complete/sonarr/Link.Click.S03E01.1080p.BILI.WEB-DL.AAC2.0.H.264"
                "-VARYG.mkv",
            ),
            "download_hash": LINK_CLICK_HASH,
        },
    ),
    (
        "sonarr/download_season_pack_file.json",
        EpisodesImported,
        {
            "complete": False,
            "series.is_anime": True,
            "episodes.*.episode": (1,),
            "files.*.episodes": (((1, 1),),),
            "download_hash": HORIMIYA_HASH,
        },
    ),
    (
        "sonarr/import_complete_single.json",
        EpisodesImported,
        {
            "complete": True,
            "files.*.episodes": (((3, 1),),),
            "files.*.source_path": (None,),
            "download_hash": LINK_CLICK_HASH,
        },
    ),
    (
        "sonarr/import_complete_season_pack.json",
        EpisodesImported,
        {
            "complete": True,
            "is_upgrade": False,
            "series.title": "Horimiya",
            "series.is_anime": True,
            "episodes.*.episode": tuple(range(1, 14)),
            "files.*.episodes": season_pairs(1, range(1, 14)),
            "download_hash": HORIMIYA_HASH,
        },
    ),
    ("sonarr/test.json", WebhookTested, {"source": "sonarr"}),
    (
        "captured/sonarr-grab.json",
        EpisodesGrabbed,
        {
            "series.sonarr_id": 23,
            "series.title": "Lycoris Recoil",
            "series.year": 2022,
            "series.tvdb_id": 414057,
            "series.tmdb_id": 154494,
            "series.is_anime": True,
            "series.poster_url": "https://artworks.thetvdb.com/...",
            "episodes.*.episode": tuple(range(1, 14)),
            "download_hash": LYCORIS_HASH,
        },
    ),
    (
        # Trimmed import-complete body: REPACK names, no fileCount, no per-file fields.
        "captured/sonarr-import.json",
        EpisodesImported,
        {
            "complete": True,
            "series.title": "Lycoris Recoil",
            "series.tmdb_id": None,
            "series.is_anime": True,
            "episodes.*.episode": tuple(range(1, 14)),
            "files.*.episodes": season_pairs(1, range(1, 14)),
            "download_hash": LYCORIS_HASH,
        },
    ),
    (
        "jellyfin/item_added_movie.json",
        LibraryItemAdded,
        {
            "item_id": "0f8e7d6c5b4a49382716a5b4c3d2e1f0",
            "item_type": "Movie",
            "name": "Violet Evergarden: Recollections",
            "year": 2021,
            "series_id": None,
            "season": None,
            "provider_ids": (("imdb", "tt25041020"), ("tmdb", "1052946")),
        },
    ),
    (
        "jellyfin/item_added_movie_template.json",
        LibraryItemAdded,
        {
            "item_id": "0f8e7d6c5b4a49382716a5b4c3d2e1f0",
            "item_type": "Movie",
            "name": "Violet Evergarden: Recollections",
            "year": 2021,
            "series_name": None,
            "series_id": None,
            "season": None,
            "episode": None,
            "provider_ids": (("imdb", "tt25041020"), ("tmdb", "1052946")),
        },
    ),
    (
        "jellyfin/item_added_episode.json",
        LibraryItemAdded,
        {
            "item_id": "e1d2c3b4a5f64e7d8c9b0a1f2e3d4c5b",
            "item_type": "Episode",
            "name": "Episode 1",
            "year": 2021,
            "series_name": "Link Click",
            "series_id": "6b5a4c3d2e1f40a9b8c7d6e5f4a3b2c1",
            "season": 3,
            "episode": 1,
            "episode_end": None,
            "provider_ids": (("tmdb", "6305544"), ("tvdb", "10712001")),
        },
    ),
    (
        "jellyfin/item_added_episode_shokofin.json",
        LibraryItemAdded,
        {
            "series_name": "Horimiya",
            "season": 1,
            "episode": 1,
            "provider_ids": (
                ("anidb", "233871"),
                ("shoko episode", "28731"),
                ("shoko file", "51208"),
                ("shoko series", "1874"),
            ),
        },
    ),
]


def test_every_fixture_is_a_case() -> None:
    on_disk = set(FIXTURE_NAMES)
    cased = {name for name, _, _ in FIXTURE_CASES} | set(REST_RESPONSES)
    assert cased == on_disk


@pytest.mark.parametrize(
    ("name", "fact_type", "expected"),
    FIXTURE_CASES,
    ids=[name for name, _, _ in FIXTURE_CASES],
)
def test_fixture(name: str, fact_type: type, expected: dict[str, object]) -> None:
    fact = translate(source_of(name), load(name))
    assert type(fact) is fact_type
    assert {path: pluck(fact, path) for path in expected} == expected


@pytest.mark.parametrize("name", REST_RESPONSES)
def test_rest_response_is_not_a_webhook(name: str) -> None:
    with pytest.raises(PayloadError, match=r"^NotificationType is missing$"):
        translate("jellyfin", load(name))


MALFORMED_CASES = [
    pytest.param("radarr", [], "body is not a JSON object: []", id="list body"),
    pytest.param("sonarr", "Grab", "body is not a JSON object: 'Grab'", id="string body"),
    pytest.param("jellyfin", None, "body is not a JSON object: None", id="null body"),
    pytest.param("radarr", {}, "eventType is missing", id="radarr no eventType"),
    pytest.param("sonarr", {"eventType": 5}, "eventType is not a string: 5", id="eventType int"),
    pytest.param("sonarr", {"eventType": ""}, "eventType is missing", id="eventType empty"),
    pytest.param(
        "radarr", edited("radarr/grab.json", {"movie": DROP}), "movie is missing", id="no movie"
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie": ["x"]}),
        "movie is not a JSON object: ['x']",
        id="movie list",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.id": "51"}),
        "movie.id is not an integer: '51'",
        id="radarr id text",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.tmdbId": True}),
        "movie.tmdbId is not an integer: True",
        id="tmdbId bool",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.year": 2021.0}),
        "movie.year is not an integer: 2021.0",
        id="year float",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.title": DROP, "remoteMovie.title": DROP}),
        "movie.title is missing",
        id="no title anywhere",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.tags": ["anime", 3]}),
        "movie.tags[1] is not a string: 3",
        id="tag int",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"downloadId": 123}),
        "downloadId is not a string: 123",
        id="downloadId int",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.images": {"coverType": "poster"}}),
        "movie.images is not a list: {'coverType': 'poster'}",
        id="images object",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"movieFile": DROP}),
        "movieFile is missing",
        id="no movieFile",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"movieFile.path": ""}),
        "movieFile.path is missing",
        id="movieFile path empty",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"isUpgrade": "false"}),
        "isUpgrade is not a boolean: 'false'",
        id="isUpgrade text",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.id": "9" * 100}),
        "movie.id is not an integer: '" + "9" * 56 + "...",
        id="long value cut short",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"episodes": DROP}),
        "episodes is missing",
        id="grab no episodes",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"episodes": {}}),
        "episodes is not a list: {}",
        id="episodes object",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"episodes.2.seasonNumber": DROP}),
        "episodes[2].seasonNumber is missing",
        id="episode no season",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"episodes.0": "S01E01"}),
        "episodes[0] is not a JSON object: 'S01E01'",
        id="episode text",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_single_episode.json", {"series": DROP}),
        "series is missing",
        id="no series",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_single_episode.json", {"series.title": DROP}),
        "series.title is missing",
        id="series no title",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_single_episode.json", {"series.tvdbId": "403179"}),
        "series.tvdbId is not an integer: '403179'",
        id="tvdbId text",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/download_single.json", {"episodeFile": DROP}),
        "Download has neither episodeFile nor episodeFiles",
        id="download without files",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/import_complete_season_pack.json", {"episodeFiles.3.path": DROP}),
        "episodeFiles[3].path is missing",
        id="import complete file no path",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/import_complete_season_pack.json", {"episodeFiles": "13 files"}),
        "episodeFiles is not a list: '13 files'",
        id="episodeFiles text",
    ),
    pytest.param(
        "jellyseerr", {"subject": "Foo (2021)"}, "notification_type is missing", id="no type"
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"media": None}),
        "media is missing",
        id="approved media null",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"media.tmdbId": "abc"}),
        "media.tmdbId is not an integer: 'abc'",
        id="tmdbId not a number",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"media.tvdbId": "-5"}),
        "media.tvdbId is not an integer: '-5'",
        id="tvdbId negative",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"media.media_type": "music"}),
        "media.media_type is not 'movie' or 'tv': 'music'",
        id="media type music",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"subject": ""}),
        "subject is missing",
        id="subject empty",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"subject": " (2021)"}),
        "subject has no title: ' (2021)'",
        id="subject only year",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"request.request_id": "72a"}),
        "request.request_id is not an integer: '72a'",
        id="request id",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"extra.0.value": "1, two"}),
        "extra[0].value is not a list of season numbers: '1, two'",
        id="seasons not numbers",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"extra": "1"}),
        "extra is not a list: '1'",
        id="extra text",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"ItemId": "nope"}),
        "ItemId is not a Jellyfin item id: 'nope'",
        id="ItemId not a guid",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie_template.json", {"ItemId": ""}),
        "ItemId is missing",
        id="ItemId empty",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_episode.json", {"SeriesId": "6b5a4c3d"}),
        "SeriesId is not a Jellyfin item id: '6b5a4c3d'",
        id="SeriesId short",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Name": DROP}),
        "Name is missing",
        id="no Name",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie_template.json", {"Year": "20x1"}),
        "Year is not an integer: '20x1'",
        id="Year text",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_episode.json", {"SeasonNumber": True}),
        "SeasonNumber is not an integer: True",
        id="SeasonNumber bool",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_movie.json", {"Provider_tmdb": ["1052946"]}),
        "Provider_tmdb is not a string: ['1052946']",
        id="provider id list",
    ),
]


@pytest.mark.parametrize(("source", "body", "message"), MALFORMED_CASES)
def test_malformed(source: str, body: object, message: str) -> None:
    with pytest.raises(PayloadError, match=f"^{re.escape(message)}$"):
        translate(source, body)


EDGE_CASES = [
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"subject": "Horimiya"}),
        {"title": "Horimiya", "year": None},
        id="subject without year",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"subject": "Foo (Bar) (2021)"}),
        {"title": "Foo (Bar)", "year": 2021},
        id="subject title with parentheses",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_approved_tv.json", {"subject": "Foo (Bar)"}),
        {"title": "Foo (Bar)", "year": None},
        id="subject parentheses no year",
    ),
    pytest.param(
        "jellyseerr",
        edited(
            "jellyseerr/media_approved_tv.json",
            {"image": "", "message": "", "media.tvdbId": "", "request": None, "extra": DROP},
        ),
        {
            "poster_url": None,
            "overview": None,
            "tvdb_id": None,
            "jellyseerr_request_id": None,
            "requested_by": None,
            "requested_seasons": (),
        },
        id="empty strings are missing",
    ),
    pytest.param(
        "jellyseerr",
        edited(
            "jellyseerr/media_approved_tv.json",
            {
                "extra": [
                    {"name": "Other", "value": "x"},
                    {"name": "Requested Seasons", "value": ""},
                ]
            },
        ),
        {"requested_seasons": ()},
        id="requested seasons empty",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_pending_tv.json", {"notification_type": "MEDIA_DECLINED"}),
        {"__class__": RequestDeclined, "media_type": "tv", "jellyseerr_request_id": 72},
        id="declined",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_pending_tv.json", {"notification_type": "ISSUE_CREATED"}),
        {"__class__": UnhandledEvent, "source": "jellyseerr", "event_type": "ISSUE_CREATED"},
        id="issue",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/test_notification.json", {"notification_type": "MEDIA_AUTO_REQUESTED"}),
        {"__class__": UnhandledEvent, "event_type": "MEDIA_AUTO_REQUESTED"},
        id="auto requested",
    ),
    pytest.param(
        "jellyseerr",
        edited("jellyseerr/media_available_movie.json", {"media.tmdbId": 1052946}),
        {"tmdb_id": 1052946},
        id="jellyseerr number not quoted",
    ),
    pytest.param(
        "radarr",
        {"eventType": "Health", "level": "warning", "message": "Indexers unavailable"},
        {"__class__": UnhandledEvent, "source": "radarr", "event_type": "Health"},
        id="radarr health",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"eventType": "MovieAdded"}),
        {"__class__": UnhandledEvent, "event_type": "MovieAdded"},
        id="radarr movie added",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"eventType": "MovieDelete", "deletedFiles": True}),
        {"__class__": MovieDeleted, "radarr_id": 51, "tmdb_id": 1052946, "file_only": False},
        id="movie delete",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"eventType": "MovieFileDelete", "deleteReason": "upgrade"}),
        {"__class__": MovieDeleted, "file_only": True, "reason": "upgrade"},
        id="movie file delete",
    ),
    pytest.param(
        "radarr",
        edited(
            "radarr/grab.json",
            {
                "eventType": "ManualInteractionRequired",
                "downloadStatus": "warning",
                "downloadStatusMessages": [
                    {"title": "Violet.mkv", "messages": ["Not a Custom Format upgrade"]},
                    {"title": "", "messages": ["Unknown movie"]},
                ],
            },
        ),
        {
            "__class__": ImportBlocked,
            "series": None,
            "radarr_id": 51,
            "tmdb_id": 1052946,
            "download_hash": RECOLLECTIONS_HASH,
            "status": "warning",
            "messages": ("Violet.mkv: Not a Custom Format upgrade", "Unknown movie"),
        },
        id="radarr manual interaction",
    ),
    pytest.param(
        "radarr",
        edited("radarr/test.json", {"eventType": "Grab"}),
        {"tmdb_id": 1234, "imdb_id": "5678", "is_anime": False, "download_hash": None},
        id="tmdbId 0 falls back to remoteMovie",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.tags": ["Anime"], "downloadId": "SABnzbd_nzo_AbC"}),
        {"is_anime": True, "download_hash": "sabnzbd_nzo_abc"},
        id="tag case and usenet id",
    ),
    pytest.param(
        "radarr",
        edited("radarr/grab.json", {"movie.tags": DROP, "movie.images": DROP}),
        {"is_anime": False, "poster_url": None},
        id="no tags no images",
    ),
    pytest.param(
        "radarr",
        edited("radarr/download.json", {"isUpgrade": True}),
        {"is_upgrade": True},
        id="upgrade",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/grab_season_pack.json", {"eventType": "Rename"}),
        {"__class__": UnhandledEvent, "source": "sonarr", "event_type": "Rename"},
        id="rename",
    ),
    pytest.param(
        "sonarr",
        {"eventType": "HealthRestored", "level": "ok", "message": "fine"},
        {"__class__": UnhandledEvent, "event_type": "HealthRestored"},
        id="health restored",
    ),
    pytest.param(
        "sonarr",
        edited(
            "sonarr/download_single.json",
            {"eventType": "EpisodeFileDelete", "deleteReason": "missingFromDisk"},
        ),
        {
            "__class__": EpisodeFilesDeleted,
            "series.title": "Link Click",
            "episodes.*.episode": (1,),
            "reason": "missingFromDisk",
        },
        id="episode file delete",
    ),
    pytest.param(
        "sonarr",
        {"eventType": "SeriesDelete", "series": {"id": 12, "title": "Chernobyl"}},
        {"__class__": SeriesDeleted, "series.sonarr_id": 12, "deleted_files": False},
        id="series delete",
    ),
    pytest.param(
        "sonarr",
        edited(
            "sonarr/grab_season_pack.json",
            {
                "eventType": "ManualInteractionRequired",
                "downloadStatus": "warning",
                "downloadStatusMessages": [{"title": "Batch", "messages": ["No files found"]}],
            },
        ),
        {
            "__class__": ImportBlocked,
            "series.title": "Horimiya",
            "episodes.*.episode": tuple(range(1, 14)),
            "radarr_id": None,
            "download_hash": HORIMIYA_HASH,
            "messages": ("Batch: No files found",),
        },
        id="sonarr manual interaction",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/test.json", {"eventType": "Grab"}),
        {"series.tmdb_id": None, "series.year": None, "episodes.*.tvdb_id": (None,)},
        id="sonarr zeros are unknown",
    ),
    pytest.param(
        "sonarr",
        edited("sonarr/download_season_pack_file.json", {"downloadId": DROP}),
        {"download_hash": None},
        id="manual import has no downloadId",
    ),
    pytest.param(
        "jellyfin",
        edited(
            "jellyfin/item_added_movie_template.json",
            {"ItemId": "0F8E7D6C-5B4A-4938-2716-A5B4C3D2E1F0"},
        ),
        {"item_id": "0f8e7d6c5b4a49382716a5b4c3d2e1f0"},
        id="hyphenated upper-case guid",
    ),
    pytest.param(
        "jellyfin",
        edited("jellyfin/item_added_episode.json", {"EpisodeNumberEnd": 2, "Provider_tmdb": 123}),
        {"episode": 1, "episode_end": 2, "provider_ids": (("tmdb", "123"), ("tvdb", "10712001"))},
        id="multi-episode file, unquoted provider id",
    ),
    pytest.param(
        "jellyfin",
        {"NotificationType": "PlaybackStart", "ItemId": "x"},
        {"__class__": UnhandledEvent, "source": "jellyfin", "event_type": "PlaybackStart"},
        id="jellyfin other notification",
    ),
]


@pytest.mark.parametrize(("source", "body", "expected"), EDGE_CASES)
def test_edge_case(source: str, body: object, expected: dict[str, object]) -> None:
    fact = translate(source, body)
    assert {path: pluck(fact, path) for path in expected} == expected


def import_complete(file_names: list[str], episodes: list[tuple[int, int]]) -> dict[str, object]:
    """A minimal Sonarr import-complete body for these file names and (season, episode)s."""
    return {
        "eventType": "Download",
        "series": {"title": "Show"},
        "episodes": [{"seasonNumber": s, "episodeNumber": e} for s, e in episodes],
        "episodeFiles": [{"path": f"/tv/Show/{name}"} for name in file_names],
    }


@pytest.mark.parametrize(
    ("file_name", "named"),
    [
        ("Show - S01E02 - Title.mkv", ((1, 2),)),
        ("show.s01e02.720p.mkv", ((1, 2),)),
        ("Show - S01E02E03 - Title.mkv", ((1, 2), (1, 3))),
        ("Show - S01E02-E04 - Title.mkv", ((1, 2), (1, 3), (1, 4))),
        ("Show - S01E02-04 - Title.mkv", ((1, 2), (1, 3), (1, 4))),
        ("Show - S01E02-03-04 - Title.mkv", ((1, 2), (1, 3), (1, 4))),
        ("Show - S01E02 - 002 - Title.mkv", ((1, 2),)),
        ("Show S01E09 Movie S01E02.mkv", ((1, 2),)),
        ("Show - 1x02 - Title.mkv", ()),
        ("Show - S01E99 - Title.mkv", ()),
    ],
)
def test_import_complete_file_names(file_name: str, named: tuple[tuple[int, int], ...]) -> None:
    episodes = [(1, number) for number in range(1, 5)]
    body = import_complete([file_name, "Extras/other.mkv"], episodes)
    fact = translate("sonarr", body)
    assert fact.files[0].episodes == named


def test_import_complete_by_position_when_names_say_nothing() -> None:
    body = import_complete(["a.mkv", "b.mkv"], [(2, 7), (2, 8)])
    assert pluck(translate("sonarr", body), "files.*.episodes") == (((2, 7),), ((2, 8),))


def test_import_complete_relative_path_first() -> None:
    body = import_complete(["S01E01.mkv"], [(1, 1), (1, 2)])
    body["episodeFiles"][0]["relativePath"] = "Season 01/Show S01E02.mkv"
    assert pluck(translate("sonarr", body), "files.*.episodes") == (((1, 2),),)


# The episodes of the body the multi-episode names below are read against.
MULTI_EPISODE_BODY = [(1, number) for number in range(1, 31)] + [(21, 1071), (21, 1072)]
MULTI_EPISODE_BODY += [(2010, 3), (2010, 4)]


@pytest.mark.parametrize(
    ("file_name", "named"),
    [
        ("Show - S01E01-02-03 - Title [WEBDL-1080p].mkv", ((1, 1), (1, 2), (1, 3))),
        ("Show - S01E01E02E03 - Title [WEBDL-1080p].mkv", ((1, 1), (1, 2), (1, 3))),
        ("Show - S01E01-E02-E03 - Title [WEBDL-1080p].mkv", ((1, 1), (1, 2), (1, 3))),
        ("Show - S01E01-03 - Title [WEBDL-1080p].mkv", ((1, 1), (1, 2), (1, 3))),
        ("Show - S01E01-E03 - Title [WEBDL-1080p].mkv", ((1, 1), (1, 2), (1, 3))),
        ("Show - S01E01 - S01E02 - S01E03 - Title.mkv", ((1, 3),)),
        ("show.s01e05e06.720p.hdtv.x264-grp.mkv", ((1, 5), (1, 6))),
        ("Show - S01E09-E10 - Finale (1) + Finale (2).mkv", ((1, 9), (1, 10))),
        ("Show - S01E11-E15 - Five Shorts.mkv", tuple((1, number) for number in range(11, 16))),
        ("One Piece - S21E1071-E1072 - Title [HDTV-1080p].mkv", ((21, 1071), (21, 1072))),
        ("Show - S01E13-E14 - 013-014 - Title.mkv", ((1, 13), (1, 14))),
        ("Show - S2010E03E04 - Title.mkv", ((2010, 3), (2010, 4))),
        ("Season 01\\Show - S01E07-08.mkv", ((1, 7), (1, 8))),
        ("Show - S01E29-E32 - Title.mkv", ((1, 29), (1, 30))),
        ("Show - S01E01-E20 - Season.mkv", tuple((1, number) for number in range(1, 21))),
    ],
)
def test_import_complete_multi_episode_names_keep_their_episodes(
    file_name: str, named: tuple[tuple[int, int], ...]
) -> None:
    """Every Sonarr multi-episode style, and the limits around them, map a file as before.

    A name naming episodes the body does not list keeps only those it lists; with Sonarr's
    "Duplicate" style (``S01E01 - S01E02``) the last marker wins.
    """
    body = import_complete([file_name, "Extras/other.mkv"], MULTI_EPISODE_BODY)
    assert translate("sonarr", body).files[0].episodes == named


@pytest.mark.parametrize(
    "file_name",
    [
        "Show - S01E01-E21 - Title.mkv",
        "Show - S01" + "".join(f"E{number:02d}" for number in range(1, 22)) + ".mkv",
        "Show - S01E01-05-E10-21 - Title.mkv",
    ],
)
def test_import_complete_name_claiming_too_many_episodes_names_none(file_name: str) -> None:
    """A marker naming more than 20 episodes is taken as noise: the file is mapped as if its
    name had no marker (here: by position, as there are as many files as episodes)."""
    episodes = [(1, number) for number in range(1, 31)]
    body = import_complete([file_name] + [f"{number}.mkv" for number in range(2, 31)], episodes)
    assert translate("sonarr", body).files[0].episodes == ((1, 1),)


@pytest.mark.parametrize("episodes", [[], [(1, 1)]], ids=["no episodes", "one episode"])
def test_import_complete_thousands_of_files_claiming_every_episode(
    episodes: list[tuple[int, int]],
) -> None:
    """20,000 files, each named ``S1E1-9999 <n>``: every file is kept and none is mapped to an
    episode, since a name claiming 9,999 episodes names none and position says nothing.

    The body is about 0.5 MiB. Before the fix each name was expanded into 9,999 episodes, and
    this translation hung for about 20 s (on the one event loop, and again in the dispatcher).
    """
    body = import_complete([f"S1E1-9999 {number}" for number in range(20_000)], episodes)
    fact = translate("sonarr", body)
    assert len(fact.files) == 20_000
    assert {file.episodes for file in fact.files} == {()}


def test_import_complete_files_listing_every_episode_are_mapped_by_position() -> None:
    """20 files, each named ``S1E1E2…E9999`` (about 49 KB a name, 1 MiB in all), for a body of
    20 episodes: no name is believed, so file n holds episode n, as for unnamed files.

    Before the fix a listed marker was deduplicated against a list, quadratic in its length:
    this translation hung for about 5 s, and mapped every file to all 20 episodes.
    """
    listed = "S1" + "".join(f"E{number}" for number in range(1, 10_000))
    body = import_complete([listed] * 20, [(1, number) for number in range(1, 21)])
    assert pluck(translate("sonarr", body), "files.*.episodes") == season_pairs(1, range(1, 21))


@pytest.mark.parametrize(
    "name",
    [
        "jellyfin/item_added_movie.json",
        "jellyfin/item_added_episode.json",
        "jellyfin/item_added_episode_shokofin.json",
    ],
)
def test_jellyfin_template_mode_matches_send_all_properties(name: str) -> None:
    """Every value rendered as text, Guids in hyphenated D form: the same fact."""
    body = load(name)
    rendered = {key: str(value) for key, value in body.items()}
    for key in ("ItemId", "SeriesId", "SeasonId"):
        if key in rendered:
            guid = rendered[key]
            rendered[key] = "-".join((guid[:8], guid[8:12], guid[12:16], guid[16:20], guid[20:]))
    assert translate("jellyfin", rendered) == translate("jellyfin", body)


@pytest.mark.parametrize(
    ("source", "body", "event_type"),
    [
        ("sonarr", load("sonarr/grab_v3.json"), "Grab"),
        ("radarr", load("radarr/download.json"), "Download"),
        ("jellyseerr", load("jellyseerr/media_pending_tv.json"), "MEDIA_PENDING"),
        ("jellyfin", load("jellyfin/item_added_movie.json"), "ItemAdded"),
        ("jellyfin", load("jellyfin/items_query_movie.json"), ""),
        ("radarr", {"eventType": 3}, ""),
        ("sonarr", ["Grab"], ""),
    ],
)
def test_event_type_of(source: str, body: object, event_type: str) -> None:
    assert event_type_of(source, body) == event_type


def test_dedupe_key() -> None:
    raw = (FIXTURES / "radarr/grab.json").read_bytes()
    assert dedupe_key("radarr", raw) == hashlib.sha256(b"radarr\0" + raw).hexdigest()
    assert dedupe_key("radarr", raw) != dedupe_key("sonarr", raw)
    assert dedupe_key("radarr", b"x") != dedupe_key("radar", b"rx")
