"""Wires the service together: storage, the root supervisor and its children, /health.

``run_service`` is what the console script runs, and what end-to-end tests start in-process.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
import typing
from collections.abc import AsyncIterator, Callable
from typing import Any

import attrs
import cattrs
import hypercorn.config
import hypercorn.trio
import trio

from status_tracker.actors.availability_verifier import AvailabilityVerifier
from status_tracker.actors.clock import WallClock
from status_tracker.actors.dispatch.actor import Dispatcher
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.episode_lister import EpisodeLister
from status_tracker.actors.media_request.actor import RequestActor
from status_tracker.actors.qbittorrent_poller import QBittorrentPoller, observe
from status_tracker.actors.recovery.sweeper import RecoverySweeper
from status_tracker.actors.runtime import (
    ActorRef,
    ChildSpec,
    Registry,
    Restart,
    Supervisor,
    actor_child,
    task_child,
)
from status_tracker.actors.service_sync import ServiceSync
from status_tracker.actors.shoko_matcher.actor import ShokoMatcher
from status_tracker.actors.torrent.actor import TorrentActor
from status_tracker.actors.torrent.messages import TorrentObserved
from status_tracker.clients import bad_reply, redact_url
from status_tracker.clients.jellyfin import JellyfinClient
from status_tracker.clients.qbittorrent import QBittorrentClient
from status_tracker.clients.radarr import RadarrClient
from status_tracker.clients.sonarr import SonarrClient
from status_tracker.ingress.http import LiveFeed, create_app
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


@typing.final
@attrs.define(eq=False)
class System:
    """The running service, as the HTTP app and the tests see it."""

    config: Config
    store: Store
    clock: WallClock
    feed: LiveFeed
    tokens: Tokens
    webhook_slots: trio.CapacityLimiter
    requests: Registry
    torrents: Registry
    services: ActorRef
    services_spec: ChildSpec
    dispatcher: Dispatcher
    poller: QBittorrentPoller | None = None
    verifier: AvailabilityVerifier | None = None
    sweeper: RecoverySweeper | None = None
    lister: EpisodeLister | None = None
    shoko: ShokoListener | None = None
    shoko_matcher: ShokoMatcher | None = None
    radarr: RadarrClient | None = None
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
        return await self.requests.call(request_id, deliver, timeout=60.0)

    async def call_torrent(self, torrent_hash: str, deliver: Deliver) -> object:
        return await self.torrents.call(torrent_hash, deliver, timeout=60.0)

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
        except Exception as exc:
            database = {"reachable": False, "error": storable(str(exc)) or type(exc).__name__}
            mail, letters, letter_count, refused, waiting = {}, [], None, None, []
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
        }
        failing = not database["reachable"] or gave_up
        degraded = any(d.get("status") == "degraded" for d in dependencies.values())
        status = "failing" if failing else "degraded" if degraded else "ok"
        body = {
            "status": status,
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
            "live_feed": _json.unstructure(self.feed.statistics()),
            "recovery": _json.unstructure(self.sweeper.status()) if self.sweeper else None,
        }
        return (503 if failing else 200), body


def _dependency(
    url: str | None,
    watcher: QBittorrentPoller | AvailabilityVerifier | EpisodeLister | RadarrClient | None,
) -> dict[str, Any]:
    """One dependency on /health: its watcher's status, with the URL shown without credentials."""
    if not url or watcher is None:
        return {"configured": False, "reachable": None}
    status = watcher.health.status() if isinstance(watcher, RadarrClient) else watcher.status()
    return {"configured": True, "url": redact_url(url), **_json.unstructure(status)}


