"""Links out to the services' own pages (pure): which link each request gets, and that a link
never carries a user:password@ or an id as it came."""

from __future__ import annotations

import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from status_tracker.domain import NO_EPISODES, EpisodeRow, RequestRow, summarize
from status_tracker.domain.links import (
    LINK_NAMES,
    ServiceAddresses,
    base_url,
    jellyfin_details,
    request_links,
)

HASH = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
EVERYWHERE = ServiceAddresses(
    jellyseerr="https://requests.example",
    sonarr="https://home.example/sonarr",
    radarr="https://home.example/radarr/",
    qbittorrent="http://admin:adminadmin@10.0.0.5:8080",
    jellyfin="https://watch.example",
)


VIOLET: dict[str, object] = {
    "id": 1,
    "media_type": "movie",
    "title": "Violet Evergarden: Recollections",
    "tmdb_id": 1052946,
    "state": "downloading",
    "download_hash": HASH,
}
HORIMIYA: dict[str, object] = {
    "id": 2,
    "media_type": "tv",
    "title": "Horimiya",
    "tmdb_id": 110316,
    "tvdb_id": 384435,
    "sonarr_slug": "horimiya",
    "state": "downloading",
}


def violet(**changes: object) -> RequestRow:
    return RequestRow(**{**VIOLET, **changes})  # type: ignore[arg-type]


def horimiya(**changes: object) -> RequestRow:
    return RequestRow(**{**HORIMIYA, **changes})  # type: ignore[arg-type]


def episode(number: int, **changes: object) -> EpisodeRow:
    fields = {"state": "downloading", "torrent_hash": HASH, **changes}
    return EpisodeRow(request_id=2, season=1, episode=number, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("configured", "shown"),
    [
        (None, None),
        ("", None),
        ("https://sonarr.example", "https://sonarr.example"),
        ("https://sonarr.example/", "https://sonarr.example"),
        ("https://home.example/sonarr/", "https://home.example/sonarr"),
        ("https://home.example/media/sonarr//", "https://home.example/media/sonarr"),
        ("HTTPS://Home.Example:443/Sonarr", "https://home.example/Sonarr"),
        ("http://10.0.0.5:8989", "http://10.0.0.5:8989"),
        ("http://[fd00::5]:8989/", "http://[fd00::5]:8989"),
        ("http://admin:secret@10.0.0.5:8080/", "http://10.0.0.5:8080"),
        ("http://admin@10.0.0.5:8080", "http://10.0.0.5:8080"),
        ("https://home.example/my sonarr", "https://home.example/my%20sonarr"),
        ("https://home.example/sonarr?x=1#top", "https://home.example/sonarr"),
        ("ftp://home.example", None),
        ("home.example:8989", None),
        ("https://home.example:99999", None),
        ("https://", None),
    ],
)
def test_a_base_url_keeps_scheme_host_port_and_path_only(
    configured: str | None, shown: str | None
) -> None:
    assert base_url(configured) == shown


