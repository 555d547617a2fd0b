"""What a webhook's fact is about, in one line for the log: its title and ids, nothing else."""

from __future__ import annotations

_IDS = (
    ("jellyseerr_request_id", "jellyseerr request"),
    ("tmdb_id", "tmdb"),
    ("tvdb_id", "tvdb"),
    ("imdb_id", "imdb"),
    ("radarr_id", "radarr"),
    ("sonarr_id", "sonarr"),
    ("item_id", "jellyfin"),
    ("download_hash", "download"),
)


def summary(fact: object) -> str:
    """What a webhook's fact is about, for its log line: title, ids and episode count.

    Only these fields: a fact carries no secret, but a body can carry a requester's e-mail.
    """
    series = getattr(fact, "series", None)

    def first(attribute: str) -> object:
        for holder in (fact, series):
            value = getattr(holder, attribute, None)
            if value is not None:
                return value
        return None

    title = first("title") or first("name")
    parts = [f"{label} {value}" for attribute, label in _IDS if (value := first(attribute))]
    if episodes := getattr(fact, "episodes", ()):
        parts.append(f"{len(episodes)} episode{'s' * (len(episodes) != 1)}")
    details = f" ({', '.join(parts)})" if parts else ""
    return f"{title!r}{details}" if title else details.strip()
