"""Security review (issue 13), abuse by visitors that cost nothing to create.

(6) free visitors: new visitors are limited per address and per app, open visitor sockets
    per address, a socket must say hello in time, uploads are limited in bytes per address,
    and uploads never attached to a message are purged by the background clock;
(5) transcripts are no phishing relay: limited per address and per app, one per chat, and
    only to the visitor's signed email unless the app opted in to any address;
(13) visitor tokens are stored as SHA-256 only (and migrated in place).
"""

from __future__ import annotations

import asyncio
import email
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.pool import NullPool
from starlette.websockets import WebSocketDisconnect
from websockets.asyncio.client import connect

from parley import identity
from parley.cli import main as cli_main
from parley.clock import Clock
from parley.fanout import InProcessFanout
from parley.ratelimit import ByteQuota, Limits
from parley.settings import ConfigError
from parley.storage import app_queries, visitor_store
from parley.storage.db import Database
from parley.storage.models import Chat, File, Visitor
from tests.helpers.db import allow_transcripts_to_any_email, run, upgrade
from tests.helpers.ports import free_port
from tests.helpers.server import SITE, Server, cli, server_env
from tests.helpers.sockets import (
    ORIGIN,
    SERVER,
    login,
    refused,
    same_visitor,
    signed_update,
    visitor,
    visitor_count,
)
from tests.helpers.sockets import token as user_token

CLOSE_RATE_LIMITED = 4429
CLOSE_NO_HELLO = 4408


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch) -> Path:
    """Uploads go to this test's own folder."""
    monkeypatch.setenv("PARLEY_DATA", str(tmp_path / "data"))
    monkeypatch.delenv("PARLEY_MAX_UPLOAD_BYTES", raising=False)
    return tmp_path / "data"


def stored_visitor(database, visitor_id: str) -> Visitor:
    return run(database, lambda s: s.get(Visitor, visitor_id))


def stored_file(database, file_id: str) -> File | None:
    return run(database, lambda s: s.get(File, file_id))


def upload(client, app_id: str, credentials: dict, data: bytes = b"notes\n", **headers):
    """POST /api/visitor/files as the widget does, with a welcome's visitorId and visitorToken."""
    return client.post("/api/visitor/files", params={"name": "notes.txt"}, content=data, headers={
        "X-Parley-App": app_id, "X-Parley-Visitor": credentials["visitorId"],
        "X-Parley-Visitor-Token": credentials["visitorToken"], "Origin": ORIGIN,
        "Content-Type": "application/octet-stream", **headers})


# -- (6a) new visitors per address and per app --------------------------------------------------

def test_new_visitors_are_limited_per_address_but_returning_ones_are_not(client, make_app, database):
    app = make_app([ORIGIN])
    client.app.state.limits.new_visitors_per_ip.limit = 3
    welcomes = []
    for _ in range(3):
        with visitor(client, app.id) as tab:
            welcomes.append(tab.first)
    # A header is no address: only the connection's peer (uvicorn sets it from a trusted proxy).
    frame = refused_hello(client, app.id, {"X-Forwarded-For": "198.51.100.7", "X-Real-IP": "198.51.100.7"})
    assert frame["code"] == "PARLEY_E_RATE_LIMIT" and frame["closeCode"] == CLOSE_RATE_LIMITED
    assert 0 < frame["retryAfter"] <= 60
    # A wrong token is a new visitor, and refused as well.
    wrong = refused(client, app.id, visitorId=welcomes[0]["visitorId"], visitorToken="guess")
    assert wrong["closeCode"] == CLOSE_RATE_LIMITED
    assert visitor_count(database) == 3, "a refused hello creates nothing"
    # Who proves an existing visitor, or a logged-in user signed by the site, is welcome.
    with visitor(client, app.id, **same_visitor_of(welcomes[0])) as back:
        assert back.first["visitorId"] == welcomes[0]["visitorId"]
    with visitor(client, app.id, user={"id": "u1", "token": user_token(app, "u1")}) as user:
        assert user.first["visitorId"] == "u1"


