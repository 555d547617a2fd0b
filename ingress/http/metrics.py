"""``GET /metrics``: the service in the Prometheus text format.

Counters and histograms that change where things happen (webhooks answered, poll and verifier
rounds) live in one ``Metrics`` registry per running service; everything else is read from the
running system at scrape time: ``/health``'s own record (supervision tree, dependencies, inbox,
dead letters, notifications) and a few counts from the database. Behind the API token unless
``ST_METRICS_PUBLIC=true``.
"""

from __future__ import annotations

import functools
import time
import typing
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from quart import Response, request
from quart_trio import QuartTrio

from .auth import Access
from .errors import unauthorized

if typing.TYPE_CHECKING:
    from .service import Service

# ``*_created`` series only add noise to a scrape; the service owns its process.
disable_created_metrics()

PREFIX = "status_tracker"
# The classic text format every Prometheus (2.x and 3.x) and agent reads.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_OUTCOMES = {
    401: "unauthorized",
    400: "invalid",
    404: "unknown_source",
    413: "too_large",
    429: "overloaded",
    503: "unavailable",
}


@typing.final
class Metrics:
    """The counters and histograms that move as things happen, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhooks = Counter(
            f"{PREFIX}_webhooks",
            "Webhook deliveries answered, by source and outcome "
            "(accepted, duplicate, test, unauthorized, invalid, too_large, unavailable, …).",
            ("source", "outcome"),
            registry=self.registry,
        )
        self.poll_duration = Histogram(
            f"{PREFIX}_poll_duration_seconds",
            "Duration of one round of polling the download client.",
            ("client",),
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )
        self.verify_duration = Histogram(
            f"{PREFIX}_verify_duration_seconds",
            "Duration of one round of the availability verifier (Jellyfin look-ups).",
            buckets=_DURATION_BUCKETS,
            registry=self.registry,
        )

    def time_calls(self, owner: object, method: str, observe: Callable[[float], None]) -> None:
        """Make every call of ``owner.method`` (an async method) report its duration.

        Does nothing when ``owner`` has no such method, so a renamed round costs the metric,
        never the service.
        """
        original = getattr(owner, method, None)
        if original is None or not callable(original):
            return

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await typing.cast(Callable[..., Awaitable[Any]], original)(*args, **kwargs)
            finally:
                observe(time.perf_counter() - started)

        setattr(owner, method, timed)


def webhook_outcome(status: int, body: Mapping[str, Any] | None) -> str:
    """The ``outcome`` label of a webhook answer."""
    if status == 200:
        body = body or {}
        if body.get("test"):
            return "test"
        return "duplicate" if body.get("duplicate") else "accepted"
    return _OUTCOMES.get(status, "error")


def install(app: QuartTrio, service: Service, access: Access) -> None:
    metrics = service.metrics

    @app.get("/metrics")
    async def scrape() -> Any:
        if not service.config.metrics_public and not await access.api(request):
            return unauthorized()
        snapshot = await read_snapshot(service)
        families = list(metrics.registry.collect()) + list(snapshot_families(snapshot))
        text = generate_latest(_Families(families))
        return Response(text, status=200, content_type=CONTENT_TYPE)


@typing.final
class _Families:
    """A collector (what ``generate_latest`` reads) over metric families already gathered."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


async def read_snapshot(service: Service) -> dict[str, Any]:
    """Everything the scrape reports that is read, not counted: /health and a few counts."""
    _status, health = await service.health()
    snapshot: dict[str, Any] = {"health": health}
    if health.get("database", {}).get("reachable"):
        store = service.store
        try:
            snapshot["requests"] = await store.requests_by_state()
            snapshot["episodes"] = await store.episodes_by_state()
            snapshot["downloads"] = await store.downloads_by_state()
            snapshot["oldest_mail_at"] = await store.oldest_unapplied_mail_at()
        except Exception:  # the database went away mid-scrape: report what /health said
            pass
    snapshot["now"] = service.clock.now()
    return snapshot


def snapshot_families(snapshot: Mapping[str, Any]) -> Iterator[Metric]:
    """The scrape-time metrics, from what ``read_snapshot`` gathered."""
    health = snapshot["health"]
    yield _gauge("up", "1 while the service can work (/health is not failing).",
                 1 if health.get("status") != "failing" else 0)  # fmt: skip
    database = health.get("database", {})
    yield _gauge(
        "database_up", "1 while the database answers.", 1 if database.get("reachable") else 0
    )
    yield _counter("database_outages", "Database outages since start.", database.get("outages", 0))
    yield _gauge("uptime_seconds", "Seconds since the service started.", health.get("uptime_s", 0))
    yield from _inbox(health, snapshot)
    yield from _supervision(health.get("supervisor"))
    yield from _dependencies(health.get("dependencies", {}))
    yield from _notifications(health.get("notifications"))
    yield from _states(snapshot)


