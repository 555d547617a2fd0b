"""Paging the request list: ``next_after`` walks every request once, as deep as it goes."""

from __future__ import annotations

import pytest
from status_tracker.storage import SaveRequest

from status_tracker.domain import RequestRow
from tests.support.service import API_TOKEN, RunningService

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def stored(service: RunningService, count: int) -> None:
    # Pairs share a creation time, so the cursor must tell them apart by id.
    await service.system.store.commit(
        [
            SaveRequest(
                row=RequestRow(
                    id=n,
                    media_type="tv" if n % 3 else "movie",
                    title=f"Show {n}",
                    state="available" if n % 2 else "downloading",
                    created_at=1_700_000_000.0 + n // 2,
                )
            )
            for n in range(1, count + 1)
        ]
    )


@pytest.mark.parametrize("filters", [{}, {"media_type": "tv"}, {"state": "available", "q": "SHOW"}])
async def test_following_next_after_lists_what_offsets_list(
    service: RunningService, filters: dict[str, str]
) -> None:
    await stored(service, 23)
    whole = await service.api("/api/requests", limit=500, **filters)
    walked: list[int] = []
    page = await service.api("/api/requests", limit=4, **filters)
    while True:
        assert page["total"] == whole["total"]
        walked += [item["id"] for item in page["items"]]
        if page["next_after"] is None:
            break
        page = await service.api("/api/requests", limit=4, after=page["next_after"], **filters)
    assert walked == [item["id"] for item in whole["items"]]
    assert len(walked) == whole["total"] > 0


async def test_the_last_page_has_no_next_after(service: RunningService) -> None:
    await stored(service, 3)
    assert (await service.api("/api/requests", limit=3))["next_after"] is not None
    assert (await service.api("/api/requests", limit=4))["next_after"] is None


@pytest.mark.parametrize("after", ["x", "17", "1.5_", "_4", "nan_3", "inf_2", "1.5_-1", "1.5_²"])
async def test_a_cursor_that_no_page_gave_is_a_json_400_naming_after(
    service: RunningService, after: str
) -> None:
    response = await service.http.get("/api/requests", params={"after": after}, headers=AUTH)
    assert response.status_code == 400
    assert "after" in response.json()["error"]
