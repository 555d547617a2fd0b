"""Fields Sonarr and Radarr webhooks share (same serializer, same WebhookBase conventions)."""

from __future__ import annotations

from status_tracker.ingress.translate._fields import JsonObject


def download_hash(body: JsonObject) -> str | None:
    """``downloadId`` lower-cased (torrent hashes come upper-case; qBittorrent's are lower)."""
    download_id = body.optional_text("downloadId")
    return download_id.lower() if download_id is not None else None


def poster_url(media: JsonObject) -> str | None:
    """The ``remoteUrl`` of the first ``poster`` in ``media.images``, if any."""
    for image in media.optional_children("images"):
        if image.optional_text("coverType") == "poster":
            return image.optional_text("remoteUrl")
    return None


def release_title(body: JsonObject) -> str | None:
    """``release.releaseTitle``, if the body has a release."""
    release = body.optional_child("release")
    return release.optional_text("releaseTitle") if release is not None else None


def release_size(body: JsonObject) -> int | None:
    """``release.size`` in bytes, if the body has a release that knows it."""
    release = body.optional_child("release")
    return release.optional_id("size") if release is not None else None


def status_messages(body: JsonObject) -> tuple[str, ...]:
    """``downloadStatusMessages`` flattened to one line per message, ``"<title>: <message>"``."""
    lines: list[str] = []
    for status in body.optional_children("downloadStatusMessages"):
        title = status.optional_text("title")
        for message in status.strings("messages"):
            lines.append(f"{title}: {message}" if title else message)
    return tuple(lines)
