"""Wires the service together: storage, the root supervisor and its children, /health.

``run_service`` is what the console script runs, and what end-to-end tests start in-process.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import attrs
import cattrs
import hypercorn.config
import hypercorn.trio
import trio

from status_tracker.actors.availability_verifier import AvailabilityVerifier
from status_tracker.actors.clock import WallClock
from status_tracker.actors.dispatch.actor import Dispatcher
from status_tracker.actors.download_poller import DownloadPoller
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.episode_lister import EpisodeLister
from status_tracker.actors.media_request.actor import RequestActor
from status_tracker.actors.notifier import NotificationDelivery
from status_tracker.actors.reconcile.actor import Reconciler
from status_tracker.actors.recovery.reasons import problems as reason_problems
from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.actors.runtime import (
    ActorRef,
    ChildSpec,
    Registry,
    Restart,
    Supervisor,
    Wakeup,
    actor_child,
    task_child,
)
from status_tracker.actors.service_sync import ServiceSync
from status_tracker.actors.shoko_matcher.actor import ShokoMatcher
from status_tracker.actors.torrent.actor import TorrentActor
from status_tracker.clients import DownloadClient, redact_url
from status_tracker.clients.apprise_notifier import AppriseNotifier
from status_tracker.clients.jellyfin import JellyfinClient
from status_tracker.clients.jellyseerr import JellyseerrClient
from status_tracker.clients.qbittorrent import QBittorrentClient
from status_tracker.clients.radarr import RadarrClient
from status_tracker.clients.sonarr import SonarrClient
from status_tracker.ingress.http import LiveFeed, create_app
from status_tracker.ingress.http.burst import WebhookBurst
from status_tracker.ingress.http.items import RequestItems, reason_setup
from status_tracker.ingress.http.metrics import Metrics
from status_tracker.ingress.http.views import iso
from status_tracker.ingress.shoko import ShokoListener
from status_tracker.ingress.translate import translate
from status_tracker.storage import Store, open_store

from .config import Config
from .strict import storable
from .tokens import Tokens, ensure_tokens

logger = logging.getLogger(__name__)
_json = cattrs.Converter()

DATABASE_START_WAIT_S = 60.0
"""How long a start waits for a database that is not accepting connections yet."""

ACTOR_CALL_TIMEOUT_S = 60.0
"""How long a caller waits for an actor to apply one delivery."""


@typing.final
@attrs.define(eq=False)
class System:
    """The running service, as the HTTP app and the tests see it."""

    config: Config
    store: Store
    clock: WallClock
    feed: LiveFeed
    items: RequestItems
    tokens: Tokens
    webhook_slots: trio.CapacityLimiter
    webhook_burst: WebhookBurst
    requests: Registry
    torrents: Registry
    services: ActorRef
    services_spec: ChildSpec
    dispatcher: Dispatcher
    sweeper: RecoverySweeper
    poller: DownloadPoller | None = None
    verifier: AvailabilityVerifier | None = None
    lister: EpisodeLister | None = None
    shoko: ShokoListener | None = None
    shoko_matcher: ShokoMatcher | None = None
    radarr: RadarrClient | None = None
    jellyseerr: JellyseerrClient | None = None
    notifier: NotificationDelivery | None = None
    metrics: Metrics = attrs.field(factory=Metrics)
    reconciler: Reconciler | None = None
    root: Supervisor | None = None
    urls: list[str] = attrs.field(factory=list)
    started_at: float = attrs.field(factory=time.time)

    @property
    def webhook_token(self) -> str:
        return self.tokens.webhook

    @property
    def api_token(self) -> str:
        return self.tokens.api

    async def call_request(self, request_id: int, deliver: Deliver) -> object:
        return await self.requests.call(request_id, deliver, timeout=ACTOR_CALL_TIMEOUT_S)

    async def call_torrent(self, torrent_hash: str, deliver: Deliver) -> object:
        return await self.torrents.call(torrent_hash, deliver, timeout=ACTOR_CALL_TIMEOUT_S)

    async def cast_torrent(self, torrent_hash: str, deliver: Deliver) -> None:
        await self.torrents.cast(torrent_hash, deliver)

    def _shoko_health(self) -> dict[str, Any]:
        if self.shoko is None or self.shoko_matcher is None:
            return {"configured": False, "reachable": None}
        return {
            "configured": True,
            **_json.unstructure(self.shoko.status()),
            "matched_events": self.shoko_matcher.matched_events,
            "unmatched_events": self.shoko_matcher.unmatched_events,
            "resyncs": self.shoko_matcher.resyncs,
            "verify_failures": self.shoko_matcher.verify_failures,
        }

    async def send_test_notifications(self) -> list[dict[str, Any]] | None:
        if self.notifier is None:
            return None
        return [_json.unstructure(result) for result in await self.notifier.send_test()]

    async def _notifications_health(self) -> dict[str, Any]:
        """The outbox and the deliveries: counts, the last error; never a URL."""
        if self.notifier is None:
            return {"configured": False}
        stats = self.notifier.statistics()
        try:
            with trio.fail_after(3):
                counts: dict[str, Any] = await self.store.notification_counts()
        except Exception:
            counts = {"pending": None, "retrying": None, "sent": None, "failed": None}
        return {
            "configured": True,
            "status": "degraded" if counts["retrying"] else "ok",
            "targets": stats.targets,
            "events": list(self.config.notify_events),
            **counts,
            "messages_sent": stats.messages_sent,
            "delivery_failures": stats.delivery_failures,
            "last_error": stats.last_error,
            "last_error_at": iso(stats.last_error_at),
            "last_sent_at": iso(stats.last_sent_at),
        }

    def _backlog_health(self, pending: int | None) -> dict[str, Any]:
        """The replay of the mail waiting at start: the service answers while it runs."""
        backlog = self.dispatcher.backlog()
        return {
            "replaying": backlog.drained_at is None,
            "at_start": backlog.at_start,
            "pending": pending,
            "applied_since_start": backlog.applied,
            "started_at": iso(backlog.started_at),
            "drained_at": iso(backlog.drained_at),
        }

    async def health(self) -> tuple[int, dict[str, Any]]:
        """The service's health: 503 only when it cannot work at all."""
        database: dict[str, Any] = {"reachable": True}
        try:
            with trio.fail_after(3):
                await self.store.ping()
                mail = await self.store.mail_counts()
                letters, letter_count = await self.store.dead_letters(limit=5)
                refused = await self.store.count_timeline_events("transition_refused")
                waiting = await self.store.requests_in_states(("importing", "anime_matching"))
                now = self.clock.now()
                items = await self.store.waiting_items(
                    stale_before=now - self.items.setup.stuck_after
                )
        except Exception as exc:
            database = {"reachable": False, "error": storable(str(exc)) or type(exc).__name__}
            mail, letters, letter_count, refused, waiting = {}, [], None, None, []
            now, items = self.clock.now(), []
        outage = self.store.outage_statistics()
        database["outages"] = outage.outages
        database["unavailable_since"] = iso(outage.unavailable_since)
        database["dialect"] = self.store.dialect
        database["writer"] = _json.unstructure(self.store.writer_statistics())
        supervisor = self.root.statistics() if self.root else None
        gave_up = supervisor is None or supervisor.state == "stopped"
        dependencies = {
            "qbittorrent": _dependency(self.config.qbittorrent_url, self.poller),
            "jellyfin": _dependency(self.config.jellyfin_url, self.verifier),
            "shoko": self._shoko_health(),
            **(
                {"sonarr": _dependency(self.config.sonarr_url, self.lister)}
                if self.config.sonarr_url
                else {}
            ),
            **(
                {"radarr": _dependency(self.config.radarr_url, self.radarr)}
                if self.config.radarr_url
                else {}
            ),
            **(
                {"jellyseerr": _dependency(self.config.jellyseerr_url, self.jellyseerr)}
                if self.config.jellyseerr_url
                else {}
            ),
        }
        notifications = await self._notifications_health()
        failing = not database["reachable"] or gave_up
        # Sentences a person can act on: a dependency down, items stuck, items waiting on a
        # service that is not configured. Counts only, never titles: /health needs no secret.
        problems = [
            f"{name} is {d['status']}: {d.get('reason') or 'see its entry'}"
            for name, d in dependencies.items()
            if d.get("status") == "degraded"
        ] + reason_problems(items, self.items.setup, now=now)
        if notifications.get("status") == "degraded":
            problems.append(f"notifications are degraded: {notifications.get('last_error')}")
        degraded = bool(problems)
        status = "failing" if failing else "degraded" if degraded else "ok"
        body = {
            "status": status,
            "problems": problems,
            "uptime_s": round(time.time() - self.started_at, 1),
            "database": database,
            "supervisor": _json.unstructure(supervisor) if supervisor else None,
            "dependencies": dependencies,
            "inbox": mail,
            "dead_letters": {
                "count": letter_count,
                # Ids and kinds only: bodies and errors can hold personal data, so they are
                # shown by the authenticated /api/dead-letters alone.
                "recent": [
                    {
                        "id": letter.id,
                        "at": iso(letter.at),
                        "actor": letter.actor,
                        "source": letter.source,
                        "kind": letter.kind,
                    }
                    for letter in letters
                ],
            },
            "refused_transitions": refused,
            "waiting_for_library": len(waiting),
            "dispatcher": {
                "dispatched": self.dispatcher.dispatched,
                "dead_lettered": self.dispatcher.dead_lettered,
            },
            "backlog": self._backlog_health(mail.get("pending")),
            "live_feed": _json.unstructure(self.feed.statistics()),
            "recovery": _json.unstructure(self.sweeper.status()),
            "notifications": notifications,
            "reconciler": self.reconciler.status() if self.reconciler else {"configured": False},
        }
        return (503 if failing else 200), body


