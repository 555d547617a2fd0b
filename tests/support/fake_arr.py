"""The queue, history and command part of a fake Sonarr or Radarr v3 API, on the real wire.

As the *arrs send it (reference/reconcile-apis.md §0-§2): camelCase, null properties left out,
dates ``yyyy-MM-ddTHH:mm:ssZ`` with no fractions, enums as camelCase strings, paged queue with
the past-the-end quirk, ``history/since`` as a plain array sorted ascending and filtered with
``>=``. Removing a queue item with ``blocklist=true`` writes ``downloadFailed`` rows ("Manually
marked as failed") and searches again while "Redownload failed" is on, as the *arr does; every
call is recorded.
"""

from __future__ import annotations

import datetime
import json
import typing
import urllib.parse
import zlib
from collections.abc import Callable, Mapping
from typing import Any


def wire_time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(int(seconds), datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def _parse_time(text: str) -> float:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


Answer = tuple[int, str, bytes]


class FakeArrCore:
    """Queue and history state shared by FakeSonarr and FakeRadarr.

    ``kind`` is ``sonarr`` (one queue and history row per episode) or ``radarr`` (per download).
    """

    def __init__(self, kind: typing.Literal["sonarr", "radarr"]) -> None:
        self.kind = kind
        self.queue_records: list[dict[str, Any]] = []
        self.history_records: list[dict[str, Any]] = []
        self.next_history_id = 90_000
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.removed: list[tuple[str, dict[str, str]]] = []
        self.searches: list[tuple[str, tuple[int, ...]]] = []
        self.commands: list[dict[str, Any]] = []
        self.on_search: Callable[[tuple[int, ...]], None] | None = None
        """Called with the item ids the *arr searches again (to add a replacement grab)."""
        self.redownload_failed = True
        """The *arr's "Redownload failed" setting: search again after a blocklisting removal."""

    # -- building state ---------------------------------------------------------------------

    @property
    def _item_key(self) -> str:
        return "episodeId" if self.kind == "sonarr" else "movieId"

    def add_history(
        self,
        event_type: str,
        item_ids: list[int],
        *,
        at: float,
        download_id: str | None,
        source_title: str,
        data: Mapping[str, str | None] | None = None,
        series_id: int | None = None,
    ) -> None:
        """One row per item (per episode for Sonarr), as the *arr writes them."""
        for item_id in item_ids if self.kind == "sonarr" else item_ids[:1]:
            self.next_history_id += 1
            self.history_records.append(
                _without_nulls(
                    {
                        self._item_key: item_id,
                        "seriesId": series_id if self.kind == "sonarr" else None,
                        "sourceTitle": source_title,
                        "languages": [{"id": 1, "name": "English"}],
                        "quality": _quality(),
                        "customFormats": [],
                        "customFormatScore": 0,
                        "qualityCutoffNotMet": False,
                        "date": wire_time(at),
                        "downloadId": download_id,
                        "eventType": event_type,
                        "data": dict(data or {}),
                        "id": self.next_history_id,
                    }
                )
            )

    def add_queue(
        self,
        download_id: str,
        title: str,
        item_ids: list[int],
        *,
        size: int = 10_000_000_000,
        size_left: int = 5_000_000_000,
        status: str = "downloading",
        tracked_state: str = "downloading",
        tracked_status: str = "ok",
        messages: list[dict[str, Any]] | None = None,
        error_message: str | None = None,
        series_id: int | None = None,
        season: int | None = None,
    ) -> None:
        for item_id in item_ids if self.kind == "sonarr" else item_ids[:1]:
            seed = f"trackedDownload-1-{download_id}-ep{item_id}"
            self.queue_records.append(
                _without_nulls(
                    {
                        "seriesId": series_id if self.kind == "sonarr" else None,
                        self._item_key: item_id,
                        "seasonNumber": season if self.kind == "sonarr" else None,
                        "languages": [{"id": 1, "name": "English"}],
                        "quality": _quality(),
                        "customFormats": [],
                        "customFormatScore": 0,
                        "size": size,
                        "title": title,
                        "added": "2025-06-11T00:02:14Z",
                        "status": status,
                        "trackedDownloadStatus": tracked_status,
                        "trackedDownloadState": tracked_state,
                        "statusMessages": messages or [],
                        "errorMessage": error_message,
                        "downloadId": download_id,
                        "protocol": "torrent",
                        "downloadClient": "qBittorrent",
                        "downloadClientHasPostImportCategory": False,
                        "indexer": "TorrentLeech (Prowlarr)",
                        "outputPath": f"/downloads/incomplete/{title}",
                        "sizeleft": size_left,
                        "timeleft": None if error_message else "00:41:12",
                        "id": zlib.crc32(seed.encode()) & 0x7FFFFFFF,
                    }
                )
            )

    def set_size_left(self, download_id: str, size_left: int) -> None:
        for record in self.queue_records:
            if record["downloadId"] == download_id:
                record["sizeleft"] = size_left

    def drop_queue(self, download_id: str) -> None:
        self.queue_records = [r for r in self.queue_records if r.get("downloadId") != download_id]

    # -- answering --------------------------------------------------------------------------

    def answer(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        body: bytes,
        *,
        include: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]],
        now: float,
    ) -> Answer | None:
        """The answer to a queue/history/command call, or None for another path."""
        if path == "/api/v3/queue" and method == "GET":
            self.calls.append((method, path, params))
            return self._queue_page(params, include)
        if path == "/api/v3/history/since" and method == "GET":
            self.calls.append((method, path, params))
            since = _parse_time(params["date"])
            rows = [r for r in self.history_records if _parse_time(r["date"]) >= since]
            rows.sort(key=lambda r: (r["date"], r["id"]))
            return _json([include(dict(row), params) for row in rows])
        if path.startswith("/api/v3/queue/") and method == "DELETE":
            self.calls.append((method, path, params))
            return self._remove(int(path.rsplit("/", 1)[1]), params, now)
        if path == "/api/v3/command" and method == "POST":
            request = json.loads(body)
            self.calls.append((method, path, {"name": request.get("name", "")}))
            self.commands.append(request)
            ids = tuple(request.get("episodeIds") or request.get("movieIds") or ())
            self._search(ids)
            return (
                201,
                "application/json",
                json.dumps(
                    {"name": request["name"], "status": "queued", "id": len(self.commands)}
                ).encode(),
            )
        return None

    def _queue_page(
        self,
        params: dict[str, str],
        include: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]],
    ) -> Answer:
        page = int(params.get("page", "1"))
        size = int(params.get("pageSize", "10"))
        total = len(self.queue_records)
        if page > 1 and (page - 1) * size >= total:
            page = max(total // size, 1)  # the *arr's quirk: an earlier page, never an empty one
        records = self.queue_records[(page - 1) * size : page * size]
        return _json(
            {
                "page": page,
                "pageSize": size,
                "sortKey": params.get("sortKey", "timeleft"),
                "sortDirection": params.get("sortDirection", "descending"),
                "totalRecords": total,
                "records": [include(dict(r), params) for r in records],
            }
        )

    def _remove(self, queue_id: int, params: dict[str, str], now: float) -> Answer:
        found = [r for r in self.queue_records if r["id"] == queue_id]
        if not found:
            return 404, "application/json", b'{"message": "NotFound"}'
        download_id = found[0]["downloadId"]
        records = [r for r in self.queue_records if r.get("downloadId") == download_id]
        item_ids = [r[self._item_key] for r in records]
        self.drop_queue(download_id)
        self.removed.append((download_id, params))
        if params.get("blocklist") == "true":
            self.add_history(
                "downloadFailed",
                item_ids,
                at=now,
                download_id=download_id,
                source_title=found[0]["title"],
                data={"message": "Manually marked as failed", "downloadClient": "qBittorrent"},
                series_id=found[0].get("seriesId"),
            )
            if params.get("skipRedownload") != "true" and self.redownload_failed:
                self._search(tuple(item_ids))
        return 200, "application/json", b""

    def _search(self, item_ids: tuple[int, ...]) -> None:
        self.searches.append(("search", item_ids))
        if self.on_search is not None:
            self.on_search(item_ids)


def _json(value: object) -> Answer:
    return 200, "application/json", json.dumps(value).encode()


def _quality() -> dict[str, Any]:
    return {
        "quality": {"id": 7, "name": "Bluray-1080p", "source": "bluray", "resolution": 1080},
        "revision": {"version": 1, "real": 0, "isRepack": False},
    }


def query(target: str) -> tuple[str, dict[str, str]]:
    path, _, text = target.partition("?")
    return path, dict(urllib.parse.parse_qsl(text))
