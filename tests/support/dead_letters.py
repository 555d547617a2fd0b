"""Seeding a running service with a dead letter, as the dispatcher leaves one."""

from __future__ import annotations

from status_tracker.storage import RecordDeadLetter

from .service import RunningService


async def dead_letter(service: RunningService, body: str | None) -> int:
    """A dead letter of a webhook that crashed its actor too often, with its body or without.

    Returns its id.
    """
    store = service.system.store
    await store.commit(
        [
            RecordDeadLetter(
                at=service.system.clock.now(),
                actor="dispatch",
                message="Mail(...)",
                error="RuntimeError: the cause, since fixed",
                mail_id=41,
                target="dispatch" if body is not None else None,
                source="radarr" if body is not None else None,
                kind="Grab" if body is not None else None,
                body=body,
            )
        ]
    )
    letters, _ = await store.dead_letters(limit=1)
    return letters[0].id
