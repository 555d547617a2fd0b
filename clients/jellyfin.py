"""Jellyfin REST client for the availability verifier: item search, series episodes, id look-ups.

Jellyfin ignores ``AnyProviderIdEquals``, so provider ids are matched here (``match_provider_id``).
"""

from __future__ import annotations

import types
import typing

import attrs
import httpx

from clients._http import ClientError, KeyedService

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

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
    def from_wire(cls, dto: Mapping[str, typing.Any]) -> JellyfinItem:
        """Build an item from Jellyfin's PascalCase ``BaseItemDto`` (absent keys mean null)."""
        return cls(
            id=normalize_item_id(dto["Id"]),
            name=dto.get("Name") or "",
            type=dto.get("Type") or "",
            year=dto.get("ProductionYear"),
            provider_ids=dto.get("ProviderIds") or {},
            path=dto.get("Path"),
            series_id=_optional_id(dto.get("SeriesId")),
            series_name=dto.get("SeriesName"),
            season=dto.get("ParentIndexNumber"),
            episode=dto.get("IndexNumber"),
            episode_end=dto.get("IndexNumberEnd"),
            location_type=dto.get("LocationType"),
            original_title=dto.get("OriginalTitle"),
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

    service_name = "Jellyfin"

    @staticmethod
    def key_header(api_key: str) -> dict[str, str]:
        return {"Authorization": f'MediaBrowser Token="{api_key}"'}

    async def ping(self) -> str:
        """The server's version from the public system info (needs no key): a reachability check."""
        response = await self._send("GET", "/System/Info/Public")
        return str(self._json(response, dict)["Version"])

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

    async def _get_items(self, path: str, params: Mapping[str, str]) -> list[JellyfinItem]:
        response = await self._send("GET", path, params=params, headers=self._headers)
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            raise JellyfinAuthError(
                f"Jellyfin at {self._base_url} refused the API key ({response.status_code})"
            )
        if response.status_code == httpx.codes.NOT_FOUND:
            raise JellyfinItemNotFound(f"Jellyfin at {self._base_url} has nothing at {path}")
        items = self._json(response, dict).get("Items")
        if not isinstance(items, list):
            raise self._unexpected(response)
        return [JellyfinItem.from_wire(dto) for dto in items]