def _inbox(health: Mapping[str, Any], snapshot: Mapping[str, Any]) -> Iterator[Metric]:
    inbox = health.get("inbox") or {}
    if "pending" in inbox:
        yield _gauge("inbox_pending", "Mail rows (webhooks and hand-offs) not yet applied.",
                     inbox["pending"])  # fmt: skip
    oldest = snapshot.get("oldest_mail_at")
    if "oldest_mail_at" in snapshot:
        age = max(0.0, snapshot["now"] - oldest) if oldest is not None else 0.0
        yield _gauge("inbox_oldest_age_seconds", "Age of the oldest mail row not yet applied.", age)
    dispatcher = health.get("dispatcher") or {}
    yield _counter("mail_applied", "Mail rows the dispatcher applied since start.",
                   dispatcher.get("dispatched", 0))  # fmt: skip
    yield _counter("mail_dead_lettered", "Mail rows the dispatcher gave up on since start.",
                   dispatcher.get("dead_lettered", 0))  # fmt: skip
    letters = (health.get("dead_letters") or {}).get("count")
    if letters is not None:
        yield _gauge("dead_letters", "Dead letters waiting for a person.", letters)
    refused = health.get("refused_transitions")
    if refused is not None:
        yield _gauge("refused_transitions", "Refused transitions on the timelines.", refused)


def _supervision(tree: Mapping[str, Any] | None) -> Iterator[Metric]:
    restarts = CounterMetricFamily(
        f"{PREFIX}_actor_restarts", "Restarts of each supervised actor or task.", labels=["actor"]
    )
    crashes = CounterMetricFamily(
        f"{PREFIX}_actor_crashes", "Crashes of each supervised actor or task.", labels=["actor"]
    )
    mailbox_used = GaugeMetricFamily(
        f"{PREFIX}_mailbox_used",
        "Messages waiting in an actor's mailbox (a registry: its fullest actor's).",
        labels=["actor"],
    )
    mailbox_size = GaugeMetricFamily(
        f"{PREFIX}_mailbox_size", "An actor's mailbox bound.", labels=["actor"]
    )
    live = GaugeMetricFamily(
        f"{PREFIX}_registry_actors", "Live actors in each registry.", labels=["registry"]
    )
    spawned = CounterMetricFamily(
        f"{PREFIX}_registry_spawned",
        "Actors a registry started (one per request or torrent, again after passivation).",
        labels=["registry"],
    )
    in_window = GaugeMetricFamily(
        f"{PREFIX}_supervisor_restarts_in_window",
        "Restarts counted against a supervisor's or registry's intensity right now.",
        labels=["supervisor"],
    )

    def walk(node: Mapping[str, Any]) -> None:
        name = str(node.get("id", "?"))
        children = node.get("children") or ()
        if "active" in node:  # a registry: one actor per key, summed up (keys are unbounded)
            live.add_metric([name], node["active"])
            in_window.add_metric([name], node.get("restarts_in_window", 0))
            used = [c.get("mailbox_used", 0) for c in children]
            mailbox_used.add_metric([name], max(used, default=0))
            spawned.add_metric([name], node.get("spawned_total", 0))
            return
        if "strategy" in node:  # a supervisor
            in_window.add_metric([name], node.get("restarts_in_window", 0))
            for child in children:
                walk(child)
            return
        restarts.add_metric([name], node.get("restarts", 0))
        crashes.add_metric([name], node.get("crashes", 0))
        if "mailbox_used" in node:
            mailbox_used.add_metric([name], node["mailbox_used"])
            mailbox_size.add_metric([name], node.get("mailbox_max", 0))

    if tree:
        walk(tree)
    yield from (restarts, crashes, mailbox_used, mailbox_size, live, spawned, in_window)


def _dependencies(dependencies: Mapping[str, Any]) -> Iterator[Metric]:
    up = GaugeMetricFamily(
        f"{PREFIX}_dependency_up",
        "1 when a configured dependency last answered well, 0 when it failed "
        "(absent until first asked).",
        labels=["dependency"],
    )
    errors = CounterMetricFamily(
        f"{PREFIX}_dependency_errors", "Failed rounds with each dependency.", labels=["dependency"]
    )
    for name, record in sorted(dependencies.items()):
        if not record.get("configured"):
            continue
        if record.get("reachable") is not None:
            up.add_metric([name], 1 if record["reachable"] else 0)
        if "errors" in record:
            errors.add_metric([name], record["errors"])
    yield from (up, errors)


def _notifications(section: Mapping[str, Any] | None) -> Iterator[Metric]:
    if not section or not section.get("configured"):
        return
    yield _counter("notifications_sent", "Notification messages delivered since start.",
                   section.get("messages_sent", 0))  # fmt: skip
    yield _counter("notifications_failed", "Failed deliveries to a target since start.",
                   section.get("delivery_failures", 0))  # fmt: skip
    if section.get("pending") is not None:
        yield _gauge("notifications_pending", "Outbox rows waiting to be delivered.",
                     section["pending"])  # fmt: skip


def _states(snapshot: Mapping[str, Any]) -> Iterator[Metric]:
    if "requests" in snapshot:
        requests = GaugeMetricFamily(
            f"{PREFIX}_requests", "Requests by media type and state.",
            labels=["media_type", "state"],
        )  # fmt: skip
        for row in snapshot["requests"]:
            requests.add_metric([row["media_type"], row["state"]], row["n"])
        yield requests
    if "episodes" in snapshot:
        episodes = GaugeMetricFamily(f"{PREFIX}_episodes", "Episodes by state.", labels=["state"])
        for row in snapshot["episodes"]:
            episodes.add_metric([row["state"]], row["n"])
        yield episodes
    if "downloads" in snapshot:
        downloads = GaugeMetricFamily(
            f"{PREFIX}_downloads",
            "Downloads by our state and the download client's own word for it.",
            labels=["state", "client_state"],
        )
        for row in snapshot["downloads"]:
            downloads.add_metric([row["state"], row["client_state"] or ""], row["n"])
        yield downloads


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=value)
