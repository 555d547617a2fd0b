"""``GET /metrics``: Prometheus text that a real parser reads, and counters that move."""

from __future__ import annotations

from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.notifications.flows import movie_to_available
from tests.support.receiver import receiving
from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(service: RunningService) -> Samples:
    response = await service.http.get("/metrics", headers=AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_need_the_api_token(service: RunningService) -> None:
    response = await service.http.get("/metrics")
    assert response.status_code == 401
    assert response.json() == {"error": "missing or wrong API token"}
    assert (await service.http.get("/metrics", params={"token": API_TOKEN})).status_code == 200


async def test_metrics_can_be_public(sqlite_url: str) -> None:
    async with started_service(sqlite_url, metrics_public=True) as service:
        response = await service.http.get("/metrics")
    assert response.status_code == 200
    assert "status_tracker_up 1.0" in response.text


async def test_counters_move_with_a_movie_flow(service: RunningService) -> None:
    before = await scrape(service)
    assert value(before, "status_tracker_up") == 1
    assert value(before, "status_tracker_database_up") == 1
    assert value(before, "status_tracker_inbox_pending") == 0
    assert value(before, "status_tracker_mail_applied_total") == 0

    await movie_to_available(service)
    duplicate = await service.post_webhook("radarr", {"eventType": "Test"})
    assert duplicate.status_code == 200
    assert (await service.post_webhook("radarr", {}, token="wrong")).status_code == 401
    after = await scrape(service)

    webhooks = "status_tracker_webhooks_total"
    assert value(after, webhooks, source="jellyseerr", outcome="accepted") == 1
    assert value(after, webhooks, source="radarr", outcome="accepted") == 2
    assert value(after, webhooks, source="jellyfin", outcome="accepted") == 1
    assert value(after, webhooks, source="radarr", outcome="test") == 1
    assert value(after, webhooks, source="radarr", outcome="unauthorized") == 1
    assert value(after, "status_tracker_mail_applied_total") >= 4
    assert value(after, "status_tracker_requests", media_type="movie", state="available") == 1
    assert value(after, "status_tracker_downloads", state="queued", client_state="") >= 0
    assert value(after, "status_tracker_inbox_oldest_age_seconds") == 0
    assert value(after, "status_tracker_dead_letters") == 0
    restarts = [k for k in after if k[0] == "status_tracker_actor_restarts_total"]
    assert (("status_tracker_actor_restarts_total", (("actor", "dispatcher"),))) in restarts
    assert value(after, "status_tracker_registry_actors", registry="requests") >= 1
    assert value(after, "status_tracker_mailbox_size", actor="service-sync") > 0


async def test_a_webhook_sent_twice_counts_as_a_duplicate(service: RunningService) -> None:
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    await service.post_fixture("jellyseerr/media_auto_approved_movie.json")
    samples = await scrape(service)
    webhooks = "status_tracker_webhooks_total"
    assert value(samples, webhooks, source="jellyseerr", outcome="accepted") == 1
    assert value(samples, webhooks, source="jellyseerr", outcome="duplicate") == 1


async def test_notifications_and_dependencies_are_reported(sqlite_url: str) -> None:
    with receiving() as receiver:
        async with started_service(
            sqlite_url,
            notify_urls=(receiver.url(),),
            notify_batch_s=0.2,
            jellyfin_url="http://127.0.0.1:9",
            jellyfin_api_key="k",
            verify_interval_s=0.1,
        ) as service:
            await movie_to_available(service)

            async def reported() -> bool:
                samples = await scrape(service)
                return (
                    value(samples, "status_tracker_notifications_sent_total") == 1
                    and ("status_tracker_dependency_up", (("dependency", "jellyfin"),)) in samples
                    and value(samples, "status_tracker_verify_duration_seconds_count") >= 1
                )

            await wait_until(reported, what="notifications and the verifier on /metrics")
            samples: dict[Any, float] = await scrape(service)
    assert value(samples, "status_tracker_notifications_failed_total") == 0
    assert value(samples, "status_tracker_notifications_pending") == 0
    assert value(samples, "status_tracker_dependency_up", dependency="jellyfin") == 0
    assert value(samples, "status_tracker_dependency_errors_total", dependency="jellyfin") >= 1
