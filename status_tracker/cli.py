"""The command line: no command serves; ``check-config``, ``tokens``, ``backup`` and ``restore``
help run it."""

from __future__ import annotations

import argparse
import importlib.metadata
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

import trio

from status_tracker.storage import StorageError, open_store, parse_database_url

from .backup import BackupFailed, BackupRefused, backup, restore
from .checks import check_config, sqlite_location_problem
from .config import Config
from .logs import Redactor
from .tokens import TOKEN_NAMES, rotate_token, stored_token, variable_of

PROG = "status-tracker"


def package_version() -> str:
    """The installed package's version, or the source tree's when it is not installed."""
    try:
        return importlib.metadata.version(PROG)
    except importlib.metadata.PackageNotFoundError:
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
        return tomllib.loads(pyproject.read_text())["project"]["version"]


def parse_arguments(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command and its options; ``--help``, ``--version`` and usage errors exit here."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [-h] [--version] "
        "[check-config | tokens [--rotate {webhook,api}] | backup PATH | restore BACKUP]",
        description="Follows media requests from Jellyseerr to playable in Jellyfin. "
        "Without a command, runs the service until SIGINT or SIGTERM.",
        epilog="Settings are ST_* environment variables (see the README); "
        "every secret may also be given as NAME_FILE, a file holding it.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "check-config",
        help="check every ST_ variable, then try the database and each configured service",
        description="Check every ST_ variable, then try the database (without changing it) and "
        "each configured service. Exits 0 when all work, 2 otherwise.",
    )
    tokens = commands.add_parser(
        "tokens",
        help="show the stored webhook and API tokens, or replace one",
        description="Show the webhook and API tokens stored in the database (the ones used "
        "when ST_WEBHOOK_TOKEN / ST_API_TOKEN are not set), or replace one with a new "
        "random value, used from the service's next start.",
    )
    tokens.add_argument(
        "--rotate", choices=TOKEN_NAMES, help="replace this token with a new random one"
    )
    copy = commands.add_parser(
        "backup",
        help="write a consistent copy of the SQLite database to PATH",
        description="Write a consistent copy of the SQLite database to PATH (a new file), "
        "safe while the service runs, and check that the copy reads back. "
        "For PostgreSQL use pg_dump.",
    )
    copy.add_argument("path", metavar="PATH", type=Path, help="the new file to write")
    put_back = commands.add_parser(
        "restore",
        help="put a backup in place of the SQLite database (the service stopped)",
        description="Check BACKUP (SQLite's integrity check; a status-tracker database this "
        "version can open), then put it in place of the SQLite database: the -wal and -shm "
        "files a crash left beside the database are removed, and the copy is renamed into "
        "place whole. Refused while the service (or any process) has the database open. "
        "For PostgreSQL use pg_restore.",
    )
    put_back.add_argument("backup", metavar="BACKUP", type=Path, help="the backup to restore")
    return parser.parse_args(argv)


def run_command(arguments: argparse.Namespace, config: Config, redact: Redactor) -> int:
    """Run a command other than serving; returns the exit status."""
    try:
        if arguments.command == "check-config":
            return trio.run(_check_config, config, redact)
        if arguments.command == "tokens":
            return _tokens(config, arguments.rotate)
        if arguments.command == "restore":
            print(restore(config.database_url, arguments.backup))
            return 0
        print(backup(config.database_url, arguments.path))
    except Exception as error:
        cause = first_leaf(error)
        if isinstance(cause, (BackupRefused, _Refused)):
            return _fail(str(cause), status=2)
        if isinstance(cause, (BackupFailed, StorageError, OSError)):
            return _fail(redact(str(cause)), status=1)
        raise
    return 0


def first_leaf(error: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups: the one worth telling the user."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


class _Refused(Exception):
    """The command cannot do what was asked as configured (exit status 2)."""


def _fail(message: str, *, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


async def _check_config(config: Config, redact: Redactor) -> int:
    checks = await check_config(config)
    for check in checks:
        print(redact(check.line()))
    return 0 if all(check.passed for check in checks) else 2


def _tokens(config: Config, rotate: str | None) -> int:
    dialect, path = parse_database_url(config.database_url)
    if dialect == "sqlite" and not Path(path).is_file():
        raise _Refused(
            f"there is no database at {path}; the service creates it and its tokens "
            "at the first start (or ST_DATABASE_URL names another database)"
        )
    if dialect == "sqlite" and (problem := sqlite_location_problem(path)):
        # Opening the store writes (WAL files, migrations), even only to show the tokens.
        raise _Refused(problem)
    configured = {"webhook": config.webhook_token, "api": config.api_token}
    if rotate is not None and configured[rotate]:
        raise _Refused(
            f"{variable_of(rotate)} is set, so the service does not use the stored token; "
            f"change {variable_of(rotate)} instead"
        )
    return trio.run(_tokens_in_database, config, rotate)


async def _tokens_in_database(config: Config, rotate: str | None) -> int:
    configured = {"webhook": config.webhook_token, "api": config.api_token}
    async with open_store(config.database_url) as store:
        if rotate is not None:
            value = await rotate_token(store, rotate)
            print(f"{variable_of(rotate)}={value}")
            print(_after_rotation(rotate), file=sys.stderr)
            return 0
        for name in TOKEN_NAMES:
            if configured[name]:
                print(f"{variable_of(name)} is set in the environment: the service uses that")
            elif (stored := await stored_token(store, name)) is None:
                print(f"{variable_of(name)}: none stored yet; generated at the next start")
            else:
                print(f"{variable_of(name)}={stored}")
    return 0


def _after_rotation(name: str) -> str:
    message = f"{PROG}: stored; the service uses the new token from its next start"
    if name == "api":
        return (
            f"{message}. Every dashboard sign-in ends then: sign in with the new token, and "
            "give it to every API and live-feed client"
        )
    return f"{message}. Give it to Jellyseerr, Sonarr, Radarr and the Jellyfin webhook plugin"
