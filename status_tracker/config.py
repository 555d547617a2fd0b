"""Configuration from ``ST_*`` environment variables, checked once at start."""

from __future__ import annotations

import contextlib
import difflib
import ipaddress
import math
import re
import typing
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from status_tracker.actors.media_request.notifications import DEFAULT_NOTIFY_EVENTS, parse_events
from status_tracker.clients.apprise_notifier import is_notify_url
from status_tracker.domain.links import ServiceAddresses
from status_tracker.strict import Network, normalise_origin

DEFAULT_DATABASE_URL = "sqlite:///./status-tracker.db"
DEFAULT_BIND = "127.0.0.1:8420"
DEFAULT_TRUSTED_PROXIES = "127.0.0.1,::1"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
STALLED_ACTIONS = ("none", "notify", "research")

SECRET_SETTINGS = (
    "ST_DATABASE_URL",
    "ST_WEBHOOK_TOKEN",
    "ST_API_TOKEN",
    "ST_VIEW_TOKEN",
    "ST_QBITTORRENT_PASSWORD",
    "ST_JELLYFIN_API_KEY",
    "ST_SHOKO_API_KEY",
    "ST_SONARR_API_KEY",
    "ST_RADARR_API_KEY",
    "ST_JELLYSEERR_API_KEY",
    "ST_NOTIFY_URLS",
    "ST_NOTIFY_USERS",
)
"""The settings that may also be read from the file ``NAME_FILE`` names."""

SETTINGS: frozenset[str] = frozenset(
    {
        *SECRET_SETTINGS,
        *(f"{name}_FILE" for name in SECRET_SETTINGS),
        "ST_BIND",
        "ST_QBITTORRENT_URL",
        "ST_QBITTORRENT_USERNAME",
        "ST_JELLYFIN_URL",
        "ST_SHOKO_URL",
        "ST_SONARR_URL",
        "ST_RADARR_URL",
        "ST_JELLYSEERR_URL",
        "ST_RECONCILE_INTERVAL_S",
        "ST_STALLED_ACTION",
        "ST_STALLED_AFTER_S",
        "ST_POLL_ACTIVE_S",
        "ST_POLL_IDLE_S",
        "ST_VERIFY_INTERVAL_S",
        "ST_STUCK_AFTER_S",
        "ST_MAX_INFLIGHT_WEBHOOKS",
        "ST_MAX_CONCURRENT_REQUESTS",
        "ST_BODY_TIMEOUT_S",
        "ST_KEEP_ALIVE_S",
        "ST_SESSION_DAYS",
        "ST_TRUSTED_PROXIES",
        "ST_ALLOWED_ORIGINS",
        "ST_LOG_LEVEL",
        "ST_LOG_FORMAT",
        "ST_NOTIFY_EVENTS",
        "ST_NOTIFY_BATCH_S",
        "ST_PUBLIC_URL",
        "ST_JELLYFIN_PUBLIC_URL",
        "ST_JELLYSEERR_PUBLIC_URL",
        "ST_SONARR_PUBLIC_URL",
        "ST_RADARR_PUBLIC_URL",
        "ST_QBITTORRENT_PUBLIC_URL",
        "ST_METRICS_PUBLIC",
        "ST_URL_BASE",
    }
)
"""Every ``ST_*`` variable ``Config.from_env`` reads."""

NOT_SETTINGS: frozenset[str] = frozenset(
    {
        "ST_ENTRYPOINT_ROOT",  # docker/entrypoint.sh, in its tests
        "ST_TEST_POSTGRES_URL",
        "ST_FUZZ_EXAMPLES",
        "ST_FUZZ_RANDOM",
        "ST_FUZZ_REPORT",
        "ST_SCHEMATHESIS_EXAMPLES",
        "ST_SCHEMATHESIS_REPORT",
    }
)
"""``ST_*`` variables that the image's entrypoint or the test suite reads, not the service: set
beside the settings, they are not reported as unknown."""

KEYED_SERVICES = ("JELLYFIN", "SONARR", "RADARR", "JELLYSEERR")
"""The services whose ``ST_*_URL`` is of no use without their ``ST_*_API_KEY``."""

T = typing.TypeVar("T")


class ConfigError(ValueError):
    """An ``ST_*`` variable has a value the service cannot use."""


