"""Logs a self-hoster can read: a line per webhook and state change, JSON if asked, no secret."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from status_tracker.config import Config
from status_tracker.logs import MASK, JsonFormatter, RedactingFilter, Redactor, mask_emails
from tests.support.fake_qbittorrent import open_fake_qbittorrent
from tests.support.fixtures import load_fixture
from tests.support.process import service_process
from tests.support.service import wait_until

WEBHOOK_TOKEN = "webhook-token-from-a-file"
API_TOKEN = "api-token-in-the-environment"
REQUESTER_EMAIL = "kyouko@example.com"


async def post_request_and_wait(
    url: str, *, token_in_query: bool, title: str | None = None
) -> None:
    body = load_fixture("jellyseerr/media_auto_approved_movie.json")
    assert body["request"]["requestedBy_email"] == REQUESTER_EMAIL
    if title is not None:
        body["subject"] = f"{title} (2021)"
    async with httpx.AsyncClient(base_url=url) as http:
        if token_in_query:
            answer = await http.post(f"/webhooks/jellyseerr?token={WEBHOOK_TOKEN}", json=body)
        else:
            headers = {"Authorization": f"Bearer {WEBHOOK_TOKEN}"}
            answer = await http.post("/webhooks/jellyseerr", json=body, headers=headers)
        assert answer.status_code == 200, answer.text

        async def listed() -> bool:
            api = {"Authorization": f"Bearer {API_TOKEN}"}
            return (await http.get("/api/requests", headers=api)).json()["total"] == 1

        await wait_until(listed, what="the request to be listed")


async def test_json_logs_at_debug_parse_and_carry_no_secret_or_email(tmp_path: Path) -> None:
    token_file = tmp_path / "webhook-token"
    token_file.write_text(f"{WEBHOOK_TOKEN}\n")
    async with service_process(
        tmp_path,
        ST_DATABASE_URL=f"sqlite:///{tmp_path / 'status-tracker.db'}",
        ST_WEBHOOK_TOKEN_FILE=str(token_file),
        ST_API_TOKEN=API_TOKEN,
        ST_LOG_LEVEL="DEBUG",
        ST_LOG_FORMAT="json",
    ) as service:
        # A title is no place for an address, but nothing stops a requester putting one there.
        await post_request_and_wait(
            service.url, token_in_query=True, title=f"Ask {REQUESTER_EMAIL} about it"
        )

    text = service.log.read_text()
    records = [json.loads(line) for line in text.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    for secret in (WEBHOOK_TOKEN, API_TOKEN, REQUESTER_EMAIL, "@example.com"):
        assert secret not in text
    messages = [record["message"] for record in records if record["level"] == "INFO"]
    assert (
        f"webhook from jellyseerr: MEDIA_AUTO_APPROVED 'Ask {MASK} about it' "
        "(jellyseerr request 71, tmdb 1052946)"
    ) in messages
    assert f"request 1 'Ask {MASK} about it' new → approved" in messages


def polling(tmp_path: Path, qbittorrent_url: str) -> dict[str, str]:
    """The settings of a service on SQLite polling qBittorrent at ``qbittorrent_url`` often."""
    return {
        "ST_DATABASE_URL": f"sqlite:///{tmp_path / 'status-tracker.db'}",
        "ST_WEBHOOK_TOKEN": WEBHOOK_TOKEN,
        "ST_API_TOKEN": API_TOKEN,
        "ST_QBITTORRENT_URL": qbittorrent_url,
        "ST_QBITTORRENT_USERNAME": "admin",
        "ST_QBITTORRENT_PASSWORD": "adminadmin",
        "ST_POLL_ACTIVE_S": "0.05",
        "ST_POLL_IDLE_S": "0.05",
    }


async def test_at_info_polling_is_silent_and_what_happened_is_said(tmp_path: Path) -> None:
    async with (
        open_fake_qbittorrent("admin", "adminadmin") as qbittorrent,
        service_process(tmp_path, **polling(tmp_path, qbittorrent.url)) as service,
    ):
        await post_request_and_wait(service.url, token_in_query=False)

        async def polled_often() -> bool:
            return qbittorrent.paths.count("/api/v2/sync/maindata") >= 20

        await wait_until(polled_often, what="twenty polls")

    lines = service.log.read_text().splitlines()
    assert not [line for line in lines if " httpx: " in line or " httpcore" in line]
    assert any(
        "INFO status_tracker.ingress.http.webhooks: webhook from jellyseerr" in line
        for line in lines
    )
    assert any("new → approved" in line for line in lines)
    assert len(lines) < 10, lines


async def test_a_password_in_a_service_url_is_masked_where_httpx_logs_the_url(
    tmp_path: Path,
) -> None:
    async with (
        open_fake_qbittorrent("admin", "adminadmin") as qbittorrent,
        service_process(
            tmp_path,
            # No dot in the host name (a Docker service's): nothing there looks like an e-mail.
            **polling(
                tmp_path,
                qbittorrent.url.replace("http://127.0.0.1", "http://proxy:hunter2pw@localhost"),
            ),
            ST_LOG_LEVEL="DEBUG",
        ),
    ):

        async def polled() -> bool:
            return qbittorrent.paths.count("/api/v2/sync/maindata") >= 3

        await wait_until(polled, what="three polls")

    text = (tmp_path / "service.log").read_text()
    assert "httpx: HTTP Request: POST http://proxy:***@localhost:" in text
    assert "hunter2pw" not in text


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger whose records go through the redaction filter into JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    config = Config(api_token="s3cret/token+x", database_url="postgresql://st:pg-pass@db/st")
    handler.addFilter(RedactingFilter(Redactor(config.secret_values())))
    logger = logging.getLogger("tests.cli.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_secrets_and_emails_are_masked_in_messages_and_tracebacks(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.warning("called %s?token=%s", "/api", "s3cret%2Ftoken%2Bx")
    try:
        raise ValueError("login failed for st:pg-pass, notify ops@example.org")
    except ValueError:
        logger.exception("could not connect as %r", "someone@example.net")

    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == f"called /api?token={MASK}"
    assert second["message"] == f"could not connect as '{MASK}'"
    assert "ValueError: login failed for st:***, notify ***" in second["exc"]
    assert "pg-pass" not in stream.getvalue()


EMAIL_PATTERN = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
"""What an address looks like to the log's mask (quadratic in a long run if searched as is)."""


@given(st.lists(st.sampled_from(["a", "é", "1", "_", ".", "-", "+", "%", "@", " ", ":", "x.y"])))
def test_addresses_are_masked_as_the_pattern_finds_them(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert mask_emails(text) == EMAIL_PATTERN.sub(MASK, text)


def test_a_megabyte_line_is_masked_like_a_short_one() -> None:
    """No time is asserted: a quadratic regression (2 s for 20 KB before) hangs the run."""
    run = "a1_" * (1 << 18)
    assert mask_emails(f"{run} mail {run}@example.org {run}@") == f"{run} mail {MASK} {run}@"
