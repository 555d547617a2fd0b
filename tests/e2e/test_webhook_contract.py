"""What the webhook endpoints answer to good, bad, repeated and test deliveries."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
import trio

from tests.support.fixtures import load_fixture
from tests.support.service import WEBHOOK_TOKEN, RunningService

ONE_MIB = 1024 * 1024


async def inbox_total(service: RunningService) -> int:
    return (await service.system.store.mail_counts())["webhooks"]


async def nothing_changed(service: RunningService) -> bool:
    await service.settled()
    return await inbox_total(service) == 0 and await service.requests() == []


@pytest.mark.parametrize(
    ("token", "reason"),
    [(None, "no secret"), ("wrong-secret", "wrong secret")],
)
async def test_a_webhook_without_the_right_secret_is_refused(
    service: RunningService, token: str | None, reason: str
) -> None:
    response = await service.post_webhook("radarr", load_fixture("radarr/grab.json"), token=token)
    assert response.status_code == 401, reason
    assert "secret" in response.json()["error"]
    assert await nothing_changed(service)


async def test_the_secret_is_accepted_as_basic_auth_password_or_query(
    service: RunningService,
) -> None:
    basic = base64.b64encode(f"sonarr:{WEBHOOK_TOKEN}".encode()).decode()
    body = json.dumps(load_fixture("radarr/grab.json"))
    as_basic = await service.http.post(
        "/webhooks/radarr", content=body, headers={"Authorization": f"Basic {basic}"}
    )
    as_query = await service.http.post(
        "/webhooks/radarr", content=body, params={"token": WEBHOOK_TOKEN}
    )
    assert as_basic.status_code == 200
    assert as_query.json() == {"accepted": True, "duplicate": True}


async def test_malformed_json_is_a_400_naming_the_problem(service: RunningService) -> None:
    response = await service.post_webhook("jellyseerr", b'{"notification_type": ')
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]
    assert await nothing_changed(service)


async def test_a_payload_missing_a_required_field_is_a_400_naming_it(
    service: RunningService,
) -> None:
    body = load_fixture("radarr/grab.json")
    del body["movie"]
    response = await service.post_webhook("radarr", body)
    assert response.status_code == 400
    assert "movie" in response.json()["error"]
    assert await nothing_changed(service)


async def test_a_body_over_one_mebibyte_is_refused_and_exactly_one_is_accepted(
    service: RunningService,
) -> None:
    text = json.dumps(load_fixture("jellyseerr/media_auto_approved_movie.json"))
    exact = text[:-1] + " " * (ONE_MIB - len(text)) + "}"
    assert len(exact.encode()) == ONE_MIB
    over = text[:-1] + " " * (ONE_MIB - len(text) + 1) + "}"
    refused = await service.post_webhook("jellyseerr", over)
    assert refused.status_code == 413
    assert await nothing_changed(service)
    accepted = await service.post_webhook("jellyseerr", exact)
    assert accepted.status_code == 200
    await service.settled()
    assert len(await service.requests()) == 1


async def test_the_size_limit_comes_after_the_secret(service: RunningService) -> None:
    response = await service.post_webhook("radarr", "x" * (ONE_MIB + 10), token=None)
    assert response.status_code == 401


@pytest.mark.parametrize(
    "fixture", ["radarr/test.json", "sonarr/test.json", "jellyseerr/test_notification.json"]
)
async def test_test_events_answer_200_and_change_nothing(
    service: RunningService, fixture: str
) -> None:
    response = await service.post_fixture(fixture)
    assert response.json()["accepted"] is True
    assert await nothing_changed(service)


async def test_an_unknown_event_is_recorded_and_changes_nothing(service: RunningService) -> None:
    body = load_fixture("radarr/grab.json")
    body["eventType"] = "ApplicationUpdate"
    response = await service.post_webhook("radarr", body)
    assert response.json() == {"accepted": True, "duplicate": False}
    await service.settled()
    assert await inbox_total(service) == 1
    assert await service.requests() == []


async def test_an_unknown_source_is_a_404(service: RunningService) -> None:
    response = await service.post_webhook("lidarr", {})
    assert response.status_code == 404
    assert "lidarr" in response.json()["error"]


async def test_the_same_webhook_twice_is_applied_once(service: RunningService) -> None:
    first = await service.post_fixture("radarr/grab.json")
    second = await service.post_fixture("radarr/grab.json")
    assert first.json() == {"accepted": True, "duplicate": False}
    assert second.json() == {"accepted": True, "duplicate": True}
    await service.settled()
    (item,) = await service.requests()
    detail = await service.request(item["id"])
    assert [t["event"] for t in detail["timeline"]].count("grabbed") == 1


async def test_the_same_webhook_delivered_concurrently_is_stored_once(
    service: RunningService,
) -> None:
    body = load_fixture("radarr/grab.json")
    answers: list[httpx.Response] = []

    async def deliver() -> None:
        answers.append(await service.post_webhook("radarr", body))

    async with trio.open_nursery() as nursery:
        for _ in range(10):
            nursery.start_soon(deliver)
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 9
    await service.settled()
    assert await inbox_total(service) == 1
    assert len(await service.requests()) == 1
