"""The ``status-tracker`` console script: read ``ST_*`` variables, run until SIGINT/SIGTERM."""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
from collections.abc import Sequence

import trio

from .checks import start_problem
from .cli import first_leaf, parse_arguments, run_command
from .config import Config, ConfigError, misspelling_hint
from .extras import postgresql_missing
from .logs import Redactor, configure_logging
from .system import running_service

logger = logging.getLogger("status_tracker")

YOUNG_COLLECTION_THRESHOLD = 7_000
POSTGRESQL_SWITCH_INTERVAL_S = 0.001
"""How long the serving thread keeps the interpreter while PostgreSQL's driver thread waits for
it (Python's default: 5 ms)."""


def settle_heap() -> None:
    """Put what start-up built (modules, the app, the supervision tree) out of the cyclic
    collector's sight. A full collection walked all of it each time, 60-70 ms during which
    every webhook and live-feed message in flight waited; and young collections run ten times
    less often, as a burst allocates thousands of short-lived objects a second."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD)


def share_the_interpreter(config: Config) -> None:
    """On PostgreSQL, asyncpg runs on a thread of its own, which needs the interpreter to send
    a transaction and again to read its reply, while the serving thread holds it for up to the
    switch interval each time: in a webhook burst, the transaction that one commit of many
    webhooks waits for took 7 ms for 1.7 ms of work. A shorter interval lets it in sooner
    (SQLite's small writes and keyed reads run on the serving thread: it keeps the default)."""
    if not config.database_url.startswith("sqlite:"):
        sys.setswitchinterval(POSTGRESQL_SWITCH_INTERVAL_S)


async def serve(config: Config, redact: Redactor) -> None:
    """Run the service until a termination signal, then shut down gracefully."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with running_service(config) as system:
            # Generated tokens are known only now; configured ones are masked already.
            redact.add(system.tokens.webhook, system.tokens.api)
            settle_heap()
            async for received in signals:
                logger.info("received %s, shutting down", signal.Signals(received).name)
                break


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    arguments = parse_arguments(argv)
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        print(f"status-tracker: {exc}", file=sys.stderr)
        return 2
    redact = configure_logging(config)
    if config.unknown_variables and arguments.command != "check-config":
        # Not an error: a variable a past or future version knew must not stop a restart.
        logger.warning(
            "ignoring variables that are not settings of this version: %s",
            ", ".join(name + misspelling_hint(name) for name in config.unknown_variables),
        )
    if arguments.command != "backup" and (missing := postgresql_missing(config.database_url)):
        print(f"status-tracker: {missing}", file=sys.stderr)
        return 2
    if arguments.command is not None:
        return run_command(arguments, config, redact)
    if problem := start_problem(config):
        print(f"status-tracker: {problem}", file=sys.stderr)
        return 2
    share_the_interpreter(config)
    try:
        trio.run(serve, config, redact)
    except Exception as exc:
        root_cause = first_leaf(exc)
        logger.debug("service stopped by an error", exc_info=exc)
        print(
            f"status-tracker: stopped: {type(root_cause).__name__}: {redact(str(root_cause))}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