def test_hellos_answered_at_once_are_bounded_and_every_refusal_frees_its_place(client, make_app):
    """Limits.hellos_at_once (issue 12: a storm must not starve keepalives): with one place,
    hellos refused on the way (unknown app, wrong origin, too many new visitors) give it
    back, and tabs are welcomed one after the other."""
    app = make_app([ORIGIN])
    client.app.state.limits.hellos_at_once = 1
    client.app.state.limits.new_visitors_per_ip.limit = 3

    def place_is_free() -> bool:
        # Checked before every next hello: a leaked place would make that hello wait for ever.
        _loop, gate = client.app.state.hello_gate
        return not gate.locked()

    assert refused_hello(client, "no-such-app", {})["code"] == "PARLEY_E_UNKNOWN_APP"
    assert place_is_free()
    assert refused_hello(client, app.id, {"Origin": "https://evil.example"})["code"] == "PARLEY_E_ORIGIN"
    assert place_is_free()
    with visitor(client, app.id) as first:
        assert place_is_free()  # welcomed: the place is given back while the tab stays open
        with visitor(client, app.id) as second:
            assert first.first["visitorId"] != second.first["visitorId"]
    with visitor(client, app.id) as third:
        assert refused_hello(client, app.id, {})["code"] == "PARLEY_E_RATE_LIMIT"
        assert place_is_free()
        with visitor(client, app.id, **same_visitor(third)) as again:
            assert again.first["visitorId"] == third.first["visitorId"]
    assert place_is_free()


def refused_hello(client, app_id: str, headers: dict, **hello) -> dict:
    with client.websocket_connect("/ws/visitor", headers={"Origin": ORIGIN, **headers}) as ws:
        ws.send_text(json.dumps({"v": 1, "type": "hello", "appId": app_id, **hello}))
        frame = ws.receive_json()
        assert frame["type"] == "error", frame
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
        return {**frame, "closeCode": closed.value.code}


def same_visitor_of(welcome: dict) -> dict:
    return {"visitorId": welcome["visitorId"], "visitorToken": welcome["visitorToken"]}


def test_new_visitors_are_limited_per_app(client, make_app, database):
    shop, blog = make_app([ORIGIN]), make_app([ORIGIN])
    client.app.state.limits.new_visitors_per_app.limit = 2
    for _ in range(2):
        with visitor(client, shop.id):
            pass
    frame = refused(client, shop.id)
    assert frame["code"] == "PARLEY_E_RATE_LIMIT" and frame["closeCode"] == CLOSE_RATE_LIMITED
    with visitor(client, blog.id) as other_app:  # another app has its own budget
        assert other_app.first["type"] == "welcome"
    assert visitor_count(database) == 3


# -- (6b) open sockets per address ---------------------------------------------------------------

def test_open_visitor_sockets_are_capped_per_address(client, make_app):
    app = make_app([ORIGIN])
    sockets = client.app.state.limits.visitor_sockets_per_ip
    sockets.limit = 2
    with visitor(client, app.id) as first, \
            client.websocket_connect("/ws/visitor", headers={"Origin": ORIGIN}):  # says nothing
        frame = refused(client, app.id)
        assert frame["code"] == "PARLEY_E_RATE_LIMIT" and frame["closeCode"] == CLOSE_RATE_LIMITED
        # Credentials don't help: the cap counts connections, whoever they are.
        again = refused(client, app.id, **same_visitor(first))
        assert again["closeCode"] == CLOSE_RATE_LIMITED
        assert sockets.count("testclient") == 2
    # Closed sockets give their places back.
    assert sockets.count("testclient") == 0
    with visitor(client, app.id, **same_visitor(first)) as back:
        assert back.first["visitorId"] == first.first["visitorId"]


# -- (6b, 6c) on a real server: silent sockets are closed, and capped meanwhile --------------------

async def close_code(ws) -> int:
    """The code the server closed `ws` with (frames before it are dropped)."""
    await ws.wait_closed()
    return ws.close_code


