"""Ids, pages, searches and bodies are read strictly: a bad value is a 4xx JSON, never a 500."""

from __future__ import annotations

import json

import pytest
from status_tracker.storage import SaveRequest

from status_tracker.domain import RequestRow
from tests.support.service import API_TOKEN, RunningService

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
TOO_BIG_ID = str(2**63)


def unicode_digits(number: int) -> str:
    """``number`` in MATHEMATICAL DOUBLE-STRUCK digits: ``str.isdigit`` says yes, we say no."""
    return "".join(chr(0x1D7D8 + int(d)) for d in str(number))


async def a_movie(service: RunningService) -> dict:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.settled()
    (item,) = await service.requests()
    return item


@pytest.mark.parametrize("raw_id", ["²", unicode_digits(1), TOO_BIG_ID, "-1", "+1", "1.0", " 1"])
async def test_a_path_id_that_is_no_id_is_a_json_404(service: RunningService, raw_id: str) -> None:
    response = await service.http.get(f"/api/requests/{raw_id}", headers=AUTH)
    assert response.status_code == 404
    assert "no request" in response.json()["error"]


async def test_deleting_with_unicode_digits_deletes_nothing(service: RunningService) -> None:
    movie = await a_movie(service)
    path = f"/api/requests/{unicode_digits(movie['id'])}"
    assert (await service.http.delete(path, headers=AUTH)).status_code == 404
    assert (await service.http.delete(f"{path}/episodes", headers=AUTH)).status_code == 404
    await service.settled()
    assert (await service.request(movie["id"]))["state"] == movie["state"] != "deleted"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"offset": TOO_BIG_ID}, "offset"),
        ({"offset": "-1"}, "offset"),
        ({"limit": "²"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "0"}, "limit"),
    ],
)
@pytest.mark.parametrize("path", ["/api/requests", "/api/dead-letters"])
async def test_a_bad_page_parameter_is_a_json_400_naming_it(
    service: RunningService, path: str, params: dict[str, str], named: str
) -> None:
    response = await service.http.get(path, params=params, headers=AUTH)
    assert response.status_code == 400
    assert named in response.json()["error"]


async def test_the_title_search_treats_wildcards_as_text(service: RunningService) -> None:
    titles = ["100% Wolf", "Wolf_Children", "Wolfwalkers", "Chainsaw Man"]
    await service.system.store.commit(
        [
            SaveRequest(row=RequestRow(id=n, media_type="movie", title=title, created_at=n))
            for n, title in enumerate(titles, start=1)
        ]
    )

    async def found(q: str) -> list[str]:
        return sorted(item["title"] for item in await service.requests(q=q))

    assert await found("%") == ["100% Wolf"]
    assert await found("_") == ["Wolf_Children"]
    assert await found("wolf") == ["100% Wolf", "Wolf_Children", "Wolfwalkers"]


async def test_a_webhook_nested_100_000_deep_is_a_400_and_stores_nothing(
    service: RunningService,
) -> None:
    response = await service.post_webhook("radarr", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]
    assert (await service.system.store.mail_counts())["webhooks"] == 0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"episodes": [{"season": 2**31, "episode": 1}]}, "season"),
        ({"episodes": [{"season": 1, "episode": -(2**31) - 1}]}, "episode"),
        ({"episodes": [{"season": 1, "episode": True}]}, "episode"),
        ({"episodes": [{"season": "1", "episode": 1}]}, "season"),
        ({"episodes": []}, "episodes"),
    ],
)
async def test_an_episode_deletion_with_bad_numbers_is_a_400_naming_them(
    service: RunningService, body: object, named: str
) -> None:
    movie = await a_movie(service)
    response = await service.http.request(
        "DELETE", f"/api/requests/{movie['id']}/episodes", json=body, headers=AUTH
    )
    assert response.status_code == 400
    assert named in response.json()["error"]


async def test_an_episode_deletion_body_nested_too_deep_is_a_400(service: RunningService) -> None:
    movie = await a_movie(service)
    body = json.dumps({"episodes": [{"season": [[[[1]]]]}]}).replace(
        "[[[[1]]]]", "[" * 5000 + "]" * 5000
    )
    response = await service.http.request(
        "DELETE", f"/api/requests/{movie['id']}/episodes", content=body, headers=AUTH
    )
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]


async def test_an_episode_deletion_is_authenticated_before_its_body_is_read(
    service: RunningService,
) -> None:
    movie = await a_movie(service)
    response = await service.http.request(
        "DELETE", f"/api/requests/{movie['id']}/episodes", content=b"not json"
    )
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong API token"}
