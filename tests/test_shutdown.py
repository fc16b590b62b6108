"""Graceful shutdown of a real `parley serve`: SIGTERM closes every socket with 1001
(going away, so clients reconnect elsewhere), the process exits in bounded time, and
nothing that was acknowledged is lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.services import free_port

ROOT = Path(__file__).resolve().parents[1]
SITE = "https://shop.example"
PASSWORD = "correct horse battery"
# The server gives open sockets a few seconds and uvicorn 10 s more; a healthy
# shutdown with idle clients takes well under a second.
EXIT_WITHIN = 15.0


def cli(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "parley", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def start_server(env: dict, port: int, log: Path) -> subprocess.Popen:
    with log.open("a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "parley", "serve", "--port", str(port), "--log-format", "json"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120  # may build dist/ first
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError("server did not start:\n" + log.read_text())


async def frames_until_closed(ws: ClientConnection) -> list[dict]:
    """Every frame until the server closes the socket (fails after EXIT_WITHIN seconds)."""
    frames = []
    async with asyncio.timeout(EXIT_WITHIN):
        try:
            while True:
                frames.append(json.loads(await ws.recv()))
        except ConnectionClosed:
            return frames


@pytest.fixture
def env(tmp_path):
    env = {**os.environ, "PARLEY_DATA": str(tmp_path)}
    env.pop("PARLEY_DB", None)
    return env


async def test_sigterm_closes_sockets_with_1001_and_keeps_acknowledged_messages(env, tmp_path):
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    cli(env, "operator", "create", "--app", app["appId"], "--email", "ann@shop.example",
        "--password", PASSWORD)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    process = start_server(env, port, log)
    try:
        login = httpx.post(f"{base}/api/operator/login", json={
            "appId": app["appId"], "email": "ann@shop.example", "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = login.cookies["parley_session"]
        async with connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=SITE) as guest, \
                connect(f"ws://127.0.0.1:{port}/ws/operator", origin=base,
                        additional_headers={"Cookie": f"parley_session={cookie}"}) as op:
            await guest.send(json.dumps({"v": 1, "type": "hello", "appId": app["appId"], "lastSeq": 0}))
            welcome = json.loads(await guest.recv())
            assert welcome["type"] == "welcome"
            await op.send(json.dumps({"type": "subscribe"}))
            assert json.loads(await op.recv())["type"] == "subscribed"

            await guest.send(json.dumps({"type": "message.send", "clientId": "c-1", "text": "before"}))
            frames = []
            while not any(f["type"] == "ack" for f in frames):
                frames.append(json.loads(await guest.recv()))
            # One more in flight while the signal arrives: if it is acknowledged, it must be stored.
            await guest.send(json.dumps({"type": "message.send", "clientId": "c-2", "text": "racing"}))
            stopped_at = time.monotonic()
            process.send_signal(signal.SIGTERM)
            frames += await frames_until_closed(guest)
            await frames_until_closed(op)
            assert (guest.close_code, op.close_code) == (1001, 1001), log.read_text()

        code = await asyncio.to_thread(process.wait, EXIT_WITHIN)
        assert code == 0, log.read_text()
        assert time.monotonic() - stopped_at < EXIT_WITHIN
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    acked = {f["clientId"]: f["message"]["text"] for f in frames if f["type"] == "ack"}
    assert "c-1" in acked

    # The shutdown was logged as JSON lines.
    records = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    assert any(r["logger"] == "parley.shutdown" and r.get("sockets") == 2 for r in records), records

    # After a restart the acknowledged messages are in the database.
    process = start_server(env, port, log)
    try:
        async with connect(f"ws://127.0.0.1:{port}/ws/visitor", origin=SITE) as guest:
            await guest.send(json.dumps({
                "type": "hello", "appId": app["appId"], "visitorId": welcome["visitorId"],
                "visitorToken": welcome["visitorToken"]}))
            assert json.loads(await guest.recv())["visitorId"] == welcome["visitorId"]
            await guest.send(json.dumps({"type": "history", "limit": 100}))
            while (frame := json.loads(await guest.recv()))["type"] != "history":
                pass
        stored = {m["clientId"]: m["text"] for m in frame["messages"]}
        assert acked.items() <= stored.items()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=EXIT_WITHIN)
