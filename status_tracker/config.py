"""Configuration from ``ST_*`` environment variables, checked once at start."""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping

import attrs

DEFAULT_DATABASE_URL = "sqlite:///./status-tracker.db"
DEFAULT_BIND = "127.0.0.1:8420"


class ConfigError(ValueError):
    """An ``ST_*`` variable has a value the service cannot use."""


@typing.final
@attrs.frozen(kw_only=True)
class Config:
    """Every setting of the service; see the README for each variable."""

    database_url: str = DEFAULT_DATABASE_URL
    bind: str = DEFAULT_BIND
    webhook_token: str | None = None
    api_token: str | None = None
    qbittorrent_url: str | None = None
    qbittorrent_username: str | None = None
    qbittorrent_password: str | None = attrs.field(default=None, repr=False)
    jellyfin_url: str | None = None
    jellyfin_api_key: str | None = attrs.field(default=None, repr=False)
    shoko_url: str | None = None
    shoko_api_key: str | None = attrs.field(default=None, repr=False)
    sonarr_url: str | None = None
    sonarr_api_key: str | None = attrs.field(default=None, repr=False)
    radarr_url: str | None = None
    radarr_api_key: str | None = attrs.field(default=None, repr=False)
    poll_active_s: float = 5.0
    poll_idle_s: float = 30.0
    verify_interval_s: float = 30.0
    stuck_after_s: float = 300.0
    max_inflight_webhooks: int = 256
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Read the ``ST_*`` variables; empty values count as unset.

        Raises:
            ConfigError: naming the variable and what is wrong with it.
        """

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def seconds(name: str, default: float) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {raw!r}")
            return value

        def url(name: str) -> str | None:
            raw = text(name)
            if raw is not None and not raw.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must start with http:// or https://, got {raw!r}")
            return raw.rstrip("/") if raw else None

        bind = text("ST_BIND") or DEFAULT_BIND
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigError(f"ST_BIND must be host:port, got {bind!r}")
        inflight = text("ST_MAX_INFLIGHT_WEBHOOKS") or "256"
        if not inflight.isdigit() or int(inflight) < 1:
            raise ConfigError(
                f"ST_MAX_INFLIGHT_WEBHOOKS must be a positive integer, got {inflight!r}"
            )
        database_url = text("ST_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigError(
                "ST_DATABASE_URL must be sqlite:///path.db or postgresql://user@host:port/db"
            )
        config = cls(
            database_url=database_url,
            bind=bind,
            webhook_token=text("ST_WEBHOOK_TOKEN"),
            api_token=text("ST_API_TOKEN"),
            qbittorrent_url=url("ST_QBITTORRENT_URL"),
            qbittorrent_username=text("ST_QBITTORRENT_USERNAME"),
            qbittorrent_password=text("ST_QBITTORRENT_PASSWORD"),
            jellyfin_url=url("ST_JELLYFIN_URL"),
            jellyfin_api_key=text("ST_JELLYFIN_API_KEY"),
            shoko_url=url("ST_SHOKO_URL"),
            shoko_api_key=text("ST_SHOKO_API_KEY"),
            sonarr_url=url("ST_SONARR_URL"),
            sonarr_api_key=text("ST_SONARR_API_KEY"),
            radarr_url=url("ST_RADARR_URL"),
            radarr_api_key=text("ST_RADARR_API_KEY"),
            poll_active_s=seconds("ST_POLL_ACTIVE_S", 5.0),
            poll_idle_s=seconds("ST_POLL_IDLE_S", 30.0),
            verify_interval_s=seconds("ST_VERIFY_INTERVAL_S", 30.0),
            stuck_after_s=seconds("ST_STUCK_AFTER_S", 300.0),
            max_inflight_webhooks=int(inflight),
            log_level=(text("ST_LOG_LEVEL") or "INFO").upper(),
        )
        if config.jellyfin_url and not config.jellyfin_api_key:
            raise ConfigError("ST_JELLYFIN_URL is set but ST_JELLYFIN_API_KEY is not")
        return config

    @property
    def host(self) -> str:
        return self.bind.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.bind.rpartition(":")[2])
