"""Delivering notifications through Apprise (https://github.com/caronc/apprise).

Apprise is synchronous: each send runs in a worker thread under a deadline. A thread cannot be
cancelled, so on timeout it is abandoned (it ends on its own, bounded by Apprise's own socket
timeouts) and the caller sees a ``ServiceUnavailable``. Apprise URLs carry their secrets in any
part (``tgram://BOT_TOKEN/CHAT``, ``discord://ID/TOKEN``), so only ``redact_notify_url`` forms
of them ever reach logs, errors or /health.
"""

from __future__ import annotations

import hashlib
import logging
import re
import typing

import trio

from ._http import ClientError, ServiceUnavailable, redact_url

logger = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30.0
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
class AppriseNotifier:
    """Sends one message to one Apprise URL at a time (the actors' ``Notifier`` port)."""

    def __init__(self, *, timeout_s: float = SEND_TIMEOUT_S) -> None:
        self._timeout_s = timeout_s

    async def send(self, url: str, notification: Message) -> None:
        """Deliver ``notification`` to ``url``.

        Raises:
            ClientError: ``url`` is not a URL Apprise knows.
            ServiceUnavailable: the target did not take it (down, refused, timed out).
        """
        shown = redact_notify_url(url)
        with trio.move_on_after(self._timeout_s) as scope:
            problem = await trio.to_thread.run_sync(
                _send_blocking, url, notification, abandon_on_cancel=True
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
        raise ServiceUnavailable(
            f"notification to {shown} failed: {problem}", reason=f"{shown}: {problem}"
        )


_INVALID = "invalid"


def _send_blocking(url: str, notification: Message) -> str | None:
    """In a worker thread: None when sent, else why not (Apprise's own warning, redacted)."""
    import apprise  # imported here: it is slow to import and only the notifier needs it

    client = apprise.Apprise()
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