def _dependency(
    url: str | None,
    watcher: DownloadPoller
    | AvailabilityVerifier
    | EpisodeLister
    | RadarrClient
    | JellyseerrClient
    | None,
) -> dict[str, Any]:
    """One dependency on /health: its watcher's status, with the URL shown without credentials."""
    if not url or watcher is None:
        return {"configured": False, "reachable": None}
    if isinstance(watcher, (RadarrClient, JellyseerrClient)):
        status = watcher.health.status()
    else:
        status = watcher.status()
    return {"configured": True, "url": redact_url(url), **_json.unstructure(status)}


def build_system(config: Config, store: Store, tokens: Tokens, clock: WallClock) -> System:
    """Create every component (nothing runs until the root supervisor starts).

    Each integration is built by its own function below, which returns None when the
    integration is not configured.
    """
    items = RequestItems(
        store=store, clock=clock, setup=reason_setup(config), addresses=config.link_addresses
    )
    # While webhooks arrive in a burst, applying them and writing to the live feed wait.
    webhook_burst = WebhookBurst()
    feed = LiveFeed(
        describe=items.item, describe_episodes=items.episodes, webhook_burst=webhook_burst
    )
    # A TorrentActor rings it when a download is claimed, so the poller looks at once.
    claimed = Wakeup()
    notify_events = frozenset(config.notify_events if config.notifications_configured else ())
    requests = _request_actors(store, clock, feed, notify_events)
    torrents = _torrent_actors(store, clock, on_claimed=claimed.ring)
    radarr = _radarr(config)
    sonarr = _sonarr(config)
    services_spec, services = _service_sync(store, clock, radarr=radarr, sonarr=sonarr)
    downloads = _download_client(config)
    # One client per service, so that /health shows what every user of it met.
    jellyfin = _jellyfin(config)
    jellyseerr = _jellyseerr(config)
    verifier = _library_verifier(config, jellyfin, store, requests)
    shoko_matcher = _shoko_matcher(config, store, requests, verifier)
    system = System(
        config=config,
        store=store,
        clock=clock,
        feed=feed,
        items=items,
        tokens=tokens,
        webhook_slots=trio.CapacityLimiter(config.max_inflight_webhooks),
        webhook_burst=webhook_burst,
        requests=requests,
        torrents=torrents,
        services=services,
        services_spec=services_spec,
        dispatcher=_dispatcher(store, clock, requests, torrents, services, webhook_burst),
        sweeper=_recovery_sweeper(config, store, clock, requests, torrents, downloads, verifier),
        poller=_download_poller(config, downloads, store, torrents, claimed),
        verifier=verifier,
        lister=_episode_lister(config, sonarr, store, clock, requests),
        shoko=_shoko_listener(config, shoko_matcher),
        shoko_matcher=shoko_matcher,
        radarr=radarr,
        jellyseerr=jellyseerr,
        notifier=_notifier(config, store, clock),
        reconciler=_reconciler(
            config,
            store,
            clock,
            sonarr=sonarr,
            radarr=radarr,
            downloads=downloads,
            jellyseerr=jellyseerr,
            jellyfin=jellyfin,
        ),
    )
    _time_rounds(system)
    return system


