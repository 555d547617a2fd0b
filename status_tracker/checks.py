"""``status-tracker check-config``: try the database and each configured service, briefly."""

from __future__ import annotations

import importlib.resources
import os
import socket
import sqlite3
import tempfile
import typing
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import attrs
import httpx
import trio

from status_tracker.clients import (
    ClientError,
    JellyfinClient,
    QBittorrentClient,
    UnreadableAnswer,
    read_answer,
    redact_url,
    transport_problem,
)
from status_tracker.clients.jellyseerr import JellyseerrClient
from status_tracker.storage import AsyncioThread, parse_database_url
from status_tracker.strict import load_json

from .config import Config, unknown_variable_problem

TIMEOUT_S = 5.0
"""How long each service may take to answer; a healthy one answers in well under a second."""


@typing.final
@attrs.frozen
class Check:
    """The outcome of trying one item, and what was found or what failed."""

    item: str
    outcome: typing.Literal["ok", "not configured", "failed"]
    detail: str

    @property
    def passed(self) -> bool:
        return self.outcome != "failed"

    def line(self) -> str:
        if self.passed:
            return f"{self.item}: {self.outcome} ({self.detail})"
        return f"{self.item}: failed: {self.detail}"


class _Failed(Exception):
    """What went wrong with one item, in words a user can act on."""


class _NotConfigured(Exception):
    """The item is off: its variable is not set, and this is what the service does without it."""

    def __init__(self, variable: str, consequence: str) -> None:
        super().__init__(f"{variable} is not set: {consequence}")


async def check_config(config: Config) -> list[Check]:
    """Try every configured item at once; the checks come back in a fixed order.

    Nothing is kept anywhere: the database is only read (to see that SQLite's folder is
    writable, a temporary file is made in it and removed at once).
    """
    probes: dict[str, Callable[[], Awaitable[str]]] = {
        "database": lambda: _database(config.database_url),
        "qbittorrent": lambda: _qbittorrent(config),
        "jellyfin": lambda: _jellyfin(config),
        "sonarr": lambda: _arr(
            "Sonarr",
            config.sonarr_url,
            config.sonarr_api_key,
            "episodes appear with the first grab, deletions stay local",
        ),
        "radarr": lambda: _arr(
            "Radarr", config.radarr_url, config.radarr_api_key, "deletions stay local"
        ),
        "jellyseerr": lambda: _jellyseerr(config),
        "shoko": lambda: _shoko(config),
    }
    results: dict[str, Check] = {}

    async def run(item: str, probe: Callable[[], Awaitable[str]]) -> None:
        try:
            with trio.fail_after(2 * TIMEOUT_S):
                results[item] = Check(item, "ok", await probe())
        except _NotConfigured as exc:
            results[item] = Check(item, "not configured", str(exc))
        except _Failed as exc:
            results[item] = Check(item, "failed", str(exc))
        except (TimeoutError, trio.TooSlowError):
            results[item] = Check(item, "failed", f"no answer within {2 * TIMEOUT_S:g} s")

    async with trio.open_nursery() as nursery:
        for item, probe in probes.items():
            nursery.start_soon(run, item, probe)
        settings = await _settings(config)
    return settings + [results[item] for item in probes]


async def _settings(config: Config) -> list[Check]:
    """One failure per ``ST_*`` variable this version does not know, and for a listen address
    whose host does not resolve; else one line saying all is well."""
    problems = [unknown_variable_problem(name) for name in config.unknown_variables]
    with trio.move_on_after(TIMEOUT_S) as resolving:
        bind = await trio.to_thread.run_sync(bind_problem, config, abandon_on_cancel=True)
    if resolving.cancelled_caught:
        bind = f"ST_BIND: the host {config.host!r} did not resolve within {TIMEOUT_S:g} s"
    if bind:
        problems.append(bind)
    if not problems:
        return [Check("settings", "ok", "every ST_ variable has a usable value")]
    return [Check("settings", "failed", problem) for problem in problems]