async def test_a_real_server_closes_sockets_without_hello_and_caps_them_per_address(tmp_path, built_dist,
                                                                                  server_db_url):
    env = server_env(tmp_path, server_db_url, PARLEY_LIMITS="hello_timeout=1,visitor_sockets_per_ip=4")
    app = cli(env, "app", "create", "--name", "Shop", "--origin", SITE)
    server = Server(env, free_port(), tmp_path / "server.log")
    server.start()
    url = f"ws://127.0.0.1:{server.port}/ws/visitor"
    hello = json.dumps({"v": 1, "type": "hello", "appId": app["appId"]})
    try:
        async with connect(url, origin=SITE) as talker:
            await talker.send(hello)
            assert json.loads(await asyncio.wait_for(talker.recv(), 10))["type"] == "welcome"
            async with connect(url, origin=SITE) as a, connect(url, origin=SITE) as b, \
                    connect(url, origin=SITE) as c:
                async with connect(url, origin=SITE) as over:  # the fifth from 127.0.0.1
                    frame = json.loads(await asyncio.wait_for(over.recv(), 10))
                    assert frame["code"] == "PARLEY_E_RATE_LIMIT", frame
                    assert await asyncio.wait_for(close_code(over), 10) == CLOSE_RATE_LIMITED
                # The silent ones are closed once the hello timeout passes ...
                codes = await asyncio.wait_for(asyncio.gather(*(close_code(ws) for ws in (a, b, c))), 10)
                assert codes == [CLOSE_NO_HELLO] * 3
            # ... not a socket that said hello in time, although it is older than them.
            await talker.send(json.dumps({"type": "history"}))
            frame = json.loads(await asyncio.wait_for(talker.recv(), 10))
            assert frame["type"] == "history"
        log = server.log.read_text()
        assert "Traceback" not in log, log[-3000:]
    finally:
        server.stop()


# -- (6d) upload bytes per address ----------------------------------------------------------------

def test_uploads_are_limited_in_bytes_per_address(client, make_app, data_folder):
    app = make_app([ORIGIN])
    client.app.state.limits.upload_bytes_per_ip.limit = 5000
    with visitor(client, app.id) as one, visitor(client, app.id) as two:
        assert upload(client, app.id, one.first, b"x" * 3000).status_code == 201
        # Another visitor of the same address shares the quota.
        over = upload(client, app.id, two.first, b"y" * 3000)
        assert over.status_code == 429 and over.json()["code"] == "PARLEY_E_RATE_LIMIT", over.text
        assert 1 <= int(over.headers["retry-after"]) <= 3601
        assert over.headers["access-control-allow-origin"] == ORIGIN  # the page can read it
        # A declared size over what is left is refused before the body is read.
        declared = upload(client, app.id, two.first, b"z" * 10, **{"Content-Length": "2500"})
        assert declared.status_code == 429
        assert upload(client, app.id, two.first, b"small\n").status_code == 201  # within the rest
    assert len(list((data_folder / "files").iterdir())) == 2


# -- (6e) uploads never attached are purged -------------------------------------------------------

def clock_tick(database, clock: Clock, now: datetime) -> None:
    async def tick():
        try:
            await clock.tick(now)
        finally:
            await database.engine.dispose()
    asyncio.run(tick())