def _calls(registry: Registry) -> Callable[[Any, Deliver], Awaitable[object]]:
    """Calls the registry's actor for a key, with the time an actor gets to apply one delivery."""
    return functools.partial(registry.call, timeout=ACTOR_CALL_TIMEOUT_S)


def _request_actors(
    store: Store, clock: WallClock, feed: LiveFeed, notify_events: frozenset[str]
) -> Registry:
    def request_actor(key: Any) -> RequestActor:
        return RequestActor(
            int(key), store=store, clock=clock, publisher=feed, notify_events=notify_events
        )

    return Registry(
        "requests", request_actor, mailbox_size=32, passivate_after=300.0, intensity=20, period=10.0
    )


def _torrent_actors(
    store: Store, clock: WallClock, *, on_claimed: Callable[[str], None]
) -> Registry:
    def torrent_actor(key: Any) -> TorrentActor:
        return TorrentActor(str(key), store=store, clock=clock, on_claimed=on_claimed)

    return Registry(
        "torrents", torrent_actor, mailbox_size=32, passivate_after=300.0, intensity=20, period=10.0
    )


def _dispatcher(
    store: Store,
    clock: WallClock,
    requests: Registry,
    torrents: Registry,
    services: ActorRef,
    webhook_burst: Callable[[], bool],
) -> Dispatcher:
    return Dispatcher(
        store=store,
        translate=translate,
        call_request=_calls(requests),
        call_torrent=_calls(torrents),
        call_services=functools.partial(services.call, timeout=ACTOR_CALL_TIMEOUT_S),
        clock=clock,
        webhook_burst=webhook_burst,
    )


