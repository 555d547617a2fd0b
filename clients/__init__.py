"""Thin typed clients for the services the tracker calls, and the port download clients fit.

qBittorrent (the first download client), Jellyfin, Sonarr, Radarr.
"""

from status_tracker.clients._fields import REQUIRED as REQUIRED
from status_tracker.clients._fields import WireObject as WireObject
from status_tracker.clients._fields import bad_reply as bad_reply
from status_tracker.clients._health import DependencyHealth as DependencyHealth
from status_tracker.clients._health import DependencyStatus as DependencyStatus
from status_tracker.clients._health import HealthState as HealthState
from status_tracker.clients._http import MAX_ANSWER_BYTES as MAX_ANSWER_BYTES
from status_tracker.clients._http import WHOLE_ANSWER_TIMEOUTS as WHOLE_ANSWER_TIMEOUTS
from status_tracker.clients._http import ClientError as ClientError
from status_tracker.clients._http import ServiceUnavailable as ServiceUnavailable
from status_tracker.clients._http import UnexpectedResponse as UnexpectedResponse
from status_tracker.clients._http import UnreadableAnswer as UnreadableAnswer
from status_tracker.clients._http import json_kind as json_kind
from status_tracker.clients._http import read_answer as read_answer
from status_tracker.clients._http import redact_url as redact_url
from status_tracker.clients._http import transport_problem as transport_problem
from status_tracker.clients.download_client import Download as Download
from status_tracker.clients.download_client import DownloadClient as DownloadClient
from status_tracker.clients.download_client import DownloadFile as DownloadFile
from status_tracker.clients.download_client import DownloadsSeen as DownloadsSeen
from status_tracker.clients.download_client import DownloadState as DownloadState
from status_tracker.clients.download_client import FilePriority as FilePriority
from status_tracker.clients.download_client import TorrentNotFound as TorrentNotFound
from status_tracker.clients.jellyfin import JellyfinAuthError as JellyfinAuthError
from status_tracker.clients.jellyfin import JellyfinClient as JellyfinClient
from status_tracker.clients.jellyfin import JellyfinItem as JellyfinItem
from status_tracker.clients.jellyfin import JellyfinItemNotFound as JellyfinItemNotFound
from status_tracker.clients.jellyfin import match_provider_id as match_provider_id
from status_tracker.clients.jellyfin import normalize_item_id as normalize_item_id
from status_tracker.clients.qbittorrent import ETA_INFINITE as ETA_INFINITE
from status_tracker.clients.qbittorrent import QBittorrentAuthError as QBittorrentAuthError
from status_tracker.clients.qbittorrent import QBittorrentClient as QBittorrentClient
from status_tracker.clients.qbittorrent import SyncResult as SyncResult
from status_tracker.clients.qbittorrent import TorrentFile as TorrentFile
from status_tracker.clients.qbittorrent import TorrentView as TorrentView
from status_tracker.clients.qbittorrent import download_state as download_state
from status_tracker.clients.radarr import RadarrAuthError as RadarrAuthError
from status_tracker.clients.radarr import RadarrClient as RadarrClient
from status_tracker.clients.sonarr import SonarrAuthError as SonarrAuthError
from status_tracker.clients.sonarr import SonarrClient as SonarrClient
from status_tracker.clients.sonarr import SonarrEpisode as SonarrEpisode
