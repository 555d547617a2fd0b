"""Issue 9: what a grab says about its release, and who asked, read from the real payloads."""

from __future__ import annotations

import typing

import pytest
from status_tracker.actors.media_request.messages import (
    EpisodesGrabbed,
    MediaRequested,
    MovieGrabbed,
)
from status_tracker.ingress.translate import PayloadError, translate

from status_tracker.config import Config, ConfigError
from status_tracker.domain import ReleaseFacts
from tests.support.fixtures import load_fixture as fixture


@pytest.mark.parametrize(
    ("name", "facts"),
    [
        (
            "sonarr/grab_season_pack.json",
            ReleaseFacts(
                quality="Bluray-1080p",
                release_group="Judas",
                indexer="Nyaa.si (Prowlarr)",
                languages=("Japanese", "English"),
                custom_formats=("Anime Dual Audio", "10bit", "x265 (HD)"),
            ),
        ),
        (
            "captured/sonarr-grab.json",
            ReleaseFacts(
                quality="Bluray-1080p",
                release_group="FLE",
                indexer="Nyaa.si (Prowlarr)",
                languages=("Japanese",),
                custom_formats=("Anime Dual Audio", "Repack/Proper", "x265 (HD)"),
            ),
        ),
        (
            "sonarr/grab_v3.json",
            ReleaseFacts(
                quality="Bluray-1080p", release_group="ROVERS", indexer="IPTorrents (Jackett)"
            ),
        ),
        (
            "radarr/grab.json",
            ReleaseFacts(
                quality="WEBDL-1080p",
                release_group="GST",
                indexer="TorrentLeech (Prowlarr)",
                languages=("Japanese",),
                custom_formats=("NF",),
            ),
        ),
    ],
)
def test_a_grab_carries_its_release_facts(name: str, facts: ReleaseFacts) -> None:
    source = name.split("/")[0] if not name.startswith("captured") else "sonarr"
    fact = translate(source, fixture(name))
    assert isinstance(fact, EpisodesGrabbed | MovieGrabbed)
    assert fact.release == facts


def test_custom_formats_come_from_custom_format_info_when_the_release_lists_none() -> None:
    body = fixture("radarr/grab.json")
    del body["release"]["customFormats"]
    fact = translate("radarr", body)
    assert isinstance(fact, MovieGrabbed)
    assert fact.release is not None
    assert fact.release.custom_formats == ("NF",)


def test_a_long_language_list_keeps_each_name_once_in_order() -> None:
    """60,000 language entries (about 0.6 MiB), each name twice: the 30,000 names, once each,
    in the order they first appear.

    Before the fix every name was looked up in a list of those kept: quadratic, this
    translation hung for about 10 s.
    """
    names = [f"Language {number}" for number in range(30_000)]
    body = fixture("radarr/grab.json")
    body["release"]["languages"] = [{"id": 1, "name": name} for name in names] + names
    fact = translate("radarr", body)
    assert isinstance(fact, MovieGrabbed)
    assert fact.release is not None
    assert fact.release.languages == tuple(names)


def test_a_language_that_is_neither_a_name_nor_an_object_is_refused() -> None:
    body = fixture("radarr/grab.json")
    body["release"]["languages"] = [8]
    with pytest.raises(PayloadError, match=r"release\.languages\[0\]"):
        translate("radarr", body)


@pytest.mark.parametrize(
    ("username", "email", "shown"),
    [
        ("izumi", "izumi@example.com", "izumi"),
        ("izumi@example.com", "izumi@example.com", None),
        ("someone@else.org", "izumi@example.com", None),
        ("", "izumi@example.com", None),
    ],
)
def test_who_asked_is_the_display_name_never_an_email(
    username: str, email: str, shown: str | None
) -> None:
    body = fixture("jellyseerr/media_approved_tv.json")
    body["request"]["requestedBy_username"] = username
    body["request"]["requestedBy_email"] = email
    fact = translate("jellyseerr", body)
    assert isinstance(fact, MediaRequested)
    assert fact.requested_by == shown


def test_the_view_token_is_read_like_every_secret(tmp_path: typing.Any) -> None:
    secret = tmp_path / "view"
    secret.write_text("from-a-file\n")
    assert Config.from_env({"ST_VIEW_TOKEN": "v"}).view_token == "v"
    assert Config.from_env({"ST_VIEW_TOKEN_FILE": str(secret)}).view_token == "from-a-file"
    assert "from-a-file" in Config.from_env({"ST_VIEW_TOKEN_FILE": str(secret)}).secret_values()
    with pytest.raises(ConfigError, match="ST_VIEW_TOKEN must differ"):
        Config.from_env({"ST_VIEW_TOKEN": "same", "ST_API_TOKEN": "same"})
