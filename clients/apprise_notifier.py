"""Delivering notifications through Apprise (https://github.com/caronc/apprise).

Apprise is synchronous: each send runs in a worker thread under a deadline. A thread cannot be
cancelled, so on timeout it is abandoned and the caller sees a ``ServiceUnavailable``. Apprise's
socket timeouts (``cto``/``rto``, 4 s each unless the URL sets them) end an abandoned send whose
target is unreachable or silent; nothing ends one whose target keeps trickling bytes, until the
target closes the connection. Such threads run under the notifier's own thread limiter, never
trio's default one (which every host-name lookup of the service needs), and when its slots are
all taken a send fails at once instead of queueing. Apprise URLs carry their secrets in any
part (``tgram://BOT_TOKEN/CHAT``, ``discord://ID/TOKEN``), so only ``redact_notify_url`` forms
of them ever reach logs, errors or /health.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import re
import threading
import types
import typing

import attrs
import trio

from ._http import ClientError, ServiceUnavailable, redact_url

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30.0
MAX_SENDS = 8
"""Sends running at once, abandoned ones included. A healthy service needs two (the delivery
loop and the test endpoint each send one at a time); the other six leave room for three stuck
targets. Each stuck send costs one idle thread and one socket, and, the notifier's limiter being
its own, none of trio's default 40 thread slots that every host-name lookup needs."""
MAX_SENDS_PER_TARGET = 2
"""Sends to one target running at once: a stuck target keeps at most two slots, leaving the rest
to the other targets; two, not one, so a test send can run beside the delivery loop's."""
# Schemes whose host is a plain address (the secret, if any, sits in user:password or the path).
_ADDRESS_SCHEMES = frozenset(
    {"json", "jsons", "xml", "xmls", "form", "forms", "http", "https", "ntfy", "ntfys"}
)
_SCHEME = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$", re.DOTALL)


class Message(typing.Protocol):
    """What a notification offers (``actors.notify.NotificationRequested`` has it)."""

    @property
    def kind(self) -> str: ...

    @property
    def title(self) -> str: ...

    @property
    def body(self) -> str: ...


def is_notify_url(url: str) -> bool:
    """True when ``url`` looks like ``scheme://something`` (Apprise checks the rest)."""
    found = _SCHEME.match(url.strip())
    return found is not None and bool(found["rest"])


def redact_notify_url(url: str) -> str:
    """``url`` fit to show: scheme and host of plain web hooks, the scheme alone otherwise.

    ``json://user:pw@host:8080/path?x=1`` → ``json://***@host:8080/…``;
    ``tgram://123:ABC/456`` → ``tgram://***``.
    """
    found = _SCHEME.match(url.strip())
    if found is None:
        return "***"
    scheme = found["scheme"].lower()
    if scheme not in _ADDRESS_SCHEMES:
        return f"{scheme}://***"
    shown = redact_url(f"{scheme}://{found['rest']}")
    head, sep, _tail = shown.partition("://")
    authority, slash, path = _tail.partition("/")
    authority, query_mark, _query = authority.partition("?")
    hidden = "/…" if (slash and path) or query_mark else ""
    return f"{head}{sep}{authority}{hidden}"


def fingerprint(url: str) -> str:
    """A short, stable name of a target that reveals nothing of its secrets."""
    return hashlib.sha256(url.strip().encode()).hexdigest()[:16]


@typing.final
@attrs.frozen(kw_only=True)
class SendStatistics:
    """The notifier's worker threads: how many run now (abandoned ones included), and the most."""

    running: int
    limit: int


