"""Webhook sequences that take a movie and a season pack to available, for notification tests."""

from __future__ import annotations

from tests.support.packs import lycoris_episodes_added_to_jellyfin
from tests.support.service import RunningService

MOVIE_TITLE = "Violet Evergarden: Recollections (2021) is ready"
MOVIE_JELLYFIN_ID = "0f8e7d6c5b4a49382716a5b4c3d2e1f0"
PACK_TITLE = "Lycoris Recoil S01: 13 episodes ready"


async def movie_to_available(service: RunningService) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("radarr/grab.json", movie__tags=[])
    await service.post_fixture("radarr/download.json", movie__tags=[])
    await service.post_fixture("jellyfin/item_added_movie.json")
    await service.settled()


async def pack_to_available(service: RunningService) -> None:
    """Lycoris Recoil: one pack of 13 episodes, each reported by Jellyfin on its own."""
    await service.post_fixture("captured/jellyseerr-tv-auto-approved.json")
    await service.post_fixture("captured/sonarr-grab.json")
    await service.post_fixture("captured/sonarr-import.json")
    await service.settled()
    await lycoris_episodes_added_to_jellyfin(service)
    await service.settled()
