"""SQL shared by both backends: statements for each write operation and row decoding.

Statements use ``?`` placeholders; the PostgreSQL backend renumbers them to ``$n``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from status_tracker.domain import (
    DownloadLink,
    DownloadRow,
    EpisodeRow,
    Notice,
    ReleaseFacts,
    ReplacementWait,
    RequestRow,
    TimelineEntry,
    TorrentFileRow,
)

from ._ops import (
    AppendTimeline,
    CountMailAttempt,
    DiscardDeadLetter,
    EndSession,
    ForgetArrDownload,
    GiveUpNotifications,
    MarkMailApplied,
    MarkNotificationsSent,
    Op,
    PostMail,
    PruneEventKeys,
    PruneMail,
    PruneNotifications,
    PruneReplacementWaits,
    PruneSessions,
    QueueNotification,
    RecordDeadLetter,
    RecordLibraryNudge,
    RecordNotificationAttempt,
    RetryDeadLetter,
    SaveArrDownload,
    SaveDownload,
    SaveEpisodes,
    SaveReplacementWait,
    SaveRequest,
    SaveSession,
    SetSetting,
)
from ._records import DeadLetter, Mail, RequestQuery, StoredNotification

Statement = tuple[str, tuple[Any, ...]]

_PRUNING = (PruneMail, PruneNotifications, PruneEventKeys, PruneSessions, PruneReplacementWaits)

REQUEST_COLUMNS = (
    "id", "media_type", "title", "year", "tmdb_id", "tvdb_id", "imdb_id",
    "jellyseerr_request_id", "radarr_id", "sonarr_id", "is_anime", "state", "progress",
    "poster_url", "overview", "source", "jellyfin_id", "requested_seasons", "download_hash",
    "final_path", "shoko_file_id", "created_at", "updated_at", "available_at", "last_change_at",
    "requested_by", "requested_at", "known_seasons", "check_requested_at", "sonarr_slug",
)  # fmt: skip
EPISODE_COLUMNS = (
    "request_id", "season", "episode", "title", "state", "progress", "torrent_hash",
    "final_path", "jellyfin_id", "sonarr_episode_id", "tvdb_id", "shoko_file_id", "updated_at",
    "last_change_at",
)  # fmt: skip
DOWNLOAD_COLUMNS = (
    "hash", "name", "progress", "state", "client_state", "size", "release_type", "links",
    "files", "created_at", "updated_at", "last_change_at", "speed", "eta_s", "size_left", "seeds",
    "peers", "stalled_since", "release",
)  # fmt: skip
TIMELINE_COLUMNS = (
    "request_id", "at", "source", "event", "from_state", "to_state", "season", "episode",
    "detail",
)  # fmt: skip
MAIL_COLUMNS = ("id", "target", "source", "kind", "body", "received_at", "attempts")
DEAD_LETTER_COLUMNS = (
    "id", "at", "actor", "message", "error", "mail_id", "target", "source", "kind", "body",
)  # fmt: skip
SESSION_COLUMNS = ("id_hash", "token_fingerprint", "created_at", "expires_at", "role")
_NOTICE_COLUMNS = (
    "request_id", "kind", "media_type", "title", "year", "season", "episode", "detail",
    "requested_by", "jellyfin_id", "dedupe_key",
)  # fmt: skip
"""A notification's ``Notice``, a field per column."""
_DELIVERY_COLUMNS = ("id", "created_at", "attempts", "next_attempt_at", "delivered", "last_error")
NOTIFICATION_COLUMNS = (*_NOTICE_COLUMNS, *_DELIVERY_COLUMNS)
QUEUE_NOTIFICATION = (
    f"INSERT INTO notifications ({', '.join(_NOTICE_COLUMNS)}, created_at) "
    f"VALUES ({', '.join('?' * (len(_NOTICE_COLUMNS) + 1))}) "
    "ON CONFLICT (dedupe_key) DO NOTHING"
)
ARR_DOWNLOAD_COLUMNS = (
    "service", "download_id", "title", "queue_ids", "item_ids", "tracked_state", "reason",
    "size_left", "stalled", "progress_at", "seen_at", "action", "acted_at",
)  # fmt: skip
REPLACEMENT_WAIT_COLUMNS = (
    "service", "download_id", "title", "item_ids", "removed_at", "grabbed_ids", "searched_ids",
    "outcome", "settled_at",
)  # fmt: skip
_ID_LISTS = ("item_ids", "grabbed_ids", "searched_ids")