def _service_sync(
    store: Store,
    clock: WallClock,
    *,
    radarr: RadarrClient | None,
    sonarr: SonarrClient | None,
) -> tuple[ChildSpec, ActorRef]:
    def service_sync() -> ServiceSync:
        return ServiceSync(store=store, clock=clock, radarr=radarr, sonarr=sonarr)

    return actor_child("service-sync", service_sync)


def _radarr(config: Config) -> RadarrClient | None:
    if not (config.radarr_url and config.radarr_api_key):
        return None
    return RadarrClient(config.radarr_url, config.radarr_api_key)


def _sonarr(config: Config) -> SonarrClient | None:
    if not (config.sonarr_url and config.sonarr_api_key):
        return None
    return SonarrClient(config.sonarr_url, config.sonarr_api_key)


def _reconciler(
    config: Config,
    store: Store,
    clock: WallClock,
    *,
    sonarr: SonarrClient | None,
    radarr: RadarrClient | None,
    downloads: DownloadClient | None,
    jellyseerr: JellyseerrClient | None,
    jellyfin: JellyfinClient | None,
) -> Reconciler | None:
    if jellyseerr is None and sonarr is None and radarr is None:
        return None
    # A reconnect of any of them (the download client too) asks for a round at once.
    watched = [c.health for c in (jellyseerr, sonarr, radarr, jellyfin, downloads) if c is not None]
    return Reconciler(
        store=store,
        clock=clock,
        sonarr=sonarr,
        radarr=radarr,
        jellyseerr=jellyseerr,
        jellyfin=jellyfin,
        interval=config.reconcile_interval_s,
        stalled_action=typing.cast("typing.Any", config.stalled_action),
        stalled_after=config.stalled_after_s,
        stuck_after=config.stuck_after_s,
        watched=[lambda health=health: health.status().reachable for health in watched],
    )


