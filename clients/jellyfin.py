"""Jellyfin REST client for the availability verifier: item search, series episodes, id look-ups.

Jellyfin ignores ``AnyProviderIdEquals``, so provider ids are matched here (``match_provider_id``).
"""

from __future__ import annotations

import types
import typing

import attrs
import httpx
from status_tracker.clients._fields import REQUIRED, WireObject
from status_tracker.clients._http import ClientError, KeyedService

from status_tracker.strict import parse_id, unstorable_character

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

_SERVICE: typing.Final = "Jellyfin"
_NUMERIC_PROVIDERS: typing.Final = frozenset({"tmdb", "tvdb", "anidb"})
_REQUESTED_FIELDS: typing.Final = "ProviderIds,Path,OriginalTitle"
"""Extra ``Fields`` asked for; Jellyfin leaves these out of every item unless requested."""


def normalize_item_id(item_id: str) -> str:
    """Jellyfin ids are Guids: compare them without hyphens, lower-cased."""
    return item_id.replace("-", "").lower()


def _optional_id(item_id: str | None) -> str | None:
    return None if item_id is None else normalize_item_id(item_id)


def _provider_ids(wire_ids: Mapping[str, typing.Any]) -> Mapping[str, str]:
    """Provider ids keyed by lower-cased name (``tmdb``, ``shoko series``), values as strings."""
    return types.MappingProxyType({key.lower(): str(value) for key, value in wire_ids.items()})


def _numeric_provider(key: str) -> bool:
    return key in _NUMERIC_PROVIDERS or key.startswith("shoko ")


def _readable_provider_ids(wire_ids: Mapping[str, object]) -> dict[str, str]:
    """The provider ids worth matching; one that cannot be an id (``"tt1"`` as TMDB's) is left out.

    TMDB, TVDB, AniDB and Shoko ids go through ``parse_id`` and are kept in its canonical form,
    so ``"0042"`` matches our 42; other providers (IMDb's ``tt…``) keep their text.
    """
    readable: dict[str, str] = {}
    for key, value in wire_ids.items():
        name = key.lower()
        if _numeric_provider(name):
            try:
                readable[name] = str(parse_id(value, what=key))
            except ValueError:
                continue
        elif isinstance(value, str) and value and unstorable_character(value) is None:
            readable[name] = value
    return readable


@typing.final
class JellyfinAuthError(ClientError):
    """Jellyfin refused the API key (401 or 403)."""


@typing.final
class JellyfinItemNotFound(ClientError):
    """Jellyfin does not know the requested item (404)."""


@typing.final
@attrs.frozen(kw_only=True)
class JellyfinItem:
    """One ``BaseItemDto`` as the tracker reads it; ids normalised, provider keys lower-cased.

    ``season``/``episode``/``episode_end`` are Jellyfin's ``ParentIndexNumber``/``IndexNumber``/
    ``IndexNumberEnd`` (``episode`` is the season number on a Season item).
    """

    id: str
    name: str
    type: str
    year: int | None = None
    provider_ids: Mapping[str, str] = attrs.field(factory=dict, converter=_provider_ids, hash=False)
    path: str | None = None
    series_id: str | None = None
    series_name: str | None = None
    season: int | None = None
    episode: int | None = None
    episode_end: int | None = None
    location_type: str | None = None
    original_title: str | None = None

    @property
    def is_on_disk(self) -> bool:
        """False for ``Virtual`` items: episodes Jellyfin knows of but has no file for."""
        return self.location_type != "Virtual"

    @classmethod
    def from_wire(cls, dto: object) -> JellyfinItem:
        """Build an item from Jellyfin's PascalCase ``BaseItemDto`` (absent keys mean null).

        Raises:
            UnexpectedResponse: a field has the wrong type; provider ids that are not ids are
                left out instead.
        """
        item = WireObject(dto, service=_SERVICE, what="an item")
        return cls(
            id=normalize_item_id(item.text("Id", REQUIRED)),
            name=item.text("Name"),
            type=item.text("Type"),
            year=item.optional_integer("ProductionYear"),
            provider_ids=_readable_provider_ids(item.mapping("ProviderIds")),
            path=item.optional_text("Path"),
            series_id=_optional_id(item.optional_text("SeriesId")),
            series_name=item.optional_text("SeriesName"),
            season=item.optional_integer("ParentIndexNumber"),
            episode=item.optional_integer("IndexNumber"),
            episode_end=item.optional_integer("IndexNumberEnd"),
            location_type=item.optional_text("LocationType"),
            original_title=item.optional_text("OriginalTitle"),
        )


