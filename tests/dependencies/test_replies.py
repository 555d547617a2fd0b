"""Every client turns a reply it cannot read into UnexpectedResponse, never a crash of its own."""

from __future__ import annotations

import contextlib
import json
import typing

import httpx
import pytest
from status_tracker.clients import (
    JellyfinClient,
    QBittorrentClient,
    SonarrClient,
    UnexpectedResponse,
    redact_url,
)

from tests.support.fake_jellyfin import open_fake_jellyfin
from tests.support.fake_qbittorrent import FakeQBittorrent
from tests.support.mock_transport import mock_transport

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
API_KEY = "jellyfin-key"

GARBAGE: dict[str, bytes] = {
    "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "truncated JSON": b'{"rid": 3, "torrents": {"',
    "null": b"null",
    "a string": b'"Ok."',
    "NaN": b'{"rid": NaN, "Items": NaN}',
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
    "not UTF-8": b'\xff\xfe{"rid": 1}',
    "empty": b"",
}


def torrent(**fields: object) -> dict[str, object]:
    return {"hash": HASH, "name": "Horimiya", "progress": 0.5, "state": "downloading", **fields}


TORRENT_GARBAGE: dict[str, dict[str, object]] = {
    "progress n/a": torrent(progress="n/a"),
    "progress past 1": torrent(progress=1.5),
    "progress infinite": torrent(progress=1e400),
    "size as text": torrent(size="4 GB"),
    "huge size": torrent(size=10**30),
    "name a number": torrent(name=7),
    "name with NUL": torrent(name="Hori\x00miya"),
    "state a list": torrent(state=["downloading"]),
    "eta true": torrent(eta=True),
}


@contextlib.asynccontextmanager
async def qbittorrent(fake: FakeQBittorrent) -> AsyncIterator[QBittorrentClient]:
    async with httpx.AsyncClient(transport=mock_transport(fake.answer)) as http:
        yield QBittorrentClient("http://qbt.test", "admin", "pw", http=http)


QBITTORRENT_CALLS: dict[str, Callable[[QBittorrentClient], Awaitable[object]]] = {
    "sync/maindata": lambda client: client.sync_maindata(),
    "torrents/info": lambda client: client.torrents_info(),
    "torrents/files": lambda client: client.torrent_files(HASH),
}


@pytest.mark.parametrize("call", QBITTORRENT_CALLS.values(), ids=QBITTORRENT_CALLS.keys())
@pytest.mark.parametrize("body", GARBAGE.values(), ids=GARBAGE.keys())
async def test_qbittorrent_garbage_bodies_are_unexpected_responses(
    call: Callable[[QBittorrentClient], Awaitable[object]], body: bytes
) -> None:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH)
    fake.answer_garbage(body)
    async with qbittorrent(fake) as client:
        with pytest.raises(UnexpectedResponse):
            await call(client)


@pytest.mark.parametrize("fields", TORRENT_GARBAGE.values(), ids=TORRENT_GARBAGE.keys())
async def test_a_torrent_with_a_garbage_field_is_an_unexpected_response(
    fields: dict[str, object],
) -> None:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH, **fields)
    async with qbittorrent(fake) as client:
        with pytest.raises(UnexpectedResponse):
            await client.sync_maindata()
        with pytest.raises(UnexpectedResponse):
            await client.torrents_info()


async def test_the_reason_names_the_field_in_a_sentence() -> None:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH, progress="n/a")
    async with qbittorrent(fake) as client:
        with pytest.raises(UnexpectedResponse) as caught:
            await client.sync_maindata()
    assert caught.value.reason == "qBittorrent answered a torrent whose progress is not a number"
    assert "'n/a'" in str(caught.value)


async def test_a_bad_delta_leaves_the_cache_as_it_was() -> None:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH, progress=0.25)
    async with qbittorrent(fake) as client:
        before = await client.sync_maindata()
        fake.answer_garbage(json.dumps({"rid": 9, "torrents": {HASH: {"progress": "n/a"}}}))
        with pytest.raises(UnexpectedResponse):
            await client.sync_maindata()
        fake.answer_garbage(None)
        fake.add_torrent(HASH, progress=0.5)
        after = await client.sync_maindata()
    assert before.torrents[HASH].progress == 0.25
    assert after.torrents[HASH].progress == 0.5
    assert after.changed == {HASH}


@pytest.mark.parametrize(
    "files",
    [
        [{"name": "a.mkv"}],
        [{"index": "0", "name": "a.mkv"}],
        [{"index": 0, "name": None}],
        [{"index": 0, "name": "a.mkv", "progress": "done"}],
        [{"index": -1, "name": "a.mkv"}],
        [None],
    ],
)
async def test_torrent_files_with_garbage_fields_are_unexpected_responses(files: object) -> None:
    fake = FakeQBittorrent("admin", "pw")
    fake.add_torrent(HASH)
    fake.files[HASH] = typing.cast("list[dict[str, object]]", files)
    async with qbittorrent(fake) as client:
        with pytest.raises(UnexpectedResponse):
            await client.torrent_files(HASH)