def build_system(config: Config, store: Store, tokens: Tokens, clock: WallClock) -> System:
    """Create every component (nothing runs until the root supervisor starts)."""
    feed = LiveFeed()
    holder: dict[str, Callable[[str], None]] = {}

    def request_actor(key: Any) -> RequestActor:
        return RequestActor(int(key), store=store, clock=clock, publisher=feed)

    def torrent_actor(key: Any) -> TorrentActor:
        return TorrentActor(
            str(key), store=store, clock=clock, on_claimed=lambda h: holder["wake"](h)
        )

    requests = Registry(
        "requests", request_actor, mailbox_size=32, passivate_after=300.0, intensity=20, period=10.0
    )
    torrents = Registry(
        "torrents", torrent_actor, mailbox_size=32, passivate_after=300.0, intensity=20, period=10.0
    )
    radarr = (
        RadarrClient(config.radarr_url, config.radarr_api_key)
        if config.radarr_url and config.radarr_api_key
        else None
    )
    sonarr = (
        SonarrClient(config.sonarr_url, config.sonarr_api_key)
        if config.sonarr_url and config.sonarr_api_key
        else None
    )
    services_spec, services = actor_child(
        "service-sync",
        lambda: ServiceSync(store=store, clock=clock, radarr=radarr, sonarr=sonarr),
    )
    system = System(
        config=config,
        store=store,
        clock=clock,
        feed=feed,
        tokens=tokens,
        webhook_slots=trio.CapacityLimiter(config.max_inflight_webhooks),
        requests=requests,
        torrents=torrents,
        services=services,
        services_spec=services_spec,
        dispatcher=Dispatcher(
            store=store,
            translate=translate,
            call_request=lambda key, deliver: system.call_request(key, deliver),
            call_torrent=lambda key, deliver: system.call_torrent(key, deliver),
            call_services=lambda deliver: services.call(deliver, timeout=60.0),
            clock=clock,
        ),
    )
    holder["wake"] = lambda _hash: None
    system.radarr = radarr
    if config.qbittorrent_url:
        system.poller = QBittorrentPoller(
            client=QBittorrentClient(
                config.qbittorrent_url,
                config.qbittorrent_username or "",
                config.qbittorrent_password or "",
            ),
            store=store,
            send=system.cast_torrent,
            active_interval=config.poll_active_s,
            idle_interval=config.poll_idle_s,
        )
        holder["wake"] = system.poller.wake
    if config.jellyfin_url and config.jellyfin_api_key:
        system.verifier = AvailabilityVerifier(
            client=JellyfinClient(config.jellyfin_url, config.jellyfin_api_key),
            store=store,
            call_request=system.call_request,
            interval=config.verify_interval_s,
        )
    if sonarr is not None:
        system.lister = EpisodeLister(
            client=sonarr,
            store=store,
            call_request=system.call_request,
            now=clock.now,
            interval=config.poll_active_s,
        )
    if config.shoko_url:
        system.shoko_matcher = ShokoMatcher(
            store=store,
            call_request=system.call_request,
            verify=system.verifier.verify_request if system.verifier else None,
        )
        system.shoko = ShokoListener(
            config.shoko_url,
            config.shoko_api_key or "",
            on_event=system.shoko_matcher.on_event,
            on_resync=system.shoko_matcher.on_resync,
        )
    qbittorrent = system.poller.client if system.poller else None

    async def read_torrent(torrent_hash: str) -> TorrentObserved | None:
        assert qbittorrent is not None
        views = await qbittorrent.torrents_info([torrent_hash])
        if not views:
            return None
        if len(views) > 1 or views[0].hash != torrent_hash.lower():
            raise bad_reply(
                "qBittorrent answered another torrent than the one asked for",
                [view.hash for view in views],
            )
        return observe(views[0])

    system.sweeper = RecoverySweeper(
        source=store,
        now=clock.now,
        call_request=system.call_request,
        send_torrent=system.cast_torrent,
        read_torrent=read_torrent if qbittorrent else None,
        find_in_library=system.verifier.verify_request if system.verifier else None,
        stuck_after=config.stuck_after_s,
        interval=max(0.05, min(60.0, config.stuck_after_s / 4)),
    )
    return system


def _root_supervisor(system: System) -> Supervisor:
    async def serve_http(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        http_config = hypercorn.config.Config()
        http_config.bind = [system.config.bind]
        http_config.accesslog = None
        http_config.errorlog = None
        http_config.graceful_timeout = 5.0
        # What a client may hold without a request in progress: an idle keep-alive connection
        # or half-sent headers for 5 s, silence for 60 s (websockets are pinged meanwhile),
        # 16 KiB of headers; a slow body is the app's to bound (ST_BODY_TIMEOUT_S).
        http_config.keep_alive_timeout = 5.0
        http_config.read_timeout = 60
        http_config.websocket_ping_interval = 20.0
        http_config.h11_max_incomplete_size = 16 * 1024
        http_config.backlog = 1024
        app = create_app(system)
        async with trio.open_nursery() as nursery:
            system.urls = await nursery.start(
                functools.partial(hypercorn.trio.serve, app, http_config)
            )
            task_status.started()

    children = [
        task_child("requests", system.requests.run),
        task_child("torrents", system.torrents.run),
        system.services_spec,
        task_child("dispatcher", system.dispatcher.run),
    ]
    if system.poller is not None:
        children.append(task_child("qbittorrent-poller", system.poller.run))
    if system.verifier is not None:
        children.append(task_child("availability-verifier", system.verifier.run))
    if system.lister is not None:
        children.append(task_child("episode-lister", system.lister.run))
    if system.shoko is not None and system.shoko_matcher is not None:
        children.append(task_child("shoko-matcher", system.shoko_matcher.run))
        children.append(task_child("shoko-listener", system.shoko.run))
    assert system.sweeper is not None
    children.append(task_child("recovery-sweeper", system.sweeper.run))
    children.append(task_child("http", serve_http, restart=Restart.PERMANENT))
    return Supervisor("root", children, intensity=5, period=30.0)


@contextlib.asynccontextmanager
async def running_service(config: Config) -> AsyncIterator[System]:
    """Run the whole service until the block exits (needs a trio-asyncio loop around it)."""
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
