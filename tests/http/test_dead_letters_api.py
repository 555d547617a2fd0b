"""Dead letters through the authenticated API: listed with their bodies, retried, discarded."""

from __future__ import annotations

import json

from tests.support.dead_letters import dead_letter
from tests.support.fixtures import load_fixture
from tests.support.service import API_TOKEN, RunningService

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


async def listed(service: RunningService, **params: str) -> dict:
    response = await service.http.get("/api/dead-letters", params=params, headers=AUTH)
    assert response.status_code == 200
    return response.json()


async def test_a_dead_letter_is_listed_with_its_body_retried_and_applied(
    service: RunningService,
) -> None:
    grab = json.dumps(load_fixture("radarr/grab.json"))
    letter_id = await dead_letter(service, grab)
    page = await listed(service)
    assert (page["total"], page["limit"], page["offset"]) == (1, 50, 0)
    (item,) = page["items"]
    assert item == {
        "id": letter_id,
        "at": item["at"],
        "actor": "dispatch",
        "error": "RuntimeError: the cause, since fixed",
        "mail_id": 41,
        "source": "radarr",
        "kind": "Grab",
        "body": grab,
    }
    assert item["at"].endswith("Z")

    retried = await service.http.post(f"/api/dead-letters/{letter_id}/retry", headers=AUTH)
    assert (retried.status_code, retried.json()) == (202, {"accepted": True})
    request = await service.wait_for_request(
        lambda r: r["source"] == "radarr", what="the retried grab to create its request"
    )
    assert "grabbed" in [entry["event"] for entry in request["timeline"]]
    assert (await listed(service))["items"] == []


async def test_a_dead_letter_without_a_body_cannot_be_retried_but_can_be_discarded(
    service: RunningService,
) -> None:
    letter_id = await dead_letter(service, None)
    retried = await service.http.post(f"/api/dead-letters/{letter_id}/retry", headers=AUTH)
    assert retried.status_code == 409
    assert "no message body" in retried.json()["error"]

    discarded = await service.http.delete(f"/api/dead-letters/{letter_id}", headers=AUTH)
    assert discarded.status_code == 204
    assert (await listed(service))["total"] == 0
    again = await service.http.delete(f"/api/dead-letters/{letter_id}", headers=AUTH)
    assert again.status_code == 404
    assert "no dead letter" in again.json()["error"]


async def test_dead_letters_page_newest_first(service: RunningService) -> None:
    ids = [await dead_letter(service, f'{{"n": {n}}}') for n in range(3)]
    page = await listed(service, limit="2", offset="1")
    assert [item["id"] for item in page["items"]] == [ids[1], ids[0]]
    assert page["total"] == 3


async def test_unknown_dead_letters_are_json_404s(service: RunningService) -> None:
    for path in ("/api/dead-letters/7/retry", "/api/dead-letters/²/retry"):
        response = await service.http.post(path, headers=AUTH)
        assert response.status_code == 404
        assert "no dead letter" in response.json()["error"]


async def test_dead_letters_need_the_api_token(service: RunningService) -> None:
    letter_id = await dead_letter(service, '{"secret": "webhook body"}')
    for method, path in (
        ("GET", "/api/dead-letters"),
        ("POST", f"/api/dead-letters/{letter_id}/retry"),
        ("DELETE", f"/api/dead-letters/{letter_id}"),
    ):
        response = await service.http.request(method, path, params={"token": "wrong"})
        assert response.status_code == 401
        assert "webhook body" not in response.text
    assert (await listed(service))["total"] == 1