def test_uploads_never_attached_to_a_message_are_purged_by_the_clock(client, make_app, make_operator,
                                                                     database, data_folder):
    app = make_app([ORIGIN])
    make_operator(app.id)
    with visitor(client, app.id) as tab:
        sent = upload(client, app.id, tab.first, b"attached\n").json()["file"]["id"]
        orphan = upload(client, app.id, tab.first, b"never sent\n").json()["file"]["id"]
        tab.send(type="message.send", clientId="c-1", text="", fileId=sent)
        assert tab.ack("c-1")["type"] == "ack"
    cookie = login(client, app.id).cookies["parley_session"]
    avatar = client.post("/api/operator/files", params={"name": "me.txt"}, content=b"an operator's\n",
                         headers={"Cookie": f"parley_session={cookie}", "Origin": SERVER})
    assert avatar.status_code == 201, avatar.text
    avatar = avatar.json()["file"]["id"]
    clock = Clock(database, InProcessFanout())
    now = datetime.now(UTC)
    clock_tick(database, clock, now + timedelta(minutes=30))  # younger than an hour: kept
    assert stored_file(database, orphan) is not None and (data_folder / "files" / orphan).exists()
    clock_tick(database, clock, now + timedelta(minutes=61))
    assert stored_file(database, orphan) is None and not (data_folder / "files" / orphan).exists()
    # Attached files stay, and so do operators' uploads (an avatar is attached to no message).
    for kept in (sent, avatar):
        assert stored_file(database, kept) is not None and (data_folder / "files" / kept).exists()


# -- (5) transcripts ------------------------------------------------------------------------------

def transcript(tab, address: str, **fields) -> dict:
    tab.send(type="transcript.request", email=address, **fields)
    return tab.next(lambda f: f["type"] in ("transcript", "error"))


def test_transcripts_go_only_to_the_visitors_signed_email(client, make_app, database, smtp):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as stranger:
        stranger.say("c-1", "Visit https://evil.example/login to keep your account")
        stranger.send(type="visitor.update", data={"email": "victim@example.org"})  # unsigned
        stranger.of_type("visitor")
        for address in ("victim@example.org", "someone@example.org"):
            answer = transcript(stranger, address)
            assert answer["type"] == "error" and answer["code"] == "PARLEY_E_FORBIDDEN", answer
            assert answer["request"] == "transcript.request"  # the widget shows it in its panel
    with visitor(client, app.id) as customer:
        customer.say("c-1", "Where is my order?")
        assert signed_update(customer, app, {"email": "john@shop.example"})["visitor"]["verified"]
        refused_elsewhere = transcript(customer, "other@example.org")
        assert refused_elsewhere["code"] == "PARLEY_E_FORBIDDEN"
        answer = transcript(customer, "John@Shop.example")
        assert answer["type"] == "transcript" and answer["sent"] is True, answer
        assert answer["email"] == "john@shop.example"
    [mail] = smtp.messages
    assert mail.rcpt_tos == ["john@shop.example"]
    chats = run(database, lambda s: s.scalars(select(Chat.transcript_email)))
    assert sorted(map(str, chats)) == ["None", "john@shop.example"]


