"""Thin typed clients for the services the tracker calls: qBittorrent, Jellyfin, Sonarr, Radarr."""

from clients._http import ClientError as ClientError
from clients._http import ServiceUnavailable as ServiceUnavailable
from clients._http import UnexpectedResponse as UnexpectedResponse
from clients.jellyfin import JellyfinAuthError as JellyfinAuthError
from clients.jellyfin import JellyfinClient as JellyfinClient
from clients.jellyfin import JellyfinItem as JellyfinItem
from clients.jellyfin import JellyfinItemNotFound as JellyfinItemNotFound
from clients.jellyfin import match_provider_id as match_provider_id
from clients.jellyfin import normalize_item_id as normalize_item_id
from clients.qbittorrent import ETA_INFINITE as ETA_INFINITE
from clients.qbittorrent import DownloadState as DownloadState
from clients.qbittorrent import QBittorrentAuthError as QBittorrentAuthError
from clients.qbittorrent import QBittorrentClient as QBittorrentClient
from clients.qbittorrent import SyncResult as SyncResult
from clients.qbittorrent import TorrentFile as TorrentFile
from clients.qbittorrent import TorrentNotFound as TorrentNotFound
from clients.qbittorrent import TorrentView as TorrentView
from clients.qbittorrent import download_state as download_state
from clients.radarr import RadarrAuthError as RadarrAuthError
from clients.radarr import RadarrClient as RadarrClient
from clients.sonarr import SonarrAuthError as SonarrAuthError
from clients.sonarr import SonarrClient as SonarrClient
from clients.sonarr import SonarrEpisode as SonarrEpisode
