"""The baseline of the fan-out and ingest benchmarks: a bare Quart-Trio app.

``POST /hook`` sends its body to every websocket connected at ``/ws``; ``POST
/webhooks/<source>`` reads the body and answers 200 with the service's reply. Nothing stored,
nothing decided: the ceiling that the framework and the machine allow.

Usage: python bench/bare_fanout.py --bind 127.0.0.1:PORT
"""

from __future__ import annotations

import argparse
import contextlib
import functools

import hypercorn.config
import hypercorn.trio
import trio
from quart import request, websocket
from quart_trio import QuartTrio

app = QuartTrio("bare_fanout")
clients: set[trio.MemorySendChannel[str]] = set()


@app.post("/hook")
async def hook() -> tuple[str, int]:
    body = await request.get_data(as_text=True)
    for client in list(clients):
        with contextlib.suppress(trio.WouldBlock):
            client.send_nowait(body)
    return "", 200


@app.post("/webhooks/<source>")
async def webhook(source: str) -> dict[str, bool]:
    await request.get_data()
    return {"accepted": True, "duplicate": False}


@app.websocket("/ws")
async def live() -> None:
    send, receive = trio.open_memory_channel[str](1000)
    clients.add(send)
    try:
        await websocket.accept()
        async for body in receive:
            await websocket.send(body)
    finally:
        clients.discard(send)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", required=True)
    config = hypercorn.config.Config()
    config.bind = [parser.parse_args().bind]
    config.accesslog = None
    config.errorlog = None
    trio.run(functools.partial(hypercorn.trio.serve, app, config))


if __name__ == "__main__":
    main()
