"""Fields Sonarr and Radarr webhooks share (same serializer, same WebhookBase conventions)."""

from __future__ import annotations

from status_tracker.ingress.translate._fields import JsonObject, PayloadError, preview, strictly

from status_tracker import strict
from status_tracker.domain import ReleaseFacts


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


def release_facts(body: JsonObject) -> ReleaseFacts | None:
    """What a grab says about its release: ``release.quality``, ``releaseGroup``, ``indexer``,
    ``languages`` (objects with a ``name``), ``customFormats`` (names; else the names in
    ``customFormatInfo.customFormats``). None when the body has no release.

    Raises:
        PayloadError: one of those fields has the wrong type.
    """
    release = body.optional_child("release")
    if release is None:
        return None
    custom_formats = release.strings("customFormats")
    if not custom_formats and (info := body.optional_child("customFormatInfo")) is not None:
        custom_formats = tuple(
            name
            for custom_format in info.optional_children("customFormats")
            if (name := custom_format.optional_text("name"))
        )
    return ReleaseFacts(
        quality=release.optional_text("quality"),
        release_group=release.optional_text("releaseGroup"),
        indexer=release.optional_text("indexer"),
        languages=_language_names(release),
        custom_formats=custom_formats,
    )


def _language_names(release: JsonObject) -> tuple[str, ...]:
    """``release.languages``: Sonarr v4 and Radarr send ``{"id", "name"}`` objects; plain names
    are taken as they are."""
    raw = release.raw("languages")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise PayloadError(f"{release.name('languages')} is not a list: {preview(raw)}")
    names: dict[str, None] = {}  # an ordered set: a list's "not in" is quadratic in a long list
    for index, item in enumerate(raw):
        if isinstance(item, str):
            name: str | None = item
        elif isinstance(item, dict):
            where = f"{release.name('languages')}[{index}]"
            name = JsonObject.of(item, where).optional_text("name")
        else:
            raise PayloadError(
                f"{release.name('languages')}[{index}] is not a language: {preview(item)}"
            )
        if name and name not in names:
            names[strictly(strict.check_text, name, release.name("languages"))] = None
    return tuple(names)