@typing.final
@attrs.frozen(kw_only=True)
class Config:
    """Every setting of the service; see the README for each variable."""

    database_url: str = attrs.field(default=DEFAULT_DATABASE_URL, repr=False)
    bind: str = DEFAULT_BIND
    webhook_token: str | None = attrs.field(default=None, repr=False)
    api_token: str | None = attrs.field(default=None, repr=False)
    view_token: str | None = attrs.field(default=None, repr=False)
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
    jellyseerr_url: str | None = None
    jellyseerr_api_key: str | None = attrs.field(default=None, repr=False)
    reconcile_interval_s: float = 300.0
    stalled_action: str = "notify"
    stalled_after_s: float = 1800.0
    poll_active_s: float = 5.0
    poll_idle_s: float = 30.0
    verify_interval_s: float = 30.0
    stuck_after_s: float = 300.0
    max_inflight_webhooks: int = 256
    max_concurrent_requests: int = 256
    body_timeout_s: float = 10.0
    keep_alive_s: float = 75.0
    session_days: float = 30.0
    trusted_proxies: tuple[Network, ...] = attrs.field(
        factory=lambda: parse_networks(DEFAULT_TRUSTED_PROXIES)
    )
    allowed_origins: tuple[str, ...] = ()
    log_level: str = "INFO"
    log_format: str = "text"
    notify_urls: tuple[str, ...] = attrs.field(default=(), repr=False)
    notify_users: tuple[tuple[str, tuple[str, ...]], ...] = attrs.field(default=(), repr=False)
    notify_events: tuple[str, ...] = DEFAULT_NOTIFY_EVENTS
    notify_batch_s: float = 30.0
    public_url: str | None = None
    jellyfin_public_url: str | None = None
    jellyseerr_public_url: str | None = None
    sonarr_public_url: str | None = None
    radarr_public_url: str | None = None
    qbittorrent_public_url: str | None = None
    metrics_public: bool = False
    url_base: str = ""
    unknown_variables: tuple[str, ...] = ()
    """The ``ST_*`` variables set that this version does not read (``find_unknown_variables``)."""

    @property
    def notifications_configured(self) -> bool:
        return bool(self.notify_urls or self.notify_users)

    @property
    def link_addresses(self) -> ServiceAddresses:
        """Where a browser reaches each service, for links out: its ``ST_*_PUBLIC_URL``, else
        the ``ST_*_URL`` the service is reached at."""
        return ServiceAddresses(
            jellyseerr=self.jellyseerr_public_url or self.jellyseerr_url,
            sonarr=self.sonarr_public_url or self.sonarr_url,
            radarr=self.radarr_public_url or self.radarr_url,
            qbittorrent=self.qbittorrent_public_url or self.qbittorrent_url,
            jellyfin=self.jellyfin_public_url or self.jellyfin_url,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """Read the ``ST_*`` variables; empty values count as unset.

        Each secret (the tokens, password, API keys and the database URL) may instead be read
        from the file that ``NAME_FILE`` names (Docker secrets).

        Raises:
            ConfigError: naming the variable and what is wrong with it.
        """

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def secret(name: str) -> str | None:
            file_variable = f"{name}_FILE"
            path = text(file_variable)
            if path is None:
                return text(name)
            if text(name) is not None:
                raise ConfigError(f"{name} and {file_variable} are both set; set only one")
            return _read_secret_file(file_variable, path)

        def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
            raw = text(name) or default
            for value in allowed:
                if value.lower() == raw.lower():
                    return value
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")

        def seconds(name: str, default: float, unit: str = "seconds") -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ConfigError(f"{name} must be a number of {unit}, got {raw!r}") from None
            if not math.isfinite(value) or value <= 0:
                raise ConfigError(f"{name} must be a positive number of {unit}, got {raw!r}")
            return value

        def url(name: str) -> str | None:
            raw = text(name)
            if raw is not None and not raw.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must start with http:// or https://, got {raw!r}")
            return raw.rstrip("/") if raw else None

        def positive_integer(name: str, default: int) -> int:
            raw = text(name) or str(default)
            if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
                raise ConfigError(f"{name} must be a positive integer, got {raw!r}")
            return int(raw)

        def listed(name: str, default: str, parse: Callable[[str], tuple[T, ...]]) -> tuple[T, ...]:
            try:
                return parse(text(name) or default)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None

        def flag(name: str, default: bool) -> bool:
            raw = text(name)
            if raw is None:
                return default
            if raw.lower() in ("1", "true", "yes", "on"):
                return True
            if raw.lower() in ("0", "false", "no", "off"):
                return False
            raise ConfigError(f"{name} must be true or false, got {raw!r}")

        def url_base() -> str:
            try:
                return parse_url_base(text("ST_URL_BASE") or "")
            except ValueError as exc:
                raise ConfigError(f"ST_URL_BASE {exc}") from None

        bind = text("ST_BIND") or DEFAULT_BIND
        host, _, port = bind.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigError(f"ST_BIND must be host:port, got {bind!r}")
        database_url = secret("ST_DATABASE_URL") or DEFAULT_DATABASE_URL
        if (
            not database_url.startswith(("sqlite:///", "postgresql://", "postgres://"))
            or database_url == "sqlite:///"
        ):
            raise ConfigError(
                "ST_DATABASE_URL must be sqlite:///path.db or postgresql://user@host:port/db"
            )
        if not database_url.startswith("sqlite:"):
            _check_postgresql_url(database_url)
        unknown = find_unknown_variables(env)
        config = cls(
            database_url=database_url,
            bind=bind,
            webhook_token=secret("ST_WEBHOOK_TOKEN"),
            api_token=secret("ST_API_TOKEN"),
            view_token=secret("ST_VIEW_TOKEN"),
            qbittorrent_url=url("ST_QBITTORRENT_URL"),
            qbittorrent_username=text("ST_QBITTORRENT_USERNAME"),
            qbittorrent_password=secret("ST_QBITTORRENT_PASSWORD"),
            jellyfin_url=url("ST_JELLYFIN_URL"),
            jellyfin_api_key=secret("ST_JELLYFIN_API_KEY"),
            shoko_url=url("ST_SHOKO_URL"),
            shoko_api_key=secret("ST_SHOKO_API_KEY"),
            sonarr_url=url("ST_SONARR_URL"),
            sonarr_api_key=secret("ST_SONARR_API_KEY"),
            radarr_url=url("ST_RADARR_URL"),
            radarr_api_key=secret("ST_RADARR_API_KEY"),
            jellyseerr_url=url("ST_JELLYSEERR_URL"),
            jellyseerr_api_key=secret("ST_JELLYSEERR_API_KEY"),
            reconcile_interval_s=seconds("ST_RECONCILE_INTERVAL_S", 300.0),
            stalled_action=choice("ST_STALLED_ACTION", "notify", STALLED_ACTIONS),
            stalled_after_s=seconds("ST_STALLED_AFTER_S", 1800.0),
            poll_active_s=seconds("ST_POLL_ACTIVE_S", 5.0),
            poll_idle_s=seconds("ST_POLL_IDLE_S", 30.0),
            verify_interval_s=seconds("ST_VERIFY_INTERVAL_S", 30.0),
            stuck_after_s=seconds("ST_STUCK_AFTER_S", 300.0),
            max_inflight_webhooks=positive_integer("ST_MAX_INFLIGHT_WEBHOOKS", 256),
            max_concurrent_requests=positive_integer("ST_MAX_CONCURRENT_REQUESTS", 256),
            body_timeout_s=seconds("ST_BODY_TIMEOUT_S", 10.0),
            keep_alive_s=seconds("ST_KEEP_ALIVE_S", 75.0),
            session_days=seconds("ST_SESSION_DAYS", 30.0, unit="days"),
            trusted_proxies=listed("ST_TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES, parse_networks),
            allowed_origins=listed("ST_ALLOWED_ORIGINS", "", parse_origins),
            log_level=choice("ST_LOG_LEVEL", "INFO", LOG_LEVELS),
            log_format=choice("ST_LOG_FORMAT", "text", LOG_FORMATS),
            notify_urls=_notify_urls("ST_NOTIFY_URLS", secret("ST_NOTIFY_URLS") or ""),
            notify_users=parse_notify_users(secret("ST_NOTIFY_USERS") or ""),
            notify_events=listed("ST_NOTIFY_EVENTS", ",".join(DEFAULT_NOTIFY_EVENTS), parse_events),
            notify_batch_s=seconds("ST_NOTIFY_BATCH_S", 30.0),
            public_url=url("ST_PUBLIC_URL"),
            jellyfin_public_url=url("ST_JELLYFIN_PUBLIC_URL"),
            jellyseerr_public_url=url("ST_JELLYSEERR_PUBLIC_URL"),
            sonarr_public_url=url("ST_SONARR_PUBLIC_URL"),
            radarr_public_url=url("ST_RADARR_PUBLIC_URL"),
            qbittorrent_public_url=url("ST_QBITTORRENT_PUBLIC_URL"),
            metrics_public=flag("ST_METRICS_PUBLIC", False),
            url_base=url_base(),
            unknown_variables=unknown,
        )
        if config.view_token is not None and config.view_token in (
            config.api_token,
            config.webhook_token,
        ):
            raise ConfigError("ST_VIEW_TOKEN must differ from ST_API_TOKEN and ST_WEBHOOK_TOKEN")
        for service in KEYED_SERVICES:
            lower = service.lower()
            if getattr(config, f"{lower}_url") and not getattr(config, f"{lower}_api_key"):
                raise ConfigError(
                    _missing_key(f"ST_{service}_URL", f"ST_{service}_API_KEY", unknown)
                )
        return config

    def secret_values(self) -> list[str]:
        """The configured secrets, the PostgreSQL URL and its password: never to be shown."""
        values = [
            self.webhook_token,
            self.api_token,
            self.view_token,
            self.qbittorrent_password,
            self.jellyfin_api_key,
            self.shoko_api_key,
            self.sonarr_api_key,
            self.radarr_api_key,
            *self.notify_urls,
            *(url for _name, urls in self.notify_users for url in urls),
            self.jellyseerr_api_key,
        ]
        if not self.database_url.startswith("sqlite:"):
            values.append(self.database_url)
        # A password in a service's URL (a proxy's basic auth) is as secret as an API key:
        # httpx logs each request's URL at DEBUG.
        for url in (self.database_url, *self._service_urls()):
            with contextlib.suppress(ValueError):
                values.append(urllib.parse.urlsplit(url).password)
        return [value for value in values if value]

    def _service_urls(self) -> list[str]:
        urls = (
            self.qbittorrent_url,
            self.jellyfin_url,
            self.shoko_url,
            self.sonarr_url,
            self.radarr_url,
            self.jellyseerr_url,
            self.public_url,
            self.jellyfin_public_url,
            self.jellyseerr_public_url,
            self.sonarr_public_url,
            self.radarr_public_url,
            self.qbittorrent_public_url,
        )
        return [url for url in urls if url]

    @property
    def host(self) -> str:
        return self.bind.rpartition(":")[0]

    @property
    def port(self) -> int:
        return int(self.bind.rpartition(":")[2])


def find_unknown_variables(env: Mapping[str, str]) -> tuple[str, ...]:
    """The ``ST_*`` variables in ``env`` that this version does not read, sorted: a misspelt
    name, or one a past or future version knew."""
    return tuple(
        sorted(
            name
            for name in env
            if name.startswith("ST_") and name not in SETTINGS and name not in NOT_SETTINGS
        )
    )


def closest_setting(name: str) -> str | None:
    """The known setting ``name`` most likely misspells, if any is close."""
    matches = difflib.get_close_matches(name, sorted(SETTINGS), n=1)
    return matches[0] if matches else None


def misspelling_hint(name: str) -> str:
    """`` (did you mean ST_…?)`` naming the setting ``name`` may misspell, or nothing."""
    closest = closest_setting(name)
    return f" (did you mean {closest}?)" if closest else ""


def unknown_variable_problem(name: str) -> str:
    """What is wrong with the unknown variable ``name``, with the setting it may misspell."""
    return f"{name} is not a setting of this version{misspelling_hint(name)}"


def _missing_key(url_variable: str, key_variable: str, unknown: tuple[str, ...]) -> str:
    message = f"{url_variable} is set but {key_variable} is not"
    misspelt = [
        name for name in unknown if closest_setting(name) in (key_variable, f"{key_variable}_FILE")
    ]
    if misspelt:
        message += f" ({misspelt[0]} is set: did you mean {closest_setting(misspelt[0])}?)"
    return message


_PERCENT_ENCODING_HINT = "a / ? or # in the user name or password must be written %2F %3F %23"


def _check_postgresql_url(url: str) -> None:
    """Refuse a PostgreSQL URL asyncpg could not use: a host or port that does not parse. (One
    naming no database is fine: as with libpq, the database is ``PGDATABASE``'s, else the
    user's name.) The message never shows the URL: it may hold a password.

    Raises:
        ConfigError: naming ST_DATABASE_URL and what is wrong.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        # asyncpg takes several hosts, each with its own port: host1:5432,host2:5433.
        hosts = parts.netloc.rpartition("@")[2]
        for host in hosts.split(",") if hosts else ():
            if urllib.parse.urlsplit(f"//{host}").port == 0:
                raise ValueError("port 0")
    except ValueError:
        raise ConfigError(
            "ST_DATABASE_URL is not a usable postgresql:// URL: its host or port does not parse "
            "(the port must be a number from 1 to 65535, an IPv6 address goes in [brackets]; "
            f"{_PERCENT_ENCODING_HINT})"
        ) from None


def _read_secret_file(variable: str, path: str) -> str:
    """The file's content without its trailing newline; errors name the file, never the content."""
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{variable}: cannot read {path!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{variable}: {path!r} is not UTF-8 text") from None
    value = content.removesuffix("\n").removesuffix("\r")
    if not value.strip():
        raise ConfigError(f"{variable}: {path!r} is empty")
    return value


def _notify_urls(variable: str, text: str) -> tuple[str, ...]:
    """Apprise URLs separated by spaces or commas; errors name the entry's place, not the URL."""
    urls = tuple(part for part in text.replace(",", " ").split() if part)
    for position, entry in enumerate(urls, start=1):
        if not is_notify_url(entry):
            raise ConfigError(
                f"{variable}: entry {position} is not an Apprise URL (scheme://…); "
                "see https://github.com/caronc/apprise/wiki"
            )
    return urls


def parse_notify_users(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``name=url1 url2;name2=url3``: Jellyseerr display names and their own Apprise URLs.

    Entries are separated by ``;`` (or new lines); a name is matched ignoring case and ends at
    the first ``=``; its URLs are separated by spaces or commas.

    Raises:
        ConfigError: naming the entry (by its user name) that is malformed.
    """
    users: list[tuple[str, tuple[str, ...]]] = []
    for position, entry in enumerate(text.replace("\n", ";").split(";"), start=1):
        if not entry.strip():
            continue
        name, equals, urls = entry.partition("=")
        if not equals or not name.strip():
            raise ConfigError(
                f"ST_NOTIFY_USERS: entry {position} must be name=url [url…] "
                "(entries separated by ';')"
            )
        parsed = _notify_urls(f"ST_NOTIFY_USERS (user {name.strip()!r})", urls)
        if not parsed:
            raise ConfigError(f"ST_NOTIFY_USERS: user {name.strip()!r} has no URL")
        users.append((name.strip(), parsed))
    return tuple(users)


def parse_networks(text: str) -> tuple[Network, ...]:
    """Comma-separated IP addresses or CIDR networks (``10.0.0.0/8``, ``::1``).

    Raises:
        ValueError: naming the entry that is not an address or network.
    """
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or CIDR network") from None
    return tuple(networks)


_URL_BASE_SEGMENT = re.compile(r"[A-Za-z0-9._~-]+")


def parse_url_base(text: str) -> str:
    """A path prefix the service lives under (``/tracker``), without a trailing slash; empty
    or ``/`` for none.

    Raises:
        ValueError: the value is not an absolute path of plain segments.
    """
    value = text.strip()
    if value in ("", "/"):
        return ""
    if not value.startswith("/"):
        raise ValueError(f"must start with / (like /tracker), got {value!r}")
    segments = value[1:].rstrip("/").split("/")
    if not all(_URL_BASE_SEGMENT.fullmatch(s) and s not in (".", "..") for s in segments):
        raise ValueError(
            f"must be a path like /tracker (letters, digits, - . _ ~ and no //), got {value!r}"
        )
    return "/" + "/".join(segments)


def parse_origins(text: str) -> tuple[str, ...]:
    """Comma-separated origins, normalised (see ``normalise_origin``).

    Raises:
        ValueError: naming the entry that is not an origin.
    """
    return tuple(normalise_origin(entry) for entry in text.split(",") if entry.strip())
