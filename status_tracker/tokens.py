"""The webhook and API secrets: from the environment, or generated once and stored."""

from __future__ import annotations

import secrets
import sys
import typing

import attrs

from status_tracker.storage import SetSetting, Store

TOKEN_NAMES = ("webhook", "api")


def variable_of(name: str) -> str:
    """The variable that sets the ``name`` token (``ST_API_TOKEN`` for ``api``)."""
    return f"ST_{name.upper()}_TOKEN"


@typing.final
@attrs.frozen
class Tokens:
    webhook: str = attrs.field(repr=False)
    api: str = attrs.field(repr=False)


async def ensure_tokens(store: Store, *, webhook: str | None, api: str | None) -> Tokens:
    """Configured secrets win; otherwise the stored ones, each generated and printed once."""
    chosen = {}
    for name, configured in zip(TOKEN_NAMES, (webhook, api), strict=True):
        if configured:
            chosen[name] = configured
            continue
        stored = await stored_token(store, name)
        if stored is None:
            stored = await rotate_token(store, name)
            print(
                f"status-tracker: generated {variable_of(name)}={stored} "
                "(stored in the database; `status-tracker tokens` shows it again)",
                file=sys.stderr,
                flush=True,
            )
        chosen[name] = stored
    return Tokens(webhook=chosen["webhook"], api=chosen["api"])


async def stored_token(store: Store, name: str) -> str | None:
    """The ``name`` token kept in the database, if one was generated."""
    return await store.get_setting(f"{name}_token")


async def rotate_token(store: Store, name: str) -> str:
    """Store a new random ``name`` token in place of the old one; returns it."""
    value = secrets.token_urlsafe(24)
    await store.commit([SetSetting(key=f"{name}_token", value=value)])
    return value
