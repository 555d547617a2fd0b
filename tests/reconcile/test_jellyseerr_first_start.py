"""A first start with Jellyseerr's API: what is in flight comes back, what is finished does not.

Jellyseerr before 2.6 keeps a finished request at APPROVED (2) for good, and ``media.status``
describes the whole show: a show with a season nobody requested is PARTIALLY_AVAILABLE (4)
however finished the request for its other seasons is. The requested seasons' own status
(``media.seasons`` of ``GET /api/v1/request/{id}``; Seerr 2.6+ also completes each season
request) tells a finished TV request from one in flight.
"""

from __future__ import annotations

import time

from tests.reconcile.test_catch_up_e2e import TMDB, TVDB, fakes, rounds, start

AVAILABLE, PROCESSING, PARTIAL, UNKNOWN = 5, 3, 4, 1
APPROVED, COMPLETED = 2, 5


async def test_a_finished_tv_request_of_a_partly_available_show_is_not_brought_back(
    sqlite_url: str,
) -> None:
    async with fakes() as stack:
        seerr = stack.jellyseerr
        # Horimiya S1, approved 90 days ago and long in the library; its S2 was never asked for.
        seerr.add_request(
            60, media_type="tv", tmdb_id=110316, tvdb_id=384435, title="Horimiya", year=2021,
            status=APPROVED, media_status=PARTIAL, seasons=(1,), at=time.time() - 90 * 86400,
            media_seasons={1: AVAILABLE, 2: UNKNOWN},
        )  # fmt: skip
        # Sherlock S3 asked for while S2 is in the library: in flight.
        seerr.add_request(
            61, media_type="tv", tmdb_id=TMDB, tvdb_id=TVDB, title="Sherlock", year=2010,
            status=APPROVED, media_status=PARTIAL, seasons=(3,),
            media_seasons={2: AVAILABLE, 3: PROCESSING},
        )  # fmt: skip
        # Seerr 2.6+: seasons 1 and 2 asked for, season 1 completed on its own, 2 on its way.
        seerr.add_request(
            62, media_type="tv", tmdb_id=1399, tvdb_id=121361, title="Game of Thrones",
            year=2011, status=APPROVED, media_status=PARTIAL, seasons=(1, 2),
            season_statuses={1: COMPLETED, 2: APPROVED},
            media_seasons={1: AVAILABLE, 2: PROCESSING},
        )  # fmt: skip
        # Seerr 2.6+: every season completed, the request itself too (status 5).
        seerr.add_request(
            63, media_type="tv", tmdb_id=1668, tvdb_id=79168, title="Friends", year=1994,
            status=COMPLETED, media_status=PARTIAL, seasons=(1,),
            media_seasons={1: AVAILABLE, 2: UNKNOWN},
        )  # fmt: skip
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            items = {item["title"]: item for item in await service.requests()}
            assert sorted(items) == ["Game of Thrones", "Sherlock"], sorted(items)
            assert {item["state"] for item in items.values()} == {"approved"}
            ids = {title: item["jellyseerr_request_id"] for title, item in items.items()}
            assert ids == {"Game of Thrones": 62, "Sherlock": 61}
            health = (await service.http.get("/health")).json()
            assert health["reconciler"]["services"]["jellyseerr"]["last_error"] is None
            # Later rounds leave it so (and ask for each request's details only once).
            await rounds(service)
            assert sorted(i["title"] for i in await service.requests()) == sorted(items)
            asked = [path for path, _ in seerr.calls if path == "/api/v1/request/60"]
            assert len(asked) == 1, asked


async def test_a_request_whose_season_is_still_partly_available_comes_back(
    sqlite_url: str,
) -> None:
    """A season some of whose episodes are in the library (an airing season) is in flight."""
    async with fakes() as stack:
        stack.jellyseerr.add_request(
            64, media_type="tv", tmdb_id=TMDB, tvdb_id=TVDB, title="Sherlock", year=2010,
            status=APPROVED, media_status=PARTIAL, seasons=(2, 3),
            media_seasons={2: AVAILABLE, 3: PARTIAL},
        )  # fmt: skip
        async with start(sqlite_url, stack) as service:
            await rounds(service)
            (item,) = await service.requests()
            assert (item["jellyseerr_request_id"], item["state"]) == (64, "approved")
