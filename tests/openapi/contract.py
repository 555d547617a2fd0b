"""Checking real answers of the service against its OpenAPI document with ``jsonschema``."""

from __future__ import annotations

import json
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs
import jsonschema
from status_tracker.actors.envelope import Deliver
from status_tracker.actors.torrent.messages import TorrentObserved

from tests.browser.harness import HORIMIYA_HASH
from tests.support.dead_letters import dead_letter
from tests.support.packs import HORIMIYA_FOLDER, horimiya_files
from tests.support.service import RunningService
from tests.support.webhook_bodies import replaced, source_of

METHODS = ("get", "post", "put", "patch", "delete")


class Answer(typing.Protocol):
    """What both httpx and requests responses offer."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes


@typing.final
@attrs.define
class Contract:
    """The document, and which (method, path, status) answers were checked against it."""

    document: dict[str, Any]
    seen: set[tuple[str, str, int]] = attrs.field(factory=set)

    def schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` with the document's components beside it, so ``#/components`` refs hold."""
        return {"components": self.document["components"], "allOf": [schema]}

    def check(self, method: str, path: str, response: Answer) -> Any:
        """Assert the answer is one the document lists for ``method path``; return its JSON."""
        operation = self.document["paths"][path][method.lower()]
        status = response.status_code
        described = operation["responses"].get(str(status))
        assert described is not None, (
            f"{method} {path} answered {status}, which the document does not list: "
            f"{response.content[:300]!r}"
        )
        self.seen.add((method.upper(), path, status))
        for name, header in described.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{method} {path} {status}: no {name} header"
        content = described.get("content")
        if content is None:
            return None
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        assert media_type in content, (
            f"{method} {path} {status}: {media_type!r} is not one of {sorted(content)}"
        )
        if media_type != "application/json":
            return response.content
        body = json.loads(response.content)
        jsonschema.validate(
            body,
            self.schema(content[media_type]["schema"]),
            cls=jsonschema.Draft202012Validator,
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        return body

    def check_error(self, response: Answer) -> dict[str, Any]:
        """An answer outside any operation (405, an unknown path) is the ``Error`` shape."""
        assert response.headers.get("content-type", "").startswith("application/json")
        body = json.loads(response.content)
        jsonschema.validate(
            body, self.schema({"$ref": "#/components/schemas/Error"}),
            cls=jsonschema.Draft202012Validator,
        )  # fmt: skip
        return body


FLOWS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("jellyseerr/media_auto_approved_movie.json", {}),
    ("radarr/grab.json", {"movie__tags": []}),
    ("radarr/download.json", {"movie__tags": []}),
    ("jellyfin/item_added_movie.json", {}),
    ("jellyseerr/media_approved_tv.json", {}),
    ("sonarr/grab_season_pack.json", {}),
)
"""A movie to available, a series season pack grabbed: the webhooks, in order."""


def fixture_body(relative_path: str, **replace: Any) -> tuple[str, dict[str, Any]]:
    """The webhook source and body of a fixture, with ``a__b=value`` replacements."""
    return source_of(relative_path), replaced(relative_path, **replace)


async def seed(
    service: RunningService, post: Callable[[str, dict[str, Any]], Awaitable[Any]]
) -> None:
    """The flows through ``post(source, body)``, the pack's first three episodes downloaded
    and the rest a quarter done, and two dead letters (one kept its body)."""
    for relative_path, replace in FLOWS:
        await post(*fixture_body(relative_path, **replace))
    await service.settled()
    files = horimiya_files({n: (1.0 if n <= 3 else 0.25) for n in range(1, 14)})
    seen = TorrentObserved(
        hash=HORIMIYA_HASH,
        name=HORIMIYA_FOLDER,
        state="downloading",
        client_state="downloading",
        progress=40.0,
        files=files,
    )
    await service.system.call_torrent(
        HORIMIYA_HASH, Deliver(messages=(seen,), source="qbittorrent")
    )
    await service.settled()
    await dead_letter(service, json.dumps({"eventType": "Test"}))
    await dead_letter(service, None)