def test_an_app_may_allow_transcripts_to_any_address(client, make_app, database, smtp, capsys):
    app = make_app([ORIGIN])
    db_url = database.engine.url.render_as_string(hide_password=False)
    assert cli_main(["app", "set", "--app", app.id, "--transcripts-to-any-email", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["transcriptsToAnyEmail"] is True
    with visitor(client, app.id) as guest:
        assert "transcriptsToAnyEmail" not in (guest.first["appearance"] or {})  # a server setting
        guest.say("c-1", "hi")
        assert transcript(guest, "me@example.org")["sent"] is True
    assert cli_main(["app", "set", "--app", app.id, "--no-transcripts-to-any-email", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["transcriptsToAnyEmail"] is False
    with visitor(client, app.id) as guest:
        guest.say("c-1", "hi")
        assert transcript(guest, "me@example.org")["code"] == "PARLEY_E_FORBIDDEN"
    assert [m.rcpt_tos for m in smtp.messages] == [["me@example.org"]]


def test_one_transcript_per_chat(client, make_app, database, smtp):
    app = make_app([ORIGIN])
    allow_transcripts_to_any_email(database, app.id)
    with visitor(client, app.id) as guest:
        chat_id = guest.say("c-1", "hi")["message"]["chatId"]
        assert transcript(guest, "me@example.org")["sent"] is True
        again = transcript(guest, "someone@example.org", chatId=chat_id)
        assert again["type"] == "error" and again["code"] == "PARLEY_E_CONFLICT", again
        assert again["chatId"] == chat_id and again["request"] == "transcript.request"
    assert [m.rcpt_tos for m in smtp.messages] == [["me@example.org"]]
    assert run(database, lambda s: s.get(Chat, chat_id)).transcript_email == "me@example.org"


def test_transcripts_are_limited_per_address_and_per_app(client, make_app, database, smtp):
    """The phishing run of the report: many free visitors, one transcript each, to strangers."""
    shop, blog = make_app([ORIGIN]), make_app([ORIGIN])
    for app in (shop, blog):
        allow_transcripts_to_any_email(database, app.id)
    limits = client.app.state.limits
    limits.transcripts_per_ip.limit = 2
    answers = []
    for n in range(3):
        with visitor(client, shop.id) as guest:
            guest.say("c-1", "https://evil.example")
            answers.append(transcript(guest, f"stranger{n}@example.org"))
    assert [a["type"] for a in answers] == ["transcript", "transcript", "error"]
    assert answers[2]["code"] == "PARLEY_E_RATE_LIMIT" and 0 < answers[2]["retryAfter"] <= 3600
    assert answers[2]["request"] == "transcript.request"
    limits.transcripts_per_ip.limit = 100
    limits.transcripts_per_app.limit = 3  # two of the shop's already count
    answers = []
    for app in (shop, shop, blog):
        with visitor(client, app.id) as guest:
            guest.say("c-1", "hi")
            answers.append(transcript(guest, "me@example.org"))
    assert [a.get("code") for a in answers] == [None, "PARLEY_E_RATE_LIMIT", None]
    assert len(smtp.messages) == 4
    assert all(email.message_from_bytes(m.content)["To"] for m in smtp.messages)


# -- (13) visitor tokens are stored hashed --------------------------------------------------------

def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def test_visitor_tokens_are_stored_as_sha256_only(client, make_app, database):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as tab:
        token = tab.first["visitorToken"]
        visitor_id = tab.first["visitorId"]
        tab.say("c-1", "mine")
    row = stored_visitor(database, visitor_id)
    assert row.token_hash == sha256(token)
    dumped = run(database, lambda s: s.execute(text("SELECT * FROM visitors")))
    assert token not in json.dumps([list(map(str, r)) for r in dumped.all()])
    # What a leaked database holds is no credential: not for hello, not for uploads.
    with visitor(client, app.id, visitorId=visitor_id, visitorToken=row.token_hash) as thief:
        assert thief.first["visitorId"] != visitor_id
    stolen = {"visitorId": visitor_id, "visitorToken": row.token_hash}
    assert upload(client, app.id, stolen).status_code == 403
    # The token itself still works, and a returning visitor's welcome echoes it.
    with visitor(client, app.id, visitorId=visitor_id, visitorToken=token) as back:
        assert (back.first["visitorId"], back.first["visitorToken"]) == (visitor_id, token)
        assert upload(client, app.id, back.first).status_code == 201


def test_every_browser_of_a_logged_in_user_gets_a_token_that_works(client, make_app):
    app = make_app([ORIGIN])
    with visitor(client, app.id) as anonymous:
        visitor_id = anonymous.first["visitorId"]
    user = {"id": visitor_id, "token": user_token(app, visitor_id)}
    with visitor(client, app.id, user=user) as laptop, visitor(client, app.id, user=user) as phone:
        assert laptop.first["visitorToken"] == phone.first["visitorToken"]
        for tab in (laptop, phone, anonymous):
            assert upload(client, app.id, tab.first).status_code == 201
    # Both the browser's old token and the user's resume the visitor without session.user.
    for welcome in (anonymous.first, laptop.first):
        with visitor(client, app.id, **same_visitor_of(welcome)) as back:
            assert back.first["visitorId"] == visitor_id


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_migration_0012_hashes_existing_tokens_in_place(backend, tmp_path, request):
    drop = None
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    else:
        server = request.getfixturevalue("postgres_server")
        name = server.create_database(migrated=False)
        url, drop = server.url(name), lambda: server.drop_database(name)
    database = Database(url, poolclass=NullPool)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda sync: upgrade(sync, "0011"))
            await connection.execute(text(
                "INSERT INTO apps (id, name, secret, origins, created_at) "
                "VALUES ('a1', 'A', 's', '[]', '2025-01-01')"))
            for visitor_id, token in (("v1", "token-one"), ("v2", "token-two")):
                await connection.execute(text(
                    "INSERT INTO visitors (id, app_id, token, first_seen_at, last_seen_at, custom, verified, "
                    "last_event_seq) VALUES (:id, 'a1', :token, '2025-01-01', '2025-01-01', '{}', false, 0)"),
                    {"id": visitor_id, "token": token})
        await database.upgrade()
        async with database.engine.connect() as connection:
            rows = dict((await connection.execute(text("SELECT id, token_hash FROM visitors"))).all())
        assert rows == {"v1": sha256("token-one"), "v2": sha256("token-two")}
        async with database.session() as session:
            app = await app_queries.get_app(session, "a1")
            assert (await visitor_store.resume_visitor(session, app, "v1", "token-one")).id == "v1"
            assert await visitor_store.resume_visitor(session, app, "v1", sha256("token-one")) is None
            assert await visitor_store.resume_visitor(session, app, "v2", "token-one") is None
    finally:
        await database.close()
        if drop is not None:
            drop()


def test_the_token_check_is_constant_time(monkeypatch):
    """Both the socket and the upload check compare through identity.same (hmac.compare_digest)."""
    compared = []
    real = identity.same
    monkeypatch.setattr(identity, "same", lambda a, b: compared.append((a, b)) or real(a, b))
    row = Visitor(id="v1", app_id="a1", token="secret-token")
    assert visitor_store.visitor_token_ok(row, "secret-token", "app-secret")
    assert not visitor_store.visitor_token_ok(row, "guess", "app-secret")
    assert compared and all(len(a) == len(b) == 64 for a, b in compared[:2])


# -- the numbers: one place, changeable by name --------------------------------------------------

def test_limits_are_changed_by_name_and_a_wrong_name_is_refused():
    limits = Limits(overrides="new_visitors_per_ip=5, hello_timeout=0.5,visitor_sockets_per_ip=7")
    assert (limits.new_visitors_per_ip.limit, limits.new_visitors_per_ip.window) == (5, 60)
    assert (limits.hello_timeout, limits.visitor_sockets_per_ip.limit) == (0.5, 7)
    defaults = Limits(overrides="")
    assert (defaults.new_visitors_per_ip.limit, defaults.new_visitors_per_app.limit) == (20, 600)
    assert (defaults.visitor_sockets_per_ip.limit, defaults.hello_timeout) == (50, 10.0)
    assert (defaults.upload_bytes_per_ip.limit, defaults.upload_bytes_per_ip.window) == (50 * 2 ** 20, 3600)
    assert (defaults.transcripts_per_ip.limit, defaults.transcripts_per_app.limit) == (5, 100)
    assert defaults.unattached_upload_seconds == 3600
    for wrong in ("nonsense=1", "hello_timeout=soon", "override=1", "new_visitors_per_ip", "_hits=1"):
        with pytest.raises(ConfigError, match="PARLEY_LIMITS"):
            Limits(overrides=wrong)


def test_a_byte_quota_says_when_the_bytes_fit_again():
    now = [0.0]
    quota = ByteQuota(100, 60, clock=lambda: now[0])
    assert quota.take("ip", 60) and not quota.take("ip", 50)
    now[0] = 10
    assert quota.take("ip", 40) and quota.used("ip") == 100
    assert quota.retry_after("ip", 30) == 50  # the first 60 bytes leave at 60 s
    assert quota.retry_after("ip", 101) == 60  # never fits: a whole window
    now[0] = 60
    assert quota.allowed("ip", 60) and not quota.allowed("ip", 61)