JELLYFIN_GARBAGE: dict[str, bytes] = {
    **GARBAGE,
    "Items not a list": b'{"Items": {"Id": "a"}}',
    "an item that is null": b'{"Items": [null]}',
    "an item without Id": b'{"Items": [{"Name": "Horimiya"}]}',
    "a year as text": b'{"Items": [{"Id": "ab", "ProductionYear": "2021"}]}',
    "an episode number too big": b'{"Items": [{"Id": "ab", "IndexNumber": 99999999999}]}',
    "ProviderIds a list": b'{"Items": [{"Id": "ab", "ProviderIds": ["Tmdb"]}]}',
}


@pytest.mark.parametrize("body", JELLYFIN_GARBAGE.values(), ids=JELLYFIN_GARBAGE.keys())
async def test_jellyfin_garbage_bodies_are_unexpected_responses(body: bytes) -> None:
    async with open_fake_jellyfin(API_KEY) as fake, JellyfinClient(fake.url, API_KEY) as client:
        series_id = fake.add_series("Horimiya", 2021, tvdb=376435)
        fake.answer_garbage(body)
        with pytest.raises(UnexpectedResponse):
            await client.search_items("Horimiya", ["Series"])
        with pytest.raises(UnexpectedResponse):
            await client.show_episodes(series_id)


@pytest.mark.parametrize("body", GARBAGE.values(), ids=GARBAGE.keys())
async def test_jellyfin_ping_with_garbage_is_an_unexpected_response(body: bytes) -> None:
    async with open_fake_jellyfin(API_KEY) as fake, JellyfinClient(fake.url, API_KEY) as client:
        fake.answer_garbage(body)
        with pytest.raises(UnexpectedResponse):
            await client.ping()


async def test_jellyfin_provider_ids_that_are_not_ids_are_left_out() -> None:
    async with open_fake_jellyfin(API_KEY) as fake, JellyfinClient(fake.url, API_KEY) as client:
        fake.add_movie(
            "Violet Evergarden: Recollections",
            2021,
            imdb="tt13846236",
            provider_ids={"Tmdb": "1052946²", "Tvdb": "99999999999999999999", "AniDB": "0042"},
        )
        [item] = await client.search_items("Violet", ["Movie"])
    assert item.provider_ids == {"imdb": "tt13846236", "anidb": "42"}


def sonarr_answering(body: object) -> httpx.MockTransport:
    return httpx.MockTransport(lambda _request: httpx.Response(200, json=body))


@pytest.mark.parametrize(
    "series",
    [
        [{"id": "abc", "tvdbId": 376435}],
        [{"id": 2**64, "tvdbId": 376435}],
        [{"id": -3, "tvdbId": 376435}],
        [{"tvdbId": 376435}],
        [{"id": 1, "tvdbId": "376435²"}],
        [None],
    ],
)
async def test_sonarr_series_with_bad_ids_are_unexpected_responses(series: object) -> None:
    async with httpx.AsyncClient(transport=sonarr_answering(series)) as http:
        sonarr = SonarrClient("http://sonarr.test", "key", http=http)
        with pytest.raises(UnexpectedResponse):
            await sonarr.series_id_for_tvdb(376435)


@pytest.mark.parametrize(
    "episode",
    [
        {"id": 1, "seasonNumber": "1", "episodeNumber": 1},
        {"id": 1, "seasonNumber": 1},
        {"id": 1.5, "seasonNumber": 1, "episodeNumber": 1},
        {"id": 1, "seasonNumber": 1, "episodeNumber": 1, "title": ["Pilot"]},
        {"id": 1, "seasonNumber": 1, "episodeNumber": 1, "hasFile": "yes"},
        {"id": 1, "seasonNumber": 2**40, "episodeNumber": 1},
    ],
)
async def test_sonarr_episodes_with_garbage_fields_are_unexpected_responses(
    episode: object,
) -> None:
    async with httpx.AsyncClient(transport=sonarr_answering([episode])) as http:
        sonarr = SonarrClient("http://sonarr.test", "key", http=http)
        with pytest.raises(UnexpectedResponse):
            await sonarr.episodes(1)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:secret@qbt:8080/", "http://***@qbt:8080/"),
        ("https://a%40b:p@ss@host/x?y=1", "https://***@host/x?y=1"),
        ("http://host:8080/path@x", "http://host:8080/path@x"),
        ("http://qbt:8080", "http://qbt:8080"),
        ("not a url at all", "not a url at all"),
    ],
)
def test_redact_url_hides_only_the_userinfo(url: str, shown: str) -> None:
    assert redact_url(url) == shown


async def test_messages_and_repr_never_show_the_password_or_api_key() -> None:
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(lambda _request: httpx.Response(200, text="<html>"))
    ) as http:
        client = QBittorrentClient("http://user:secret@qbt.test", "admin", "pw", http=http)
        jellyfin = JellyfinClient("http://user:secret@jf.test", "the-api-key", http=http)
        with pytest.raises(UnexpectedResponse) as qbt_error:
            await client.sync_maindata()
        with pytest.raises(UnexpectedResponse) as jellyfin_error:
            await jellyfin.search_items("x", [])
    shown = " ".join(
        [repr(client), repr(jellyfin), str(qbt_error.value), str(jellyfin_error.value)]
    )
    assert "secret" not in shown
    assert "the-api-key" not in shown
    assert "http://***@qbt.test" in repr(client)
