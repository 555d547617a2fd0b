"""The ``status-tracker`` console script: read ``ST_*`` variables, run until SIGINT/SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import sys

import trio
import trio_asyncio

from .config import Config, ConfigError
from .system import running_service

logger = logging.getLogger("status_tracker")


async def serve(config: Config) -> None:
    """Run the service until a termination signal, then shut down gracefully."""
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with trio_asyncio.open_loop(), running_service(config):
            async for received in signals:
                logger.info("received %s, shutting down", signal.Signals(received).name)
                break


def main() -> int:
    """Entry point of the console script; returns the process exit status."""
    try:
        config = Config.from_env(os.environ)
    except ConfigError as exc:
        print(f"status-tracker: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        trio.run(serve, config)
    except Exception as exc:
        root_cause = _first_leaf(exc)
        logger.debug("service stopped by an error", exc_info=exc)
        print(
            f"status-tracker: stopped: {type(root_cause).__name__}: {root_cause}", file=sys.stderr
        )
        return 1
    return 0


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


if __name__ == "__main__":
    sys.exit(main())