def _upsert(table: str, columns: Sequence[str], key: Sequence[str]) -> str:
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}"
    )


UPSERT_REQUEST = _upsert("requests", REQUEST_COLUMNS, ("id",))
UPSERT_EPISODE = _upsert("episodes", EPISODE_COLUMNS, ("request_id", "season", "episode"))
UPSERT_DOWNLOAD = _upsert("downloads", (*DOWNLOAD_COLUMNS, "episode_count"), ("hash",))
INSERT_TIMELINE = (
    f"INSERT INTO timeline ({', '.join(TIMELINE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(TIMELINE_COLUMNS))})"
)


def statements_for(op: Op) -> Iterator[Statement]:
    """Yield the SQL statements that carry out one write operation."""
    match op:
        case SaveRequest(row=row):
            yield UPSERT_REQUEST, _request_values(row)
        case SaveEpisodes(rows=rows):
            for episode in rows:
                yield UPSERT_EPISODE, _episode_values(episode)
        case SaveDownload(row=row):
            yield UPSERT_DOWNLOAD, _download_values(row)
        case AppendTimeline(entries=entries):
            for entry in entries:
                yield INSERT_TIMELINE, tuple(getattr(entry, c) for c in TIMELINE_COLUMNS)
        case MarkMailApplied(mail_id=mail_id, at=at, error=error):
            yield "UPDATE mail SET applied_at = ?, error = ? WHERE id = ?", (at, error, mail_id)
        case CountMailAttempt(mail_id=mail_id):
            yield "UPDATE mail SET attempts = attempts + 1 WHERE id = ?", (mail_id,)
        case PostMail(target=target, source=source, kind=kind, body=body, at=at):
            yield (
                "INSERT INTO mail (target, source, kind, body, received_at) VALUES (?, ?, ?, ?, ?)",
                (target, source, kind, body, at),
            )
        case RecordDeadLetter():
            yield (
                f"INSERT INTO dead_letters ({', '.join(DEAD_LETTER_COLUMNS[1:])}) "
                f"VALUES ({', '.join('?' * (len(DEAD_LETTER_COLUMNS) - 1))})",
                tuple(getattr(op, c) for c in DEAD_LETTER_COLUMNS[1:]),
            )
        case RetryDeadLetter(dead_letter_id=dead_letter_id, at=at):
            yield (
                "INSERT INTO mail (target, source, kind, body, received_at) "
                "SELECT target, source, kind, body, ? FROM dead_letters "
                "WHERE id = ? AND body IS NOT NULL",
                (at, dead_letter_id),
            )
            yield "DELETE FROM dead_letters WHERE id = ? AND body IS NOT NULL", (dead_letter_id,)
        case DiscardDeadLetter(dead_letter_id=dead_letter_id):
            yield "DELETE FROM dead_letters WHERE id = ?", (dead_letter_id,)
        case PruneMail(before=before):
            yield (
                "DELETE FROM mail WHERE applied_at IS NOT NULL AND received_at < ?",
                (before,),
            )
        case SaveSession():
            yield (
                f"INSERT INTO sessions ({', '.join(SESSION_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(SESSION_COLUMNS))})",
                tuple(getattr(op, c) for c in SESSION_COLUMNS),
            )
        case EndSession(id_hash=id_hash):
            yield "DELETE FROM sessions WHERE id_hash = ?", (id_hash,)
        case PruneSessions(now=now, token_fingerprint=fingerprint, also_kept=also_kept):
            kept = (fingerprint, *also_kept)
            yield (
                "DELETE FROM sessions WHERE expires_at <= ? "
                f"OR token_fingerprint NOT IN ({', '.join('?' * len(kept))})",
                (now, *kept),
            )
        case SetSetting(key=key, value=value):
            yield _upsert("settings", ("key", "value"), ("key",)), (key, value)
        case QueueNotification(notice=notice, at=at):
            yield QUEUE_NOTIFICATION, (*(getattr(notice, c) for c in _NOTICE_COLUMNS), at)
        case MarkNotificationsSent(ids=ids, at=at, delivered=delivered):
            for row_id in ids:
                yield (
                    "UPDATE notifications SET sent_at = ?, delivered = ?, last_error = NULL "
                    "WHERE id = ?",
                    (at, delivered, row_id),
                )
        case RecordNotificationAttempt(
            ids=ids, delivered=delivered, error=error, next_attempt_at=next_at
        ):
            for row_id in ids:
                yield (
                    "UPDATE notifications SET attempts = attempts + 1, delivered = ?, "
                    "last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (delivered, error, next_at, row_id),
                )
        case GiveUpNotifications(ids=ids, at=at, error=error):
            for row_id in ids:
                yield (
                    "UPDATE notifications SET given_up_at = ?, last_error = ? WHERE id = ?",
                    (at, error, row_id),
                )
        case PruneNotifications(before=before):
            yield (
                "DELETE FROM notifications WHERE (sent_at IS NOT NULL AND sent_at < ?) "
                "OR (given_up_at IS NOT NULL AND given_up_at < ?)",
                (before, before),
            )
        case SaveArrDownload():
            values = {c: getattr(op, c) for c in ARR_DOWNLOAD_COLUMNS}
            values["queue_ids"] = json.dumps(list(op.queue_ids))
            values["item_ids"] = json.dumps(list(op.item_ids))
            values["stalled"] = int(op.stalled)
            yield (
                _upsert("arr_downloads", ARR_DOWNLOAD_COLUMNS, ("service", "download_id")),
                tuple(values[c] for c in ARR_DOWNLOAD_COLUMNS),
            )
        case ForgetArrDownload(service=service, download_id=download_id):
            yield (
                "DELETE FROM arr_downloads WHERE service = ? AND download_id = ?",
                (service, download_id),
            )
        case RecordLibraryNudge(request_id=request_id, since=since, at=at, detail=detail):
            yield (
                "INSERT INTO library_nudges (request_id, since, at, detail) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (request_id, since) DO NOTHING",
                (request_id, since, at, detail),
            )
        case PruneEventKeys(before=before):
            yield "DELETE FROM event_keys WHERE at < ?", (before,)
        case SaveReplacementWait(wait=wait):
            values = {c: getattr(wait, c) for c in REPLACEMENT_WAIT_COLUMNS}
            values.update({c: json.dumps(list(values[c])) for c in _ID_LISTS})
            yield (
                _upsert("replacement_waits", REPLACEMENT_WAIT_COLUMNS, ("service", "download_id")),
                tuple(values[c] for c in REPLACEMENT_WAIT_COLUMNS),
            )
        case PruneReplacementWaits(service=service, settled_before=before):
            yield (
                "DELETE FROM replacement_waits WHERE service = ? AND settled_at < ?",
                (service, before),
            )


