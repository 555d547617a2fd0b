"""Parsing API input: path ids, paging, request filters and the episode list (pure)."""

from __future__ import annotations

import math
import typing

from status_tracker.storage import RequestQuery

from status_tracker.domain import KNOWN_STATES, RequestRow
from status_tracker.strict import parse_id, parse_int32

DEFAULT_PAGE = 50
MAX_PAGE = 500


class ParameterError(ValueError):
    """A query parameter or body the client must fix (400, the message names it)."""


def path_id(raw: str) -> int | None:
    """The id in a URL path, or None when it is no id (the caller answers 404)."""
    try:
        return parse_id(raw)
    except ValueError:
        return None


def page(args: typing.Mapping[str, str]) -> tuple[int, int]:
    """``limit`` (1 to 500, default 50) and ``offset`` (default 0).

    Raises:
        ParameterError: naming the parameter.
    """
    limit = _number(args, "limit", DEFAULT_PAGE)
    if not 1 <= limit <= MAX_PAGE:
        raise ParameterError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return limit, _number(args, "offset", 0)


def request_query(args: typing.Mapping[str, str]) -> RequestQuery:
    """The filters and page of ``GET /api/requests``.

    Raises:
        ParameterError: naming the parameter.
    """
    states: tuple[str, ...] = ()
    if args.get("state"):
        states = tuple(s.strip() for s in args["state"].split(",") if s.strip())
        unknown = [s for s in states if s not in KNOWN_STATES or s == "pending"]
        if unknown:
            raise ParameterError(f"state: unknown state {unknown[0][:40]!r}")
    media_type = args.get("media_type") or None
    if media_type not in (None, "movie", "tv"):
        raise ParameterError(f"media_type must be movie or tv, got {media_type[:40]!r}")
    limit, offset = page(args)
    return RequestQuery(
        states=states,
        media_type=media_type,
        title_contains=args.get("q") or None,
        limit=limit,
        offset=offset,
        after=_after(args.get("after") or None),
    )


def cursor(row: RequestRow) -> str:
    """The ``after`` value that continues the request list after ``row`` (its position newest
    first: when it was created, then its id); opaque to clients."""
    return f"{row.created_at!r}_{row.id}"


def _after(raw: str | None) -> tuple[float, int] | None:
    if raw is None:
        return None
    created, _, row_id = raw.partition("_")
    try:
        created_at = float(created)
        if not math.isfinite(created_at):
            raise ValueError(created)
        return created_at, parse_id(row_id)
    except ValueError:
        raise ParameterError(
            f"after must be the next_after of a previous page, got {raw[:40]!r}"
        ) from None


def episode_keys(body: object) -> tuple[tuple[int, int], ...]:
    """``{"episodes": [{"season": 1, "episode": 2}, ...]}`` as sorted (season, episode) pairs.

    Raises:
        ParameterError: the body has another shape, or a number is outside signed 32 bits.
    """
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("episodes"), list)
        or not body["episodes"]
    ):
        raise ParameterError('body must be {"episodes": [{"season": n, "episode": n}, ...]}')
    keys = []
    for position, item in enumerate(body["episodes"]):
        if not isinstance(item, dict):
            raise ParameterError(f"episodes[{position}] must be an object")
        try:
            season = parse_int32(item.get("season"), what=f"episodes[{position}].season")
            episode = parse_int32(item.get("episode"), what=f"episodes[{position}].episode")
        except ValueError as exc:
            raise ParameterError(str(exc)) from None
        keys.append((season, episode))
    return tuple(sorted(set(keys)))


def _number(args: typing.Mapping[str, str], name: str, default: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_id(raw, what=name)
    except ValueError as exc:
        raise ParameterError(str(exc)) from None