def _download_client(config: Config) -> DownloadClient | None:
    if not config.qbittorrent_url:
        return None
    return QBittorrentClient(
        config.qbittorrent_url,
        config.qbittorrent_username or "",
        config.qbittorrent_password or "",
    )


def _download_poller(
    config: Config,
    client: DownloadClient | None,
    store: Store,
    torrents: Registry,
    claimed: Wakeup,
) -> DownloadPoller | None:
    if client is None:
        return None
    return DownloadPoller(
        client=client,
        store=store,
        send=torrents.cast,
        active_interval=config.poll_active_s,
        idle_interval=config.poll_idle_s,
        wakeup=claimed,
    )


def _jellyfin(config: Config) -> JellyfinClient | None:
    if not (config.jellyfin_url and config.jellyfin_api_key):
        return None
    return JellyfinClient(config.jellyfin_url, config.jellyfin_api_key)


def _jellyseerr(config: Config) -> JellyseerrClient | None:
    if not (config.jellyseerr_url and config.jellyseerr_api_key):
        return None
    return JellyseerrClient(config.jellyseerr_url, config.jellyseerr_api_key)


def _library_verifier(
    config: Config, jellyfin: JellyfinClient | None, store: Store, requests: Registry
) -> AvailabilityVerifier | None:
    if jellyfin is None:
        return None
    return AvailabilityVerifier(
        client=jellyfin,
        store=store,
        call_request=_calls(requests),
        interval=config.verify_interval_s,
    )


def _episode_lister(
    config: Config,
    sonarr: SonarrClient | None,
    store: Store,
    clock: WallClock,
    requests: Registry,
) -> EpisodeLister | None:
    if sonarr is None:
        return None
    return EpisodeLister(
        client=sonarr,
        store=store,
        call_request=_calls(requests),
        now=clock.now,
        interval=config.poll_active_s,
    )


def _shoko_matcher(
    config: Config, store: Store, requests: Registry, verifier: AvailabilityVerifier | None
) -> ShokoMatcher | None:
    if not config.shoko_url:
        return None
    return ShokoMatcher(
        store=store,
        call_request=_calls(requests),
        verify=verifier.verify_request if verifier else None,
    )


def _shoko_listener(config: Config, matcher: ShokoMatcher | None) -> ShokoListener | None:
    if not config.shoko_url or matcher is None:
        return None
    return ShokoListener(
        config.shoko_url,
        config.shoko_api_key or "",
        on_event=matcher.on_event,
        on_resync=matcher.on_resync,
    )


def _recovery_sweeper(
    config: Config,
    store: Store,
    clock: WallClock,
    requests: Registry,
    torrents: Registry,
    downloads: DownloadClient | None,
    verifier: AvailabilityVerifier | None,
) -> RecoverySweeper:
    return RecoverySweeper(
        source=store,
        now=clock.now,
        call_request=_calls(requests),
        send_torrent=torrents.cast,
        downloads=downloads,
        find_in_library=verifier.verify_request if verifier else None,
        stuck_after=config.stuck_after_s,
        interval=max(0.05, min(60.0, config.stuck_after_s / 4)),
    )


def _notifier(config: Config, store: Store, clock: WallClock) -> NotificationDelivery | None:
    if not config.notifications_configured:
        return None
    return NotificationDelivery(
        store=store,
        notifier=AppriseNotifier(),
        clock=clock,
        urls=config.notify_urls,
        users=dict(config.notify_users),
        window_s=config.notify_batch_s,
        dashboard_url=config.public_url,
        jellyfin_url=config.link_addresses.jellyfin,
    )


