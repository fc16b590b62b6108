"""parley/web/ws_protocol.py: keepalive pings on a shared beat, and the frames a socket is
given in one loop iteration written to the kernel at once, in order."""

from __future__ import annotations

import asyncio
import json

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import connect

from parley.web import ws_protocol
from parley.web.workers import ServeSettings
from tests.helpers.ports import free_port

Protocol = ws_protocol.ParleyWebSocketProtocol


def test_parley_serve_uses_parleys_protocol() -> None:
    # If an upgrade of uvicorn drops the hooks it overrides, this fails instead of the
    # server quietly going back to a wake-up per ping and a send() per frame.
    assert ws_protocol.websocket_protocol() is Protocol
    fields = {name: None for name in ServeSettings.__dataclass_fields__}
    fields.update(host="127.0.0.1", port=1, log_level="warning", grace_seconds=1.0)
    config = ServeSettings(**fields).uvicorn_config(Starlette())
    assert config.ws is Protocol


class _Recorder:
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.events: list[str] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)
        self.events.append("write")

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True
        self.events.append("close")

    def abort(self) -> None:
        self.closing = True
        self.events.append("abort")

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 1) if name == "peername" else default


@pytest.mark.asyncio
async def test_writes_of_one_iteration_reach_the_kernel_as_one_in_order() -> None:
    real = _Recorder()
    corked = ws_protocol.CorkedTransport(real, asyncio.get_running_loop())
    corked.write(b"ack")
    corked.write(b"")
    corked.write(b"event")
    assert real.writes == [] and corked.get_write_buffer_size() == len(b"ackevent")
    assert corked.get_extra_info("peername") == ("127.0.0.1", 1)  # the rest is the real one's
    await asyncio.sleep(0)
    assert real.writes == [b"ackevent"]
    corked.write(b"next")
    await asyncio.sleep(0)
    assert real.writes == [b"ackevent", b"next"]


@pytest.mark.asyncio
async def test_close_sends_what_was_written_first_and_abort_drops_it() -> None:
    real = _Recorder()
    corked = ws_protocol.CorkedTransport(real, asyncio.get_running_loop())
    corked.write(b"close frame")
    corked.close()
    assert real.events == ["write", "close"] and real.writes == [b"close frame"]
    corked.write(b"late")
    await asyncio.sleep(0)
    assert real.writes == [b"close frame"]  # nothing is written to a closing transport

    real = _Recorder()
    corked = ws_protocol.CorkedTransport(real, asyncio.get_running_loop())
    corked.write(b"never")
    corked.abort()
    await asyncio.sleep(0)
    assert real.writes == [] and real.events == ["abort"]


async def _serve(routes, **config):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=port,
                                           ws=Protocol, log_level="warning", lifespan="off", **config))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    return server, serving, port


async def _burst(websocket) -> None:
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        for i in range(int(message["text"])):
            await websocket.send_text(json.dumps({"n": i}))


@pytest.mark.asyncio
async def test_a_burst_of_frames_arrives_whole_and_in_order_over_a_real_socket() -> None:
    server, serving, port = await _serve([WebSocketRoute("/ws", _burst)])
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send("500")
            got = [json.loads(await ws.recv())["n"] for _ in range(500)]
            assert got == list(range(500))
            await ws.send("3")
            assert [json.loads(await ws.recv())["n"] for _ in range(3)] == [0, 1, 2]
    finally:
        server.should_exit = True
        await serving


async def _hold(websocket) -> None:
    await websocket.accept()
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


@pytest.mark.asyncio
async def test_pings_of_sockets_opened_at_different_times_go_out_on_the_same_beats(monkeypatch) -> None:
    beat = 0.5
    monkeypatch.setattr(ws_protocol, "PING_BEAT_S", beat)
    sent: list[tuple[int, float]] = []
    original = Protocol.send_keepalive_ping

    def recording(self) -> None:
        sent.append((id(self), self.loop.time()))
        original(self)

    monkeypatch.setattr(Protocol, "send_keepalive_ping", recording)
    server, serving, port = await _serve([WebSocketRoute("/ws", _hold)], ws_ping_interval=0.3,
                                         ws_ping_timeout=5)
    try:
        sockets = []
        for _ in range(3):  # opened at different phases of the beat
            sockets.append(await connect(f"ws://127.0.0.1:{port}/ws"))
            await asyncio.sleep(0.13)
        async with asyncio.timeout(10):
            while len({who for who, _ in sent}) < 3 or len(sent) < 9:
                await asyncio.sleep(0.05)
        for ws in sockets:
            await ws.close()
    finally:
        server.should_exit = True
        await serving
    # Every ping left within a few ms after a whole beat, whatever its socket's phase.
    lateness = [at - round(at / beat) * beat for _, at in sent]
    assert all(-0.001 <= late < 0.05 for late in lateness), lateness
    assert len({who for who, _ in sent}) == 3


@pytest.mark.asyncio
async def test_an_open_socket_keeps_nothing_of_its_handshake() -> None:
    # uvicorn keeps the upgrade request and the 101 response (websockets' Request and
    # Response, with their Headers) for the socket's whole life, though nothing reads them
    # after the handshake: ~40 objects per socket for the collector to walk again and again
    # (issue 12: 0.8-0.9 s of collection in a 5,000-visitor reconnect storm).
    server, serving, port = await _serve([WebSocketRoute("/ws", _burst)])
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws") as ws:
            await ws.send("2")
            assert [json.loads(await ws.recv())["n"] for _ in range(2)] == [0, 1]
            protocols = [c for c in server.server_state.connections if isinstance(c, Protocol)]
            assert len(protocols) == 1
            assert protocols[0].handshake_complete
            assert getattr(protocols[0], "request", None) is None
            assert getattr(protocols[0], "response", None) is None
            # Still a working socket after that.
            await ws.send("3")
            assert [json.loads(await ws.recv())["n"] for _ in range(3)] == [0, 1, 2]
    finally:
        server.should_exit = True
        await serving