def bind_problem(config: Config) -> str | None:
    """Why the service cannot listen on ``ST_BIND`` because its host does not resolve, or None.
    Resolved as the HTTP server does: IPv6 when the host has a colon, else IPv4."""
    host = config.host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.getaddrinfo(host, config.port, family, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"ST_BIND: cannot listen on {config.bind!r}: its host does not resolve ({reason})"
    return None


def sqlite_location_problem(path: str) -> str | None:
    """Why the service could not create or write the SQLite database at ``path``, or None.

    SQLite writes beside the file (its ``-wal`` and ``-shm`` files), so the folder must be
    writable, or creatable when it does not exist yet (the service creates it). Tried, not
    guessed from permission bits (root passes those everywhere): a temporary file, or folder,
    is made and removed at once.
    """
    if path == ":memory:":
        return None
    database = Path(os.path.abspath(path))
    folder = database.parent
    existing = folder
    try:
        while not existing.exists():
            existing = existing.parent
    except OSError as exc:
        return f"ST_DATABASE_URL: cannot look into {existing.parent} ({exc.strerror})"
    if not existing.is_dir():
        return f"ST_DATABASE_URL: {existing} is a file, so the folder {folder} cannot exist"
    try:
        if existing == folder:
            descriptor, probe = tempfile.mkstemp(prefix=".status-tracker-check-", dir=folder)
            os.close(descriptor)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(prefix=".status-tracker-check-", dir=existing))
    except OSError as exc:
        if existing == folder:
            return f"ST_DATABASE_URL: cannot write in the folder {folder} ({exc.strerror})"
        return (
            f"ST_DATABASE_URL: the folder {folder} does not exist and cannot be created "
            f"in {existing} ({exc.strerror})"
        )
    if database.is_dir():
        return f"ST_DATABASE_URL: {database} is a folder, not a database file"
    if database.exists() and not os.access(database, os.R_OK | os.W_OK):
        return f"ST_DATABASE_URL: {database} cannot be written by this user (uid {os.geteuid()})"
    return None


def start_problem(config: Config) -> str | None:
    """What stops the service from starting as configured although every value parses: a
    listen address that does not resolve, a SQLite database that cannot be written."""
    if problem := bind_problem(config):
        return problem
    dialect, target = parse_database_url(config.database_url)
    if dialect == "sqlite":
        return sqlite_location_problem(target)
    return None


def latest_schema_version() -> int:
    """The schema version this status-tracker migrates a database to."""
    folder = importlib.resources.files("status_tracker.storage") / "migrations"
    return max(
        int(entry.name.split("_", 1)[0])
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    )


def _schema(version: int | None) -> str:
    latest = latest_schema_version()
    if version is None:
        return "empty; the schema is created at the next start"
    if version > latest:
        raise _Failed(
            f"schema version {version} is newer than this status-tracker knows ({latest}): "
            "upgrade status-tracker"
        )
    if version < latest:
        return f"schema version {version}; migrated to {latest} at the next start"
    return f"schema version {version}, current"


async def _database(url: str) -> str:
    dialect, target = parse_database_url(url)
    if dialect == "sqlite":
        return await trio.to_thread.run_sync(_sqlite, target)
    return await _postgresql(target)


def _sqlite(path: str) -> str:
    if problem := sqlite_location_problem(path):
        raise _Failed(problem)
    if not Path(path).exists():
        return f"no database at {path} yet; it is created at the first start"
    try:
        # Read-only: checking must never create, migrate or lock out the running service.
        with sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True) as connection:
            connection.execute("PRAGMA busy_timeout=5000")
            tables = connection.execute(
                "SELECT name FROM sqlite_master WHERE name = 'schema_migrations'"
            ).fetchall()
            version = (
                connection.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
                if tables
                else None
            )
    except sqlite3.Error as exc:
        raise _Failed(f"cannot read the SQLite database {path}: {exc}") from None
    return f"SQLite {path}, {_schema(version)}"


async def _postgresql(url: str) -> str:
    asyncio_thread = AsyncioThread("check-postgresql")
    try:
        version = await asyncio_thread.call(_postgresql_schema_version, url)
    finally:
        with trio.CancelScope(shield=True):
            await asyncio_thread.aclose()
    return f"PostgreSQL, {_schema(version)}"


async def _postgresql_schema_version(url: str) -> int | None:
    """On asyncio: the schema version PostgreSQL holds (None before the first migration)."""
    import asyncpg  # the postgresql extra: only a PostgreSQL URL needs it

    try:
        # Bounded once connected too: a server that stops answering then (paused, a hung
        # disk) is reported, not waited for.
        connection = await asyncpg.connect(url, timeout=TIMEOUT_S, command_timeout=TIMEOUT_S)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise _Failed(f"cannot connect to PostgreSQL: {exc}") from None
    try:
        version: int | None = await connection.fetchval(
            "SELECT max(version) FROM schema_migrations"
        )
    except asyncpg.UndefinedTableError:
        version = None
    except TimeoutError:
        connection.terminate()
        raise _Failed(
            f"PostgreSQL took the connection but did not answer within {TIMEOUT_S:g} s"
        ) from None
    except (OSError, asyncpg.PostgresError) as exc:
        connection.terminate()
        raise _Failed(f"PostgreSQL answered with an error: {exc}") from None
    except BaseException:
        connection.terminate()
        raise
    await connection.close(timeout=TIMEOUT_S)
    return version