@pytest.mark.parametrize(
    ("request_row", "episodes", "addresses", "links"),
    [
        pytest.param(
            violet(), [], ServiceAddresses(), {}, id="nothing configured: no link at all"
        ),
        pytest.param(
            violet(jellyfin_id="0f8e7d6c5b4a49382716a5b4c3d2e1f0", state="available"),
            [],
            EVERYWHERE,
            {
                "Jellyseerr": "https://requests.example/movie/1052946",
                "Radarr": "https://home.example/radarr/movie/1052946",
                "qBittorrent": "http://10.0.0.5:8080/",
                "Play in Jellyfin": "https://watch.example/web/index.html#/details"
                "?id=0f8e7d6c5b4a49382716a5b4c3d2e1f0",
            },
            id="a movie Jellyfin has: every service, Radarr's page by TMDB id",
        ),
        pytest.param(
            violet(download_hash=None, state="approved"),
            [],
            ServiceAddresses(radarr="https://home.example/radarr", qbittorrent="http://q:8080"),
            {"Radarr": "https://home.example/radarr/movie/1052946"},
            id="no torrent yet: no qBittorrent link",
        ),
        pytest.param(
            violet(tmdb_id=None),
            [],
            EVERYWHERE,
            {"qBittorrent": "http://10.0.0.5:8080/"},
            id="a movie without a TMDB id has no Jellyseerr or Radarr page",
        ),
        pytest.param(
            horimiya(),
            [episode(1), episode(2)],
            EVERYWHERE,
            {
                "Jellyseerr": "https://requests.example/tv/110316",
                "Sonarr": "https://home.example/sonarr/series/horimiya",
                "qBittorrent": "http://10.0.0.5:8080/",
            },
            id="a series: Sonarr's page by the slug its webhook sent, never Radarr",
        ),
        pytest.param(
            horimiya(sonarr_slug=None),
            [],
            ServiceAddresses(sonarr="http://10.0.0.5:8989/"),
            {"Sonarr": "http://10.0.0.5:8989/add/new?term=tvdb:384435"},
            id="slug not known yet: Sonarr's look-up by TVDB id",
        ),
        pytest.param(
            horimiya(sonarr_slug=None, tvdb_id=None),
            [],
            ServiceAddresses(sonarr="http://10.0.0.5:8989/"),
            {},
            id="neither slug nor TVDB id: no Sonarr link",
        ),
        pytest.param(
            horimiya(sonarr_slug="../../settings/general"),
            [],
            ServiceAddresses(sonarr="https://home.example/sonarr"),
            {"Sonarr": "https://home.example/sonarr/add/new?term=tvdb:384435"},
            id="a slug that is not a slug never goes into the path",
        ),
        pytest.param(
            horimiya(sonarr_slug="horimiya?x=<script>"),
            [],
            ServiceAddresses(sonarr="https://home.example/sonarr"),
            {"Sonarr": "https://home.example/sonarr/add/new?term=tvdb:384435"},
            id="a slug with a query in it is refused too",
        ),
        pytest.param(
            horimiya(jellyfin_id="series-id"),
            [episode(1, jellyfin_id="episode-1")],
            ServiceAddresses(jellyfin="https://watch.example/jf/"),
            {"Play in Jellyfin": "https://watch.example/jf/web/index.html#/details?id=series-id"},
            id="the series' own item first",
        ),
        pytest.param(
            horimiya(),
            [
                episode(3, jellyfin_id="episode-3", state="available"),
                episode(2, jellyfin_id="episode-2", state="deleted"),
                episode(4, jellyfin_id="episode-4", state="available"),
                episode(1, state="downloading"),
            ],
            ServiceAddresses(jellyfin="https://watch.example"),
            {"Play in Jellyfin": "https://watch.example/web/index.html#/details?id=episode-3"},
            id="only episodes announced: the first one Jellyfin has that is not deleted",
        ),
        pytest.param(
            violet(jellyfin_id="0f8e7d6c", state="deleted"),
            [],
            ServiceAddresses(jellyfin="https://watch.example"),
            {},
            id="nothing to play once deleted",
        ),
        pytest.param(
            violet(jellyfin_id="a&b#c/../d e"),
            [],
            ServiceAddresses(jellyfin="https://watch.example"),
            {
                "Play in Jellyfin": "https://watch.example/web/index.html#/details"
                "?id=a%26b%23c%2F..%2Fd%20e"
            },
            id="a Jellyfin id is escaped, never pasted",
        ),
    ],
)
def test_each_request_links_to_the_pages_that_show_it(
    request_row: RequestRow,
    episodes: list[EpisodeRow],
    addresses: ServiceAddresses,
    links: dict[str, str],
) -> None:
    found = request_links(request_row, summarize(episodes), addresses)
    assert found == links
    assert list(found) == [name for name in LINK_NAMES if name in found], "in journey order"


def test_jellyfin_details_needs_an_address() -> None:
    assert jellyfin_details(None, "0f8e7d6c") is None
    assert jellyfin_details("https://watch.example/", "0f8e7d6c") == (
        "https://watch.example/web/index.html#/details?id=0f8e7d6c"
    )


@given(
    slug=st.text(max_size=30),
    item_id=st.text(min_size=1, max_size=30),
    password=st.text(alphabet=st.characters(blacklist_characters="/?#@[]"), max_size=12),
)
def test_no_link_leaves_its_service_or_shows_a_password(
    slug: str, item_id: str, password: str
) -> None:
    addresses = ServiceAddresses(
        sonarr=f"https://admin:{password}@home.example/sonarr/",
        jellyfin=f"https://admin:{password}@home.example/jellyfin",
        qbittorrent=f"http://admin:{password}@home.example:8080",
    )
    row = horimiya(sonarr_slug=slug, jellyfin_id=item_id, download_hash=HASH)
    links = request_links(row, NO_EPISODES, addresses)
    assert set(links) == {"Sonarr", "qBittorrent", "Play in Jellyfin"}
    for name, url in links.items():
        parts = urllib.parse.urlsplit(url)
        assert (parts.username, parts.password, parts.hostname) == (None, None, "home.example")
        assert "/.." not in parts.path, name
    sonarr = urllib.parse.urlsplit(links["Sonarr"])
    assert sonarr.path.startswith("/sonarr/series/") or sonarr.path == "/sonarr/add/new"
    played = urllib.parse.urlsplit(links["Play in Jellyfin"])
    assert played.path == "/jellyfin/web/index.html"
    fragment_query = urllib.parse.parse_qs(played.fragment.partition("?")[2])
    assert fragment_query == {"id": [item_id]}, "the id arrives as it is, in one piece"
