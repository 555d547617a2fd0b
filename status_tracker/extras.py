"""Optional parts: PostgreSQL support (``pip install '.[postgresql]'``: asyncpg) is imported
only for a PostgreSQL ``ST_DATABASE_URL``; SQLite needs none of it."""

from __future__ import annotations

import importlib

from status_tracker.storage import parse_database_url

POSTGRESQL_MODULES = ("asyncpg",)
POSTGRESQL_MISSING = (
    "ST_DATABASE_URL is a PostgreSQL URL but PostgreSQL support is not installed; "
    "install it with: pip install '.[postgresql]' (from the source folder)"
)


def is_postgresql(database_url: str) -> bool:
    try:
        return parse_database_url(database_url)[0] == "postgresql"
    except ValueError:
        return False


def postgresql_missing(database_url: str) -> str | None:
    """The one-line error to show when the URL needs the extra and it is not installed."""
    if not is_postgresql(database_url):
        return None
    try:
        for name in POSTGRESQL_MODULES:
            importlib.import_module(name)
    except ImportError:
        return POSTGRESQL_MISSING
    return None
