"""Logging as a self-hoster reads it: quiet libraries, text or JSON lines, secrets masked."""

from __future__ import annotations

import datetime
import json
import logging
import re
import sys
import typing
import urllib.parse
from collections.abc import Iterable

from .config import Config

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY_LOGGERS = ("httpx", "httpcore", "hpack", "asyncio", "trio_websocket")
"""Libraries that log every request or frame at INFO; they speak only of problems unless DEBUG."""
MASK = "***"
# Masking shorter values would garble ordinary words; secrets that short are not worth guarding.
_MIN_SECRET_LENGTH = 4
_EMAIL_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_EMAIL_LOCAL = re.compile(r"[\w.%+-]")


def mask_emails(text: str) -> str:
    r"""``text`` with every ``local@domain.tld`` replaced by ``***``: what
    ``re.sub(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+", "***", text)`` gives, in time linear in the
    text (that pattern, tried from every character of a long run of letters, took time
    quadratic in its length: two seconds for a 20 KB line)."""
    pieces: list[str] = []
    kept_from = 0
    at = text.find("@")
    while at >= 0:
        start = at
        while start > kept_from and _EMAIL_LOCAL.match(text, start - 1):
            start -= 1
        domain = _EMAIL_DOMAIN.match(text, at + 1) if start < at else None
        if domain is not None:
            pieces += (text[kept_from:start], MASK)
            kept_from = domain.end()
        at = text.find("@", max(at + 1, kept_from))
    if not pieces:
        return text
    pieces.append(text[kept_from:])
    return "".join(pieces)


@typing.final
class Redactor:
    """Replaces known secret values, and anything that looks like an e-mail address, by ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Mask these values too (as written and as they appear percent-encoded in a URL)."""
        for secret in secrets:
            if len(secret) >= _MIN_SECRET_LENGTH:
                self._secrets.update({secret, urllib.parse.quote(secret, safe="")})
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(self._secrets, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return mask_emails(text)


@typing.final
class RedactingFilter(logging.Filter):
    """Masks secrets in every record's message and traceback before any handler formats it."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self._redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = f"{record.msg} (the log call's arguments did not fit its message)"
        record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True


@typing.final
class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message`` and maybe ``exc``."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        traceback = "\n".join(part for part in (record.exc_text, record.stack_info) if part)
        if traceback:
            entry["exc"] = traceback
        return json.dumps(entry)


def configure_logging(config: Config, stream: typing.TextIO = sys.stderr) -> Redactor:
    """Send every log record to ``stream`` as ``config`` says; returns the redactor in use."""
    redact = Redactor(config.secret_values())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        JsonFormatter() if config.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(RedactingFilter(redact))
    logging.basicConfig(level=config.log_level, handlers=[handler], force=True)
    level = logging.getLevelName(config.log_level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(
            logging.NOTSET if level == logging.DEBUG else max(level, logging.WARNING)
        )
    return redact