ONE_ROW = "/* one row */ "


def one_row(sql: str) -> str:
    """``sql`` marked as a statement that returns exactly one row each time it runs (a
    ``SELECT (SELECT ...)``): a driver may run it for many items at once and give each its row.
    """
    return ONE_ROW + sql


def returns_rows(sql: str) -> bool:
    if sql.startswith(ONE_ROW):
        return True
    upper = sql.upper()
    return upper.lstrip().startswith("SELECT") or " RETURNING " in upper


def batched(statements: Sequence[Statement]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Group consecutive runs of one row-less statement, so drivers can send each run at once.

    A statement that returns rows always stands alone, so its rows keep their place.
    """
    run_sql: str | None = None
    run: list[tuple[Any, ...]] = []
    for sql, args in statements:
        if sql == run_sql and not returns_rows(sql):
            run.append(args)
            continue
        if run_sql is not None:
            yield run_sql, run
        run_sql, run = sql, [args]
    if run_sql is not None:
        yield run_sql, run


def alike_items(
    items: Sequence[Sequence[Statement]],
) -> Iterator[Sequence[Sequence[Statement]]]:
    """The items of one transaction, in order, in runs of consecutive items that run the same
    statements in the same order (a wave of approvals: insert a request, note it on its
    timeline, mark its mail applied; a burst of webhooks). A driver may send such a run
    statement by statement, each statement once for all the run's items: every item still runs
    its own statements in its own order, and items of one transaction write disjoint rows (one
    owner per row), so no item sees another half-done. An item with a statement that returns
    rows, unless exactly one each time (``one_row``), runs alone, so its rows stay its own.
    """
    run: list[Sequence[Statement]] = []
    shape: tuple[str, ...] | None = None
    for statements in items:
        this = tuple(sql for sql, _ in statements)
        alike = not any(returns_rows(sql) and not sql.startswith(ONE_ROW) for sql in this)
        if run and this == shape and alike:
            run.append(statements)
            continue
        if run:
            yield run
        run, shape = [statements], this
    if run:
        yield run


def posts_mail(ops: Sequence[Op]) -> bool:
    return any(isinstance(op, (PostMail, RetryDeadLetter)) for op in ops)


def queues_notification(ops: Sequence[Op]) -> bool:
    return any(isinstance(op, QueueNotification) for op in ops)


def touches_many(ops: Sequence[Op]) -> bool:
    """Whether ``ops`` may write many rows at once (pruning what has aged out)."""
    return any(isinstance(op, _PRUNING) for op in ops)


def _request_values(row: RequestRow) -> tuple[Any, ...]:
    values = []
    for column in REQUEST_COLUMNS:
        value = getattr(row, column)
        if column in ("requested_seasons", "known_seasons"):
            value = json.dumps(list(value))
        elif column == "is_anime":
            value = int(value)
        values.append(value)
    return tuple(values)


def _episode_values(row: EpisodeRow) -> tuple[Any, ...]:
    return tuple(getattr(row, c) for c in EPISODE_COLUMNS)


def _download_values(row: DownloadRow) -> tuple[Any, ...]:
    links = [[link.request_id, [list(e) for e in link.episodes]] for link in row.links]
    files = [
        [f.index, f.name, f.size, f.progress, [list(e) for e in f.episodes]] for f in row.files
    ]
    values = {
        c: getattr(row, c) for c in DOWNLOAD_COLUMNS if c not in ("links", "files", "release")
    }
    values["links"] = json.dumps(links)
    values["files"] = json.dumps(files)
    values["release"] = _release_text(row.release)
    return (*(values[c] for c in DOWNLOAD_COLUMNS), row.episode_count)


def request_from(record: Mapping[str, Any]) -> RequestRow:
    """A row of ``SELECT_REQUEST`` (its columns are exactly the request's fields)."""
    return RequestRow(
        **{
            **record,
            "requested_seasons": _seasons(record["requested_seasons"]),
            "known_seasons": _seasons(record["known_seasons"]),
            "is_anime": bool(record["is_anime"]),
        }
    )


@functools.lru_cache(maxsize=256)  # few distinct lists, decoded for every request read
def _seasons(text: str | None) -> tuple[int, ...]:
    return tuple(json.loads(text or "[]"))


def episode_from(record: Mapping[str, Any]) -> EpisodeRow:
    """A row of ``SELECT_EPISODES`` (its columns are exactly the episode's fields)."""
    return EpisodeRow(**record)


def download_from(record: Mapping[str, Any]) -> DownloadRow:
    fields = {c: record[c] for c in DOWNLOAD_COLUMNS}
    fields["links"] = tuple(
        DownloadLink(request_id=rid, episodes=tuple(tuple(e) for e in eps))
        for rid, eps in json.loads(fields["links"] or "[]")
    )
    fields["files"] = tuple(
        TorrentFileRow(
            index=index, name=name, size=size, progress=progress,
            episodes=tuple(tuple(e) for e in eps),
        )
        for index, name, size, progress, eps in json.loads(fields["files"] or "[]")
    )  # fmt: skip
    fields["release"] = _release_from(fields["release"])
    return DownloadRow(**fields)


def _release_text(release: ReleaseFacts | None) -> str | None:
    if release is None:
        return None
    return json.dumps(
        {
            "quality": release.quality,
            "release_group": release.release_group,
            "indexer": release.indexer,
            "languages": list(release.languages),
            "custom_formats": list(release.custom_formats),
        }
    )


def _release_from(text: str | None) -> ReleaseFacts | None:
    if not text:
        return None
    fields = json.loads(text)
    return ReleaseFacts(
        quality=fields.get("quality"),
        release_group=fields.get("release_group"),
        indexer=fields.get("indexer"),
        languages=tuple(fields.get("languages") or ()),
        custom_formats=tuple(fields.get("custom_formats") or ()),
    )


def timeline_from(record: Mapping[str, Any]) -> TimelineEntry:
    return TimelineEntry(**{c: record[c] for c in TIMELINE_COLUMNS})


def mail_from(record: Mapping[str, Any]) -> Mail:
    return Mail(**{c: record[c] for c in MAIL_COLUMNS})


def notification_from(record: Mapping[str, Any]) -> StoredNotification:
    return StoredNotification(
        notice=Notice(**{c: record[c] for c in _NOTICE_COLUMNS}),
        **{c: record[c] for c in _DELIVERY_COLUMNS},
    )


def dead_letter_from(record: Mapping[str, Any]) -> DeadLetter:
    return DeadLetter(**{c: record[c] for c in DEAD_LETTER_COLUMNS})


SELECT_REQUEST = f"SELECT {', '.join(REQUEST_COLUMNS)} FROM requests"
SELECT_EPISODES = f"SELECT {', '.join(EPISODE_COLUMNS)} FROM episodes"
SELECT_DOWNLOADS = f"SELECT {', '.join(DOWNLOAD_COLUMNS)} FROM downloads"
SELECT_MAIL = f"SELECT {', '.join(MAIL_COLUMNS)} FROM mail"


NEWEST_FIRST = "ORDER BY created_at DESC, id DESC"
TRIGRAM_MIN_LENGTH = 3
"""The shortest text the trigram index can find (SQLite); shorter ones are looked for by LIKE."""
FEW_TITLE_MATCHES = 300
"""Up to this many titles found by the trigram index are looked up one by one and sorted; past
it, walking the newest-first index and keeping the ids found is cheaper (it stops at a page)."""


def _like_literal(text: str) -> str:
    """``text`` matched literally by LIKE (``ESCAPE '\\'``): ``%`` and ``_`` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def indexed_title(query: RequestQuery, dialect: str) -> str | None:
    """The title text ``query`` looks for through SQLite's trigram index, if it does: the store
    counts its matches first (``count_title_matches``) to choose how to read them."""
    text = query.title_contains
    if dialect == "sqlite" and text is not None and len(text) >= TRIGRAM_MIN_LENGTH:
        return text
    return None


def count_title_matches(text: str) -> Statement:
    """Count the titles the trigram index finds for ``text``."""
    return (
        "SELECT COUNT(*) AS n FROM request_titles WHERE request_titles MATCH ?",
        (_phrase(text),),
    )


def _phrase(text: str) -> str:
    """``text`` as one FTS5 phrase: to the trigram tokenizer, every substring of the title."""
    return '"' + text.replace('"', '""') + '"'


def _title_condition(text: str, dialect: str, ids: str | None) -> Statement:
    """Case-insensitive "the title contains ``text``", every character literal; through the
    trigram index when there is an ``indexed_title``, whose ids it compares with ``ids``."""
    if ids is not None:
        return (
            f"{ids} IN (SELECT rowid FROM request_titles WHERE request_titles MATCH ?)",
            (_phrase(text),),
        )
    pattern = f"%{_like_literal(text.lower())}%"
    if dialect == "sqlite":
        # SQLite's LIKE ignores ASCII case as its LOWER does, and reads the title from the index.
        return "title LIKE ? ESCAPE '\\'", (pattern,)
    return "title_folded LIKE ? ESCAPE '\\'", (pattern,)


def request_list_query(
    query: RequestQuery, dialect: str, *, title_matches: int | None = None
) -> tuple[Statement, Statement]:
    """The page and the count of the request list, newest first, sharing one filter.

    A page after the first picks its ids from an index (``offset`` skips index entries, not
    rows) and then reads those rows; ``after`` continues after a cursor (``created_at``,
    ``id``) instead.
    ``title_matches`` is the trigram index's count when there is an ``indexed_title``.
    """
    filters: list[Statement] = []
    page_filters: list[Statement] = []
    if query.media_type:
        filters.append(("media_type = ?", (query.media_type,)))
        page_filters.append(("media_type = ?", (query.media_type,)))
    if query.title_contains and title_matches is None:
        title = _title_condition(query.title_contains, dialect, None)
        filters.append(title)
        page_filters.append(title)
    elif query.title_contains:
        filters.append(_title_condition(query.title_contains, dialect, "id"))
        # A leading + keeps SQLite from looking each id up: it walks the list's own index.
        ids = "id" if title_matches <= FEW_TITLE_MATCHES else "+id"
        page_filters.append(_title_condition(query.title_contains, dialect, ids))
    if query.states:
        states = f"IN ({', '.join('?' * len(query.states))})"
        filters.append((f"state {states}", query.states))
        # SQLite reads several states' ranges of an index and then sorts them all; a leading +
        # makes it walk the newest-first index instead, which stops once the page is full.
        several = dialect == "sqlite" and len(query.states) > 1
        page_filters.append((f"{'+' if several else ''}state {states}", query.states))
    if query.after is not None:
        page_filters.append(("(created_at, id) < (?, ?)", query.after))
    if query.offset:
        ids = f"SELECT id FROM requests{_where(page_filters)} {NEWEST_FIRST} LIMIT ? OFFSET ?"
        page = f"{SELECT_REQUEST} WHERE id IN ({ids}) {NEWEST_FIRST}"
        page_args = (*_args(page_filters), query.limit, query.offset)
    else:
        # The first page reads its rows as it walks the index: picking ids first and reading
        # them again costs PostgreSQL a hash, a look-up per row and a sort (1.0 against
        # 0.2 ms for 500 rows).
        page = f"{SELECT_REQUEST}{_where(page_filters)} {NEWEST_FIRST} LIMIT ?"
        page_args = (*_args(page_filters), query.limit)
    if title_matches is not None:
        # Each title the trigram index found is looked up in an index holding the filters,
        # never the table, nor all the requests of a media type or state.
        count = f"SELECT COUNT(*) AS n FROM requests INDEXED BY requests_kinds{_where(filters)}"
    elif query.title_contains:
        count = f"SELECT COUNT(*) AS n FROM requests{_where(filters)}"
    else:
        # The state and media type filters alone: request_counts has the numbers.
        count = f"SELECT COALESCE(SUM(n), 0) AS n FROM request_counts{_where(filters)}"
    return (page, page_args), (count, _args(filters))


def _where(conditions: Sequence[Statement]) -> str:
    return f" WHERE {' AND '.join(sql for sql, _ in conditions)}" if conditions else ""


def _args(conditions: Sequence[Statement]) -> tuple[Any, ...]:
    return tuple(arg for _, args in conditions for arg in args)


def replacement_wait_from(row: Mapping[str, Any]) -> ReplacementWait:
    return ReplacementWait(
        **{**row, **{c: tuple(json.loads(row[c])) for c in _ID_LISTS}},
    )