@typing.final
class AppriseNotifier:
    """Sends one message to one Apprise URL at a time (the actors' ``Notifier`` port).

    At most ``MAX_SENDS`` sends run at once, and at most ``MAX_SENDS_PER_TARGET`` to one target;
    a send over either limit fails at once with a ``ServiceUnavailable`` naming the limit (the
    outbox tries it again later). A timed-out send keeps its slot until its thread ends.
    """

    def __init__(self, *, timeout_s: float | None = None) -> None:
        self._timeout_s = SEND_TIMEOUT_S if timeout_s is None else timeout_s
        self._threads = trio.CapacityLimiter(MAX_SENDS)
        # Semaphores, not trio limiters: the worker thread takes and gives back its target's slot,
        # because only the thread knows when an abandoned send really ends.
        self._target_slots: dict[str, threading.BoundedSemaphore] = {}

    def statistics(self) -> SendStatistics:
        return SendStatistics(
            running=self._threads.borrowed_tokens, limit=int(self._threads.total_tokens)
        )

    async def send(self, url: str, notification: Message) -> None:
        """Deliver ``notification`` to ``url``.

        Raises:
            ClientError: ``url`` is not a URL Apprise knows.
            ServiceUnavailable: the target did not take it (down, refused, timed out), or earlier
                sends that have not finished hold all the notifier's slots or this target's.
        """
        shown = redact_notify_url(url)
        if self._threads.available_tokens == 0:
            raise ServiceUnavailable(
                f"notification to {shown} not sent: all {MAX_SENDS} sends are still running",
                reason=f"{shown}: not sent, all {MAX_SENDS} notification slots are held by sends"
                " that have not finished (a target keeps its connection open)",
            )
        key = fingerprint(url)
        if key not in self._target_slots:
            self._target_slots[key] = threading.BoundedSemaphore(MAX_SENDS_PER_TARGET)
        slot = self._target_slots[key]
        # Nothing yields between the check above and run_sync taking its token: no send waits.
        with trio.move_on_after(self._timeout_s) as scope:
            problem = await trio.to_thread.run_sync(
                _send_in_slot,
                slot,
                url,
                notification,
                limiter=self._threads,
                abandon_on_cancel=True,
            )
        if scope.cancelled_caught:
            raise ServiceUnavailable(
                f"notification to {shown} timed out after {self._timeout_s:g} s",
                reason=f"{shown}: timed out after {self._timeout_s:g} s",
            )
        if problem is None:
            return
        if problem == _INVALID:
            raise ClientError(
                f"{shown} is not a URL Apprise knows", reason=f"{shown}: not an Apprise URL"
            )
        if problem == _TARGET_BUSY:
            raise ServiceUnavailable(
                f"notification to {shown} not sent: {MAX_SENDS_PER_TARGET} earlier sends to it"
                " are still running",
                reason=f"{shown}: not sent, {MAX_SENDS_PER_TARGET} earlier sends to it have not"
                " finished (it keeps its connection open)",
            )
        raise ServiceUnavailable(
            f"notification to {shown} failed: {problem}", reason=f"{shown}: {problem}"
        )


_INVALID = "invalid"
_TARGET_BUSY = "busy"


def _send_in_slot(slot: threading.BoundedSemaphore, url: str, notification: Message) -> str | None:
    """In a worker thread: ``_send_blocking`` when the target has a slot free, else busy."""
    if not slot.acquire(blocking=False):
        return _TARGET_BUSY
    try:
        return _send_blocking(url, notification)
    finally:
        slot.release()


def _send_blocking(url: str, notification: Message) -> str | None:
    """In a worker thread: None when sent, else why not (Apprise's own warning, redacted)."""
    import apprise  # imported here: it is slow to import and only the notifier needs it

    client = apprise.Apprise(asset=_asset(apprise))
    if not client.add(url):
        return _INVALID
    notify_type = {
        "available": apprise.NotifyType.SUCCESS,
        "recovered": apprise.NotifyType.SUCCESS,
        "failed": apprise.NotifyType.FAILURE,
        "stuck": apprise.NotifyType.WARNING,
    }.get(notification.kind, apprise.NotifyType.INFO)
    with apprise.LogCapture(level=logging.WARNING) as captured:
        sent = client.notify(
            title=notification.title, body=notification.body, notify_type=notify_type
        )
    if sent:
        return None
    return _last_warning(captured.getvalue(), url) or "the service did not accept it"


def _asset(apprise: types.ModuleType) -> typing.Any:
    """Apprise settings that keep the send in the calling thread.

    An Apprise with ``service_timeout`` runs each send in a thread pool of its own and, after
    that many seconds, stops waiting and leaves the thread behind, where no limit of ours counts
    it; 0 turns that off. Older Apprise always sends in the calling thread.
    """
    if "service_timeout" in inspect.signature(apprise.AppriseAsset).parameters:
        return apprise.AppriseAsset(service_timeout=0)
    return apprise.AppriseAsset()


def _last_warning(log: str, url: str) -> str:
    """The last line Apprise logged, without its timestamp, and without any part of ``url``."""
    lines = [line for line in log.splitlines() if line.strip()]
    if not lines:
        return ""
    text = lines[-1].split(" - ", 2)[-1].strip()
    found = _SCHEME.match(url.strip())
    for secret in re.split(r"[/:@?&=]+", found["rest"] if found else url):
        if len(secret) >= 6 and secret in text:
            text = text.replace(secret, "***")
    return text[:300]
