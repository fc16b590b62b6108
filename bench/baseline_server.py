"""The server benchmark's baseline: a bare `websockets` server, no database, no auth.

    python bench/baseline_server.py --port P

It speaks just enough of Parley's protocol (docs/protocol.md) for the very same
load client to drive it: `/ws/visitor` answers `hello` with `welcome` and relays
each `message.send` to every `/ws/operator` socket as a feed `message` (plus an
`ack`); an operator's `message.send` goes back to that visitor as an `event`
(plus an `ack`). Same sockets, same frames, same two hops as Parley's
visitor -> operator -> visitor round trip; everything Parley adds (SQLite
writes, the event log, sessions, rate limits, schema checks) is missing. The
ratio Parley/baseline is therefore Parley's own overhead.

Loopback only. It exits on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import signal

from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

visitors: dict[str, object] = {}
operators: set = set()
ids = itertools.count(1)
visitor_ids = itertools.count(1)


def dumps(frame: dict) -> str:
    return json.dumps(frame, separators=(",", ":"))


async def visitor(ws) -> None:
    hello = json.loads(await ws.recv())
    visitor_id = hello.get("visitorId") or f"v{next(visitor_ids):023d}"
    seq = 0
    visitors[visitor_id] = ws
    try:
        await ws.send(dumps({"v": 1, "type": "welcome", "visitorId": visitor_id, "visitorToken": "t",
                             "online": bool(operators), "seq": seq}))
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") != "message.send":
                continue
            message = {"id": next(ids), "chatId": visitor_id, "authorKind": "visitor", "authorId": visitor_id,
                       "text": frame["text"], "clientId": frame["clientId"]}
            feed = dumps({"v": 1, "type": "message", "chatId": visitor_id, "visitorId": visitor_id,
                          "message": message})
            for operator in list(operators):
                with contextlib.suppress(ConnectionClosed):
                    await operator.send(feed)
            await ws.send(dumps({"v": 1, "type": "ack", "clientId": frame["clientId"], "message": message}))
    except ConnectionClosed:
        pass
    finally:
        if visitors.get(visitor_id) is ws:
            del visitors[visitor_id]


async def operator(ws) -> None:
    operators.add(ws)
    try:
        async for raw in ws:
            frame = json.loads(raw)
            kind = frame.get("type")
            if kind == "subscribe":
                await ws.send(dumps({"v": 1, "type": "subscribed", "appId": "baseline"}))
            elif kind == "message.send":
                chat = frame["chatId"]
                message = {"id": next(ids), "chatId": chat, "authorKind": "operator", "authorId": "o",
                           "text": frame["text"], "clientId": frame["clientId"]}
                target = visitors.get(chat)
                if target is not None:
                    with contextlib.suppress(ConnectionClosed):
                        await target.send(dumps({"v": 1, "type": "event", "seq": 0,
                                                 "event": {"type": "message", "message": message}}))
                await ws.send(dumps({"v": 1, "type": "ack", "clientId": frame["clientId"],
                                     "message": message}))
    except ConnectionClosed:
        pass
    finally:
        operators.discard(ws)


async def handler(ws) -> None:
    path = ws.request.path.split("?")[0]
    if path == "/ws/visitor":
        await visitor(ws)
    elif path == "/ws/operator":
        await operator(ws)
    else:
        await ws.close(4404)


async def main(port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    # Like uvicorn's defaults for Parley: 64 KB frames, a ping every 20 s.
    # No permessage-deflate, as `parley serve` (issue 12 turned it off: small frames, and
    # ~45 KB of zlib state per socket).
    async with serve(handler, "127.0.0.1", port, max_size=64 * 1024, backlog=2048, compression=None):
        print(f"baseline serving on 127.0.0.1:{port}", flush=True)
        await stop


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The same event loop as `parley serve` (parley/event_loop.py: uvloop when installed),
    # so that the ratio compares the servers, not their loops.
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.port))
    else:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main(args.port))
