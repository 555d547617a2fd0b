"""Property: every parser of a dependency's reply, fed any JSON value, fails only its own way.

Arbitrary JSON and mutated real fixtures go through the qBittorrent torrent/file/maindata
parsers, Jellyfin items, Sonarr episodes and series, and Shoko's records: each either parses or
raises the client's error (Shoko: MalformedFrame, which the listener skips and counts).
"""

from __future__ import annotations

import contextlib
import json
import typing

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from status_tracker.clients import (
    JellyfinItem,
    SonarrClient,
    TorrentFile,
    TorrentView,
    UnexpectedResponse,
)
from status_tracker.clients.qbittorrent import SyncResult, _MaindataCache
from status_tracker.ingress.shoko import MalformedFrame, parse_record, translate_invocation
from status_tracker.ingress.shoko.protocol import Invocation

from tests.support.fixtures import load_fixture

if typing.TYPE_CHECKING:
    from collections.abc import Callable

BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def mutations_of(document: object) -> st.SearchStrategy[object]:
    """``document`` with one value somewhere inside replaced by any JSON value (or removed)."""

    def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        found = [prefix]
        if isinstance(value, dict):
            for key, child in value.items():
                found += paths(child, (*prefix, key))
        elif isinstance(value, list):
            for index, child in enumerate(value):
                found += paths(child, (*prefix, index))
        return found

    def mutate(path: tuple[object, ...], replacement: object, remove: bool) -> object:
        copy = json.loads(json.dumps(document))
        if not path:
            return replacement
        parent = copy
        for step in path[:-1]:
            parent = parent[step]
        if remove and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
        return copy

    return st.builds(mutate, st.sampled_from(paths(document)), json_values, st.booleans())


def parsed_or_refused(
    error: type[Exception], parse: Callable[[object], object], value: object
) -> object | None:
    """What ``parse`` made of ``value``, or None when it refused it with ``error``."""
    with contextlib.suppress(error):
        return parse(value)
    return None


def maindata_apply(body: object) -> object:
    cache = _MaindataCache()
    cache.apply(load_fixture("qbittorrent/sync_maindata_full.json"))
    return cache.apply(body)


TORRENT = load_fixture("qbittorrent/torrents_info.json")[0]
FILES = load_fixture("qbittorrent/torrents_files_season_pack.json")
MAINDATA = load_fixture("qbittorrent/sync_maindata_delta.json")
JELLYFIN_ITEM = load_fixture("jellyfin/shows_episodes.json")["Items"][0]


@BOUNDED
@given(st.one_of(json_values, mutations_of(TORRENT)))
def test_torrent_parser_raises_only_unexpected_response(value: object) -> None:
    view = parsed_or_refused(
        UnexpectedResponse, lambda v: TorrentView.from_wire(TORRENT["hash"], v), value
    )
    assert view is None or (isinstance(view, TorrentView) and 0.0 <= view.progress <= 1.0)


@BOUNDED
@given(st.one_of(json_values, mutations_of(FILES)))
def test_file_parser_raises_only_unexpected_response(value: object) -> None:
    def parse(files: object) -> object:
        if not isinstance(files, list):
            return TorrentFile.from_wire(files)
        return [TorrentFile.from_wire(f) for f in files]

    files = parsed_or_refused(UnexpectedResponse, parse, value)
    assert files is None or all(0.0 <= f.progress <= 1.0 for f in typing.cast("list", files))


@BOUNDED
@given(st.one_of(json_values, mutations_of(MAINDATA)))
def test_maindata_merge_raises_only_unexpected_response(value: object) -> None:
    result = parsed_or_refused(UnexpectedResponse, maindata_apply, value)
    assert result is None or all(
        isinstance(view, TorrentView)
        for view in typing.cast("SyncResult", result).torrents.values()
    )


@BOUNDED
@given(st.one_of(json_values, mutations_of(JELLYFIN_ITEM)))
def test_jellyfin_item_parser_raises_only_unexpected_response(value: object) -> None:
    item = parsed_or_refused(UnexpectedResponse, JellyfinItem.from_wire, value)
    assert item is None or all(
        isinstance(v, str) for v in typing.cast("JellyfinItem", item).provider_ids.values()
    )


SONARR_EPISODE = {
    "seriesId": 42,
    "tvdbId": 8000001,
    "episodeFileId": 0,
    "seasonNumber": 1,
    "episodeNumber": 1,
    "title": "Episode 1",
    "hasFile": False,
    "monitored": True,
    "id": 101,
}
SONARR_SERIES = [{"id": 42, "title": "Horimiya", "tvdbId": 376435, "seriesType": "anime"}]


@BOUNDED
@given(st.one_of(json_values, mutations_of([SONARR_EPISODE]), mutations_of(SONARR_SERIES)))
async def test_sonarr_parsing_raises_only_unexpected_response(value: object) -> None:
    transport = httpx.MockTransport(lambda _request: httpx.Response(200, text=json.dumps(value)))
    async with httpx.AsyncClient(transport=transport) as http:
        sonarr = SonarrClient("http://sonarr.test", "key", http=http)
        with contextlib.suppress(UnexpectedResponse):
            episodes = await sonarr.episodes(42)
            assert all(episode.season >= 0 for episode in episodes)
        with contextlib.suppress(UnexpectedResponse):
            series_id = await sonarr.series_id_for_tvdb(376435)
            assert series_id is None or 0 <= series_id < 2**63


SHOKO_RECORDS = [
    json.dumps(load_fixture(f"shoko/{name}.json"))
    for name in ("file_matched", "file_matched_movie", "series_updated", "episode_updated")
]


def shoko_record(record: str) -> object:
    message = parse_record(record)
    return translate_invocation(message) if isinstance(message, Invocation) else message


@BOUNDED
@given(
    st.one_of(
        json_values.map(json.dumps),
        st.sampled_from(SHOKO_RECORDS).flatmap(
            lambda record: mutations_of(json.loads(record)).map(json.dumps)
        ),
        st.text(max_size=40),
    )
)
def test_shoko_records_raise_only_malformed_frame(record: str) -> None:
    parsed_or_refused(MalformedFrame, shoko_record, record)
