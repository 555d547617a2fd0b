"""Links out: where a person opens a request in each service's own web page, built from the
address a browser reaches the service at. Pure; no user:password@ and no unchecked id in a link.
"""

from __future__ import annotations

import functools
import re
import typing
import urllib.parse

import attrs

from status_tracker.strict import normalise_origin

from ._records import RequestRow
from ._summary import EpisodeSummary

LINK_NAMES = ("Jellyseerr", "Sonarr", "Radarr", "qBittorrent", "Play in Jellyfin")
"""Every name a link may have, in the order the links come."""

# Sonarr (TheTVDB) slugs are lower-case words joined by hyphens; anything else is not put in a
# path (a ".." would climb out of the series pages), and the look-up by TVDB id serves instead.
_SLUG = re.compile(r"[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*")
_MAX_SLUG = 200
# Characters a configured base path keeps as they are; anything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"


@typing.final
@attrs.frozen(kw_only=True)
class ServiceAddresses:
    """Each service's address as a browser reaches it; None: not configured, so no link."""

    jellyseerr: str | None = None
    sonarr: str | None = None
    radarr: str | None = None
    qbittorrent: str | None = None
    jellyfin: str | None = None


@functools.lru_cache(maxsize=64)  # a few configured addresses, joined for every item of a page
def base_url(url: str | None) -> str | None:
    """``url`` as a base to join paths to: ``scheme://host[:port]/base-path`` without
    user:password@, query, fragment or trailing slash; None when it is not an http(s) URL."""
    if not url:
        return None
    try:
        parts = urllib.parse.urlsplit(url.strip())
        origin = normalise_origin(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}")
    except ValueError:
        return None
    path = urllib.parse.quote(parts.path.rstrip("/"), safe=_PATH_SAFE)
    return f"{origin}{path}"


def jellyfin_details(base: str | None, item_id: str) -> str | None:
    """Jellyfin's web client page of one item (play, details), or None without an address."""
    return _joined(base, f"/web/index.html#/details?id={urllib.parse.quote(item_id, safe='')}")


def request_links(
    request: RequestRow, episodes: EpisodeSummary, addresses: ServiceAddresses
) -> dict[str, str]:
    """``{name: url}`` of the pages that show this request, in the order it travels: Jellyseerr,
    Sonarr or Radarr, qBittorrent, then "Play in Jellyfin" once Jellyfin has it."""
    movie = request.media_type == "movie"
    # Each page is worked out only for a service with an address (a list item asks for five).
    found: dict[str, str | None] = {}
    if addresses.jellyseerr and request.tmdb_id:
        kind = "movie" if movie else "tv"
        found["Jellyseerr"] = _joined(addresses.jellyseerr, f"/{kind}/{request.tmdb_id}")
    if movie and addresses.radarr:
        found["Radarr"] = _joined(addresses.radarr, _radarr_page(request))
    if not movie and addresses.sonarr:
        found["Sonarr"] = _joined(addresses.sonarr, _sonarr_page(request))
    # qBittorrent's Web UI has no page per torrent: its start page, once there is a torrent.
    if addresses.qbittorrent and _has_torrent(request, episodes):
        found["qBittorrent"] = _joined(addresses.qbittorrent, "/")
    item = _jellyfin_item(request, episodes) if addresses.jellyfin else None
    if item:
        found["Play in Jellyfin"] = jellyfin_details(addresses.jellyfin, item)
    return {name: url for name, url in found.items() if url is not None}


def _joined(address: str | None, page: str | None) -> str | None:
    root = base_url(address)
    return f"{root}{page}" if root is not None and page is not None else None


def _radarr_page(request: RequestRow) -> str | None:
    # Radarr (v4 and later) names a movie's page by its TMDB id.
    return f"/movie/{request.tmdb_id}" if request.tmdb_id else None


def _sonarr_page(request: RequestRow) -> str | None:
    slug = request.sonarr_slug
    if slug and len(slug) <= _MAX_SLUG and _SLUG.fullmatch(slug):
        return f"/series/{slug}"
    # Sonarr's "add new" search by TVDB id lists the series, linked to its page when Sonarr
    # has it: what Sonarr offers before one of its webhooks told us the series' slug.
    return f"/add/new?term=tvdb:{request.tvdb_id}" if request.tvdb_id else None


def _has_torrent(request: RequestRow, episodes: EpisodeSummary) -> bool:
    return bool(request.download_hash) or episodes.in_torrent


def _jellyfin_item(request: RequestRow, episodes: EpisodeSummary) -> str | None:
    """The request's own Jellyfin item (the movie, or the series), else the first episode
    Jellyfin has listed (a series Jellyfin only announced episode by episode); None once
    deleted."""
    if request.state == "deleted":
        return None
    return request.jellyfin_id or episodes.first_listed
