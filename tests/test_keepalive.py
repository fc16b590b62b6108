"""Keepalive pings go out on a shared beat (parley/web/keepalive.py), not one wake-up each."""

from __future__ import annotations

import asyncio

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import connect

from parley.web import keepalive
from parley.web.workers import ServeSettings
from tests.helpers.ports import free_port


async def _hold(websocket) -> None:
    await websocket.accept()
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


def test_parley_serve_uses_the_coalescing_protocol() -> None:
    # If an upgrade of uvicorn drops the hooks it overrides, this fails instead of the
    # server quietly going back to one wake-up per ping.
    assert keepalive.websocket_protocol() is keepalive.CoalescedPingProtocol
    fields = {name: None for name in ServeSettings.__dataclass_fields__}
    fields.update(host="127.0.0.1", port=1, log_level="warning", grace_seconds=1.0)
    config = ServeSettings(**fields).uvicorn_config(Starlette())
    assert config.ws is keepalive.CoalescedPingProtocol


@pytest.mark.asyncio
async def test_pings_of_sockets_opened_at_different_times_go_out_on_the_same_beats(monkeypatch) -> None:
    beat = 0.5
    monkeypatch.setattr(keepalive, "PING_BEAT_S", beat)
    sent: list[tuple[int, float]] = []
    original = keepalive.CoalescedPingProtocol.send_keepalive_ping

    def recording(self) -> None:
        sent.append((id(self), self.loop.time()))
        original(self)

    monkeypatch.setattr(keepalive.CoalescedPingProtocol, "send_keepalive_ping", recording)
    port = free_port()
    config = uvicorn.Config(Starlette(routes=[WebSocketRoute("/ws", _hold)]), host="127.0.0.1", port=port,
                            ws=keepalive.CoalescedPingProtocol, ws_ping_interval=0.3, ws_ping_timeout=5,
                            log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
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
