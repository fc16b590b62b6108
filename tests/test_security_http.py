"""HTTP hardening (issue 13): body size caps, security headers, /readyz, access-log redaction."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from parley import logs
from parley.storage import app_queries, visitor_store
from parley.web.app import create_app
from tests.helpers.db import run
from tests.helpers.sockets import login

SERVER = "http://testserver"
ORIGIN = "https://shop.example"
JSON_CAP = 64 * 1024


@pytest.fixture(autouse=True)
def environment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PARLEY_DATA", str(tmp_path / "data"))
    for name in ("PARLEY_PUBLIC_URL", "PARLEY_MAX_UPLOAD_BYTES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A minimal dist/: the widget's loader and nothing else (no widget build needed)."""
    folder = tmp_path / "dist"
    (folder / "widget").mkdir(parents=True)
    (folder / "widget" / "loader.js").write_text("/* loader */\n")
    manifest = {"build_id": "test", "files": {"widget/loader.js": {"sha256": "0" * 64}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture
def http(database, dist) -> Iterator[TestClient]:
    with TestClient(create_app(database, dist)) as client:
        yield client


async def post_streamed(database, dist, path: str, chunks, headers: dict) -> httpx.Response:
    """POSTs `chunks` (an async iterator) through the real ASGI app, chunk by chunk."""
    app = create_app(database, dist)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=SERVER) as client:
                return await client.request("POST" if path != "/api/operator/presence" else "PUT",
                                            path, content=chunks, headers=headers)
    finally:
        await database.engine.dispose()


def too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "PARLEY_E_TOO_LARGE" and str(JSON_CAP) in body["message"]


# -- request bodies ----------------------------------------------------------------------------

async def test_a_streamed_login_body_is_cut_off_while_it_is_read(database, dist):
    pulled: list[int] = []

    async def endless_json():  # 64 MiB if it were all read; no Content-Length (chunked)
        for _ in range(4096):
            pulled.append(1)
            yield b"x" * 16384

    response = await post_streamed(database, dist, "/api/operator/login", endless_json(),
                                   {"Content-Type": "application/json"})
    too_large(response)
    assert len(pulled) <= JSON_CAP // 16384 + 2  # stopped just past the cap, not after 4096 chunks


@pytest.mark.parametrize("path", ["/api/operator/login", "/api/operator/logout", "/api/operator/presence",
                                  "/api/operator/canned", "/api/admin/operators"])
async def test_a_declared_content_length_over_the_cap_is_refused_before_reading(database, dist, path):
    pulled: list[int] = []

    async def body():
        pulled.append(1)
        yield b"{}"

    response = await post_streamed(database, dist, path, body(), {
        "Content-Type": "application/json", "Content-Length": str(400 * 1024 * 1024)})
    too_large(response)
    assert pulled == []
    assert response.headers["connection"] == "close"


def test_json_bodies_up_to_the_cap_still_work(http, make_app, make_operator):
    app = make_app()
    make_operator(app.id)
    padded = {"appId": app.id, "email": "ann@shop.example", "password": "correct horse battery",
              "padding": "x" * (JSON_CAP - 200)}
    assert len(json.dumps(padded)) <= JSON_CAP
    assert http.post("/api/operator/login", json=padded).status_code == 200


def test_uploads_keep_their_own_larger_limit(http, database):
    shop = run(database, lambda s: app_queries.create_app(s, "Shop", [ORIGIN]))
    visitor = run(database, lambda s: visitor_store.resume_or_register_visitor(s, shop.id, None, None))
    headers = {"X-Parley-App": shop.id, "X-Parley-Visitor": visitor.id,
               "X-Parley-Visitor-Token": visitor.token, "Content-Type": "application/octet-stream",
               "Origin": ORIGIN}
    notes = b"a line of notes\n" * (200 * 1024 // 16)  # 200 KiB: over the JSON cap, under 10 MiB
    response = http.post("/api/visitor/files", params={"name": "notes.txt"}, content=notes, headers=headers)
    assert response.status_code == 201, response.text


# -- headers ---------------------------------------------------------------------------------

def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", ["/inbox", "/inbox/admin", "/"])
def test_own_pages_send_a_strict_policy(http, path):
    response = http.get(path)
    assert response.headers["content-type"].startswith("text/html")
    csp = directives(response.headers["content-security-policy"])
    # Only this origin's script files: no inline scripts, no other hosts. MicroPython is
    # WebAssembly ('wasm-unsafe-eval'); PyScript's core makes functions from strings ('unsafe-eval').
    assert csp["script-src"] == ["'self'", "'unsafe-eval'", "'wasm-unsafe-eval'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["base-uri"] == ["'none'"]
    assert csp["form-action"] == ["'self'"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_json_api_says_nosniff(http):
    for response in (http.get("/api/operator/me"), http.post("/api/operator/login", json={}),
                     http.get("/healthz"), http.get("/readyz")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_the_widget_stays_embeddable(http):
    response = http.get("/widget/loader.js")
    assert response.status_code == 200
    assert "x-frame-options" not in response.headers
    assert "frame-ancestors" not in response.headers.get("content-security-policy", "")
    assert response.headers["access-control-allow-origin"] == "*"


def test_the_chat_page_keeps_its_own_policy(http, database):
    shop = run(database, lambda s: app_queries.create_app(s, "Shop", [ORIGIN]))
    response = http.get(f"/chat/{shop.id}")
    assert "connect-src 'self' ws: wss:" in response.headers["content-security-policy"]


def test_hsts_only_when_served_over_https(database, dist, monkeypatch):
    with TestClient(create_app(database, dist)) as plain:
        assert "strict-transport-security" not in plain.get("/healthz").headers
    with TestClient(create_app(database, dist), base_url="https://testserver") as tls:
        assert tls.get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
    monkeypatch.setenv("PARLEY_PUBLIC_URL", "https://chat.shop.example")
    with TestClient(create_app(database, dist)) as behind_tls:
        assert behind_tls.get("/inbox").headers["strict-transport-security"] == "max-age=31536000"


def cookie_flags(response: httpx.Response) -> set[str]:
    return {part.strip().lower().split("=")[0] for part in response.headers["set-cookie"].split(";")[1:]}


def test_the_session_cookie_is_secure_when_the_public_url_is_https(http, make_app, make_operator,
                                                                    monkeypatch):
    app = make_app()
    make_operator(app.id)
    assert cookie_flags(login(http, app.id)) >= {"httponly", "samesite", "path", "max-age"}
    assert "secure" not in cookie_flags(login(http, app.id))
    monkeypatch.setenv("PARLEY_PUBLIC_URL", "https://chat.shop.example")
    assert "secure" in cookie_flags(login(http, app.id))
    assert "secure" in cookie_flags(http.post("/api/operator/logout"))


# -- /readyz and the access log ---------------------------------------------------------------

class BrokenEngine:
    def connect(self):
        raise OSError("could not connect to db.internal:5432 as parley with password hunter2")


def test_readyz_keeps_database_errors_to_the_log(http, database, monkeypatch, caplog):
    assert http.get("/readyz").json() == {"ready": True}
    # Put back before the fixtures' teardown, which disposes of the real engine.
    with monkeypatch.context() as patched, caplog.at_level(logging.WARNING):
        patched.setattr(database, "engine", BrokenEngine())
        response = http.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "database unavailable"}
    assert "hunter2" in caplog.text and "db.internal" not in response.text


def log_requests() -> None:
    """What uvicorn logs for these requests (its access log and its WebSocket lines)."""
    access = logging.getLogger("uvicorn.access")
    for method, path in (("GET", "/files/0123456789abcdef0123456789abcdef/passport%20scan.pdf"),
                         ("GET", "/api/operator/search?q=jane%40mail.example&limit=20"),
                         ("POST", "/api/visitor/files?name=tax%20return.pdf"),
                         ("GET", "/healthz")):
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", method, path, "1.1", 200)
    logging.getLogger("uvicorn.error").info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5000",
                                            "/ws/visitor?token=s3cret")


@pytest.mark.usefixtures("restore_logging")
def test_the_access_log_hides_file_capabilities_and_query_strings(capsys):
    logs.configure("text", "info")
    log_requests()
    text = capsys.readouterr().err
    for secret in ("0123456789abcdef", "passport", "jane", "tax", "s3cret"):
        assert secret not in text, text
    assert '"GET /files/[redacted] HTTP/1.1" 200' in text
    assert '"GET /api/operator/search?q=[redacted]&limit=[redacted] HTTP/1.1" 200' in text
    assert '"GET /healthz HTTP/1.1" 200' in text
    logs.configure("json", "info")
    log_requests()
    entries = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [entry.get("path") for entry in entries] == [
        "/files/[redacted]", "/api/operator/search?q=[redacted]&limit=[redacted]",
        "/api/visitor/files?name=[redacted]", "/healthz", None]
    assert "s3cret" not in entries[-1]["msg"]
