"""The webhook and API secrets: from the environment, or generated once and stored."""

from __future__ import annotations

import secrets
import sys
import typing

import attrs

from status_tracker.storage import SetSetting, Store


@typing.final
@attrs.frozen
class Tokens:
    webhook: str = attrs.field(repr=False)
    api: str = attrs.field(repr=False)


async def ensure_tokens(store: Store, *, webhook: str | None, api: str | None) -> Tokens:
    """Configured secrets win; otherwise the stored ones, each generated and printed once."""
    chosen = {}
    for name, configured in (("webhook", webhook), ("api", api)):
        if configured:
            chosen[name] = configured
            continue
        key = f"{name}_token"
        stored = await store.get_setting(key)
        if stored is None:
            stored = secrets.token_urlsafe(24)
            await store.commit([SetSetting(key=key, value=stored)])
            variable = f"ST_{name.upper()}_TOKEN"
            print(
                f"status-tracker: generated {variable}={stored} "
                "(stored in the database; shown only this once)",
                file=sys.stderr,
                flush=True,
            )
        chosen[name] = stored
    return Tokens(webhook=chosen["webhook"], api=chosen["api"])
