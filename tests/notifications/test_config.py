"""The notification and metrics variables, and how their URLs are shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from status_tracker.clients.apprise_notifier import fingerprint, redact_notify_url

from status_tracker.config import Config, ConfigError
from tests.cli.support import run_cli


def test_urls_are_split_on_spaces_and_commas_and_kept_secret() -> None:
    config = Config.from_env(
        {"ST_NOTIFY_URLS": "json://h:1/a, tgram://123:ABC/456\n mailto://u:pw@example.org"}
    )
    assert config.notify_urls == (
        "json://h:1/a",
        "tgram://123:ABC/456",
        "mailto://u:pw@example.org",
    )
    assert config.notifications_configured
    assert "tgram://123:ABC/456" not in repr(config)
    assert set(config.notify_urls) <= set(config.secret_values())


def test_urls_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "urls"
    secret.write_text("json://h/a\njson://h/b\n")
    config = Config.from_env({"ST_NOTIFY_URLS_FILE": str(secret)})
    assert config.notify_urls == ("json://h/a", "json://h/b")


def test_defaults() -> None:
    config = Config.from_env({})
    assert config.notify_urls == ()
    assert not config.notifications_configured
    assert config.notify_events == ("available", "failed", "stuck")
    assert config.notify_batch_s == 30.0
    assert config.metrics_public is False


def test_users_map_a_display_name_to_urls() -> None:
    config = Config.from_env(
        {"ST_NOTIFY_USERS": "Ann Lee=json://h/1 json://h/2; bob=pover://u@t ;"}
    )
    assert config.notify_users == (
        ("Ann Lee", ("json://h/1", "json://h/2")),
        ("bob", ("pover://u@t",)),
    )
    assert "pover://u@t" in config.secret_values()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"ST_NOTIFY_URLS": "json://h/a not-a-url"}, "ST_NOTIFY_URLS: entry 2 is not an Apprise"),
        ({"ST_NOTIFY_USERS": "json://h/1"}, "ST_NOTIFY_USERS: entry 1 must be name=url"),
        ({"ST_NOTIFY_USERS": "ann="}, "user 'ann' has no URL"),
        ({"ST_NOTIFY_EVENTS": "available,bogus"}, "ST_NOTIFY_EVENTS: unknown event bogus"),
        ({"ST_METRICS_PUBLIC": "maybe"}, "ST_METRICS_PUBLIC must be true or false"),
        ({"ST_PUBLIC_URL": "tracker.example"}, "ST_PUBLIC_URL must start with http"),
    ],
)
def test_bad_values_are_named(variables: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Config.from_env(variables)


def test_an_invalid_url_is_never_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as raised:
        Config.from_env({"ST_NOTIFY_URLS": "secret-token-123"})
    assert "secret-token-123" not in str(raised.value)


def test_unknown_event_names_exit_2_naming_them(tmp_path: Path) -> None:
    done = run_cli(cwd=tmp_path, ST_NOTIFY_EVENTS="available,bogus,grabed")
    assert done.status == 2
    assert "unknown events bogus, grabed" in done.stderr


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://user:pw@host:8080/path?x=1", "json://***@host:8080/…"),
        ("json://127.0.0.1:9", "json://127.0.0.1:9"),
        ("tgram://123:ABC/456", "tgram://***"),
        ("discord://id/token", "discord://***"),
        ("mailto://u:p@gmail.com", "mailto://***"),
        ("nonsense", "***"),
    ],
)
def test_urls_are_shown_without_secrets(url: str, shown: str) -> None:
    assert redact_notify_url(url) == shown


def test_fingerprints_are_stable_and_short() -> None:
    assert fingerprint("json://h/a") == fingerprint(" json://h/a ")
    assert len(fingerprint("json://h/a")) == 16
    assert fingerprint("json://h/a") != fingerprint("json://h/b")