def _time_rounds(system: System) -> None:
    """Poll and verifier rounds report their durations to /metrics."""
    if system.poller is not None:
        system.metrics.time_calls(
            system.poller,
            "poll_once",
            system.metrics.poll_duration.labels(system.poller.source).observe,
        )
    if system.verifier is not None:
        system.metrics.time_calls(
            system.verifier, "verify_once", system.metrics.verify_duration.observe
        )


def _root_supervisor(system: System) -> Supervisor:
    async def serve_http(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        http_config = hypercorn.config.Config()
        http_config.bind = [system.config.bind]
        http_config.accesslog = None
        http_config.errorlog = None
        http_config.graceful_timeout = 5.0
        # What a client may hold without a request in progress: an idle keep-alive connection
        # or half-sent headers for ST_KEEP_ALIVE_S, silence for 60 s (websockets are pinged
        # meanwhile), 16 KiB of headers; a slow body is the app's to bound (ST_BODY_TIMEOUT_S).
        # The keep-alive outlasts the senders' own pools (.NET, i.e. Sonarr, Radarr and
        # Jellyfin: 60 s; Node: 5 s) so that they, not we, retire an idle connection: closing
        # it here races a webhook already on its way, which those senders do not send again.
        http_config.keep_alive_timeout = system.config.keep_alive_s
        http_config.read_timeout = 60
        http_config.websocket_ping_interval = 20.0
        http_config.h11_max_incomplete_size = 16 * 1024
        # The feed is one way: a client has nothing to send but a close, so a large frame is
        # memory held for nothing (Hypercorn's default takes 16 MiB a frame).
        http_config.websocket_max_message_size = 4 * 1024
        http_config.backlog = 1024
        app = create_app(system)
        async with trio.open_nursery() as nursery:
            system.urls = await nursery.start(
                functools.partial(hypercorn.trio.serve, app, http_config)
            )
            task_status.started()

    poller_id = f"{system.poller.source}-poller" if system.poller else ""
    # Serving starts once the actors it calls run, before the dispatcher and the background
    # children: a backlog's replay (10,000 rows after a crash) no longer delays the first
    # answer of /health and the API by a third. Stopping goes the other way: the background
    # stops first, while webhooks are still taken in (durably; applied at the next start).
    children = [
        task_child("requests", system.requests.run),
        task_child("torrents", system.torrents.run),
        system.services_spec,
        task_child("http", serve_http, restart=Restart.PERMANENT),
        task_child("dispatcher", system.dispatcher.run),
        *_if_configured(poller_id, system.poller),
        *_if_configured("availability-verifier", system.verifier),
        *_if_configured("episode-lister", system.lister),
        *_if_configured("shoko-matcher", system.shoko_matcher),
        *_if_configured("shoko-listener", system.shoko),
        task_child("recovery-sweeper", system.sweeper.run),
        *_if_configured("notifier", system.notifier),
        *_if_configured("reconciler", system.reconciler),
    ]
    return Supervisor("root", children, intensity=5, period=30.0)


class _Runs(typing.Protocol):
    async def run(self, *, task_status: trio.TaskStatus[None] = ...) -> None: ...


def _if_configured(child_id: str, component: _Runs | None) -> list[ChildSpec]:
    """The component as a child of the root, or none when its integration is not configured."""
    return [] if component is None else [task_child(child_id, component.run)]


@contextlib.asynccontextmanager
async def running_service(config: Config) -> AsyncIterator[System]:
    """Run the whole service until the block exits."""
    async with open_store(config.database_url, wait_s=DATABASE_START_WAIT_S) as store:
        clock = WallClock()
        tokens = await ensure_tokens(store, webhook=config.webhook_token, api=config.api_token)
        system = build_system(config, store, tokens, clock)
        system.root = _root_supervisor(system)
        async with trio.open_nursery() as nursery:
            await nursery.start(system.root.run)
            logger.info("status-tracker listening on %s", ", ".join(system.urls))
            yield system
            await system.root.stop()
            nursery.cancel_scope.cancel(reason="service stopping")