def match_provider_id(
    items: Iterable[JellyfinItem], key: str, value: str | int
) -> list[JellyfinItem]:
    """The items whose provider id ``key`` (any case, e.g. ``Tmdb``) equals ``str(value)``."""
    wanted_key = key.lower()
    wanted_value = str(value)
    return [item for item in items if item.provider_ids.get(wanted_key) == wanted_value]


@typing.final
class JellyfinClient(KeyedService):
    """Read-only access to one Jellyfin server with an API key (no user id needed).

    Use as an async context manager, or call ``aclose()``.
    """

    service_name = _SERVICE

    @staticmethod
    def key_header(api_key: str) -> dict[str, str]:
        return {"Authorization": f'MediaBrowser Token="{api_key}"'}

    async def ping(self) -> str:
        """The server's version from the public system info (needs no key): a reachability check."""
        response = await self._send("GET", "/System/Info/Public")
        info = WireObject(self._json(response, dict), service=_SERVICE, what="its system info")
        return info.text("Version", REQUIRED)

    async def search_items(
        self, search_term: str, item_types: Sequence[str], years: Sequence[int] = ()
    ) -> list[JellyfinItem]:
        """Items whose name or original title contains ``search_term``, of the given types/years."""
        params = {"Recursive": "true", "Fields": _REQUESTED_FIELDS, "searchTerm": search_term}
        if item_types:
            params["IncludeItemTypes"] = ",".join(item_types)
        if years:
            params["Years"] = ",".join(str(year) for year in years)
        return await self._get_items("/Items", params)

    async def show_episodes(self, series_id: str, season: int | None = None) -> list[JellyfinItem]:
        """A series' episodes, Virtual ones included. Raises ``JellyfinItemNotFound``."""
        params = {"Fields": _REQUESTED_FIELDS}
        if season is not None:
            params["season"] = str(season)
        return await self._get_items(f"/Shows/{normalize_item_id(series_id)}/Episodes", params)

    async def get_items(self, ids: Iterable[str]) -> list[JellyfinItem]:
        """The items with these ids; unknown ids are left out."""
        wanted = list(dict.fromkeys(normalize_item_id(item_id) for item_id in ids))
        if not wanted:
            return []
        params = {"Recursive": "true", "Fields": _REQUESTED_FIELDS, "ids": ",".join(wanted)}
        return await self._get_items("/Items", params)

    async def refresh_item(self, item_id: str) -> bool:
        """Ask Jellyfin to refresh an item; for a folder (series, season) it also looks for new
        files. False when Jellyfin does not know the item."""
        response = await self._send(
            "POST",
            f"/Items/{normalize_item_id(item_id)}/Refresh",
            params={"metadataRefreshMode": "Default", "imageRefreshMode": "Default"},
            headers=self._headers,
        )
        if response.status_code == httpx.codes.NOT_FOUND:
            return False
        self._refresh_answered(response)
        return True

    async def refresh_library(self) -> None:
        """Ask Jellyfin to scan every library (it restarts a scan already running: rate-limit)."""
        response = await self._send("POST", "/Library/Refresh", headers=self._headers)
        self._refresh_answered(response)

    def _refresh_answered(self, response: httpx.Response) -> None:
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise JellyfinAuthError(
                f"Jellyfin at {self._shown_url} refused the API key ({response.status_code})",
                reason=f"Jellyfin refused the API key ({response.status_code})",
            )
        if response.status_code not in (httpx.codes.OK, httpx.codes.NO_CONTENT):
            raise self._unexpected(response)

    async def _get_items(self, path: str, params: Mapping[str, str]) -> list[JellyfinItem]:
        response = await self._send("GET", path, params=params, headers=self._headers)
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise JellyfinAuthError(
                f"Jellyfin at {self._shown_url} refused the API key ({response.status_code})",
                reason=f"Jellyfin refused the API key ({response.status_code})",
            )
        if response.status_code == httpx.codes.NOT_FOUND:
            raise JellyfinItemNotFound(f"Jellyfin at {self._shown_url} has nothing at {path}")
        items = self._json(response, dict).get("Items")
        if not isinstance(items, list):
            raise self._unexpected(response, "answered a query result without an Items list")
        return [JellyfinItem.from_wire(dto) for dto in items]
