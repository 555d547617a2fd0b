"""Links out through the real app: each configured service's page of a request is linked, a
service that is not configured gets no link, and no link shows a password."""

from __future__ import annotations

import pytest

from status_tracker.config import Config, ConfigError
from status_tracker.domain.links import ServiceAddresses
from tests.support.service import API_TOKEN, started_service

JELLYFIN_ITEM = "0f8e7d6c5b4a49382716a5b4c3d2e1f0"


def test_a_link_address_is_the_public_url_else_the_url_the_service_is_reached_at() -> None:
    config = Config.from_env(
        {
            "ST_SONARR_URL": "http://sonarr:8989",
            "ST_SONARR_API_KEY": "key",
            "ST_SONARR_PUBLIC_URL": "https://home.example/sonarr/",
            "ST_RADARR_URL": "http://radarr:7878/",
            "ST_RADARR_API_KEY": "key",
            "ST_QBITTORRENT_PUBLIC_URL": "https://home.example/qbittorrent",
            "ST_JELLYFIN_URL": "http://jellyfin:8096",
            "ST_JELLYFIN_API_KEY": "key",
            "ST_JELLYFIN_PUBLIC_URL": "https://watch.example",
        }
    )
    assert config.link_addresses == ServiceAddresses(
        jellyseerr=None,
        sonarr="https://home.example/sonarr",
        radarr="http://radarr:7878",
        qbittorrent="https://home.example/qbittorrent",
        jellyfin="https://watch.example",
    )


@pytest.mark.parametrize(
    "variable",
    [
        "ST_JELLYSEERR_PUBLIC_URL",
        "ST_SONARR_PUBLIC_URL",
        "ST_RADARR_PUBLIC_URL",
        "ST_QBITTORRENT_PUBLIC_URL",
    ],
)
def test_a_public_url_must_be_http(variable: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable} must start with http"):
        Config.from_env({variable: "home.example/service"})


async def test_a_series_links_to_each_configured_service_and_to_no_other(
    sqlite_url: str,
) -> None:
    async with started_service(
        sqlite_url,
        jellyseerr_public_url="https://requests.example",
        sonarr_public_url="https://home.example/sonarr",
        radarr_public_url="https://home.example/radarr",
        qbittorrent_public_url="http://admin:hunter2@10.0.0.5:8080",
    ) as service:
        await service.post_fixture("jellyseerr/media_approved_tv.json")
        await service.settled()
        (requested,) = await service.requests()
        assert requested["links"] == {
            "Jellyseerr": "https://requests.example/tv/110316",
            "Sonarr": "https://home.example/sonarr/add/new?term=tvdb:384435",
        }, "before Sonarr's webhook: its look-up by TVDB id, and no torrent to open yet"

        await service.post_fixture("sonarr/grab_season_pack.json")
        await service.settled()
        answer = await service.http.get(
            f"/api/requests/{requested['id']}", headers={"Authorization": f"Bearer {API_TOKEN}"}
        )
        detail = answer.json()
        assert detail["links"] == {
            "Jellyseerr": "https://requests.example/tv/110316",
            "Sonarr": "https://home.example/sonarr/series/horimiya",
            "qBittorrent": "http://10.0.0.5:8080/",
        }, "Radarr is configured but has no page of a series; Jellyfin is not configured"
        assert "hunter2" not in answer.text
        (item,) = await service.requests()
        assert item["links"] == detail["links"]


async def test_a_movie_jellyfin_has_links_to_play_it_and_nothing_unconfigured(
    sqlite_url: str,
) -> None:
    async with started_service(sqlite_url, jellyfin_public_url="https://watch.example/") as service:
        await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
        await service.post_fixture("radarr/grab.json", movie__tags=[])
        await service.settled()
        (grabbed,) = await service.requests()
        assert grabbed["links"] == {}, "Jellyfin does not have it yet; nothing else is configured"

        await service.post_fixture("radarr/download.json", movie__tags=[])
        await service.post_fixture("jellyfin/item_added_movie.json")
        await service.settled()
        detail = await service.request(grabbed["id"])
        assert detail["state"] == "available"
        assert detail["links"] == {
            "Play in Jellyfin": f"https://watch.example/web/index.html#/details?id={JELLYFIN_ITEM}"
        }