async def _qbittorrent(config: Config) -> str:
    if not config.qbittorrent_url:
        raise _NotConfigured("ST_QBITTORRENT_URL", "download progress is not followed")
    async with QBittorrentClient(
        config.qbittorrent_url,
        config.qbittorrent_username or "",
        config.qbittorrent_password or "",
        timeout=TIMEOUT_S,
    ) as client:
        try:
            await client.login()
        except ClientError as exc:
            raise _Failed(str(exc)) from None
    return f"logged in at {redact_url(config.qbittorrent_url)}"


async def _jellyfin(config: Config) -> str:
    if not (config.jellyfin_url and config.jellyfin_api_key):
        raise _NotConfigured("ST_JELLYFIN_URL", "availability is not checked in the library")
    info = await _get_json(
        "Jellyfin",
        config.jellyfin_url,
        "/System/Info",
        JellyfinClient.key_header(config.jellyfin_api_key),
        key_variable="ST_JELLYFIN_API_KEY",
    )
    return (
        f"Jellyfin {info.get('Version', '(version unknown)')} at {redact_url(config.jellyfin_url)}"
    )


def _with_key(prefix: str, url: str | None, key: str | None, consequence: str) -> tuple[str, str]:
    """The service's URL and key; not configured without a URL, failed with no key for it."""
    if not url:
        raise _NotConfigured(f"{prefix}_URL", consequence)
    if not key:
        raise _Failed(f"{prefix}_URL is set but {prefix}_API_KEY is not")
    return url, key


async def _arr(service: str, url: str | None, api_key: str | None, consequence: str) -> str:
    prefix = f"ST_{service.upper()}"
    url, api_key = _with_key(prefix, url, api_key, consequence)
    status = await _get_json(
        service,
        url,
        "/api/v3/system/status",
        {"X-Api-Key": api_key},
        key_variable=f"{prefix}_API_KEY",
    )
    return f"{service} {status.get('version', '(version unknown)')} at {redact_url(url)}"


async def _jellyseerr(config: Config) -> str:
    url, key = _with_key(
        "ST_JELLYSEERR",
        config.jellyseerr_url,
        config.jellyseerr_api_key,
        "requests the tracker never heard of are not caught up",
    )
    # What the reconciler reads, with its key: one request of the list is enough.
    page = await _get_json(
        "Jellyseerr",
        url,
        "/api/v1/request?take=1&skip=0&filter=all&sort=added",
        JellyseerrClient.key_header(key),
        key_variable="ST_JELLYSEERR_API_KEY",
    )
    info = page.get("pageInfo")
    total = info.get("results") if isinstance(info, dict) else None
    counted = ""
    if isinstance(total, int) and not isinstance(total, bool):
        counted = f", {total} request{'' if total == 1 else 's'}"
    return f"Jellyseerr at {redact_url(url)}{counted}"


async def _shoko(config: Config) -> str:
    if not config.shoko_url:
        raise _NotConfigured("ST_SHOKO_URL", "anime files are not matched")
    shown = redact_url(config.shoko_url)
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        try:
            # The listener's own first step: it checks the key without opening the feed.
            response = await read_answer(
                http,
                "POST",
                f"{config.shoko_url}/signalr/aggregate/negotiate",
                params={"negotiateVersion": "1", "feeds": "shoko"},
                headers={"apikey": config.shoko_api_key or ""},
                read_timeout=TIMEOUT_S,
            )
        except UnreadableAnswer as exc:
            raise _Failed(f"Shoko at {shown} {exc.problem}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _Failed(f"Shoko at {shown} is unreachable: {transport_problem(exc)}") from None
    if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        raise _Failed(f"Shoko at {shown} refused ST_SHOKO_API_KEY (HTTP {response.status_code})")
    if response.status_code >= 500:
        raise _Failed(f"Shoko at {shown} answered HTTP {response.status_code}")
    return f"Shoko reachable at {shown}"


async def _get_json(
    service: str, url: str, path: str, headers: Mapping[str, str], *, key_variable: str
) -> dict[str, typing.Any]:
    shown = redact_url(url)
    async with httpx.AsyncClient(timeout=TIMEOUT_S) as http:
        try:
            response = await read_answer(
                http, "GET", url + path, headers=dict(headers), read_timeout=TIMEOUT_S
            )
        except UnreadableAnswer as exc:
            raise _Failed(f"{service} at {shown} {exc.problem} to {path}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _Failed(
                f"{service} at {shown} is unreachable: {transport_problem(exc)}"
            ) from None
    if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
        raise _Failed(f"{service} at {shown} refused {key_variable} (HTTP {response.status_code})")
    if response.status_code != httpx.codes.OK:
        raise _Failed(f"{service} at {shown} answered HTTP {response.status_code} to {path}")
    try:
        body = load_json(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _Failed(f"{service} at {shown} answered {path} with something other than JSON")
    return body
