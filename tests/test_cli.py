"""The `parley` CLI contract."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from parley.cli import main
from parley.cli.database import with_database
from parley.identity import verify_password
from parley.settings import files_dir
from parley.storage import operator_queries
from parley.storage.models import Chat, Event, File, Message, PageView, Visitor

SPEC = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "003_ea97bea839cf218e.txt"


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARLEY_DATA", str(tmp_path))
    monkeypatch.delenv("PARLEY_DB", raising=False)


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_app_create_prints_id_and_secret(capsys):
    code, out, _ = run(capsys, "app", "create", "--name", "Shop", "--origin", "https://Shop.Example/")
    assert code == 0
    app = json.loads(out)
    assert re.fullmatch(r"[0-9a-f]{24}", app["appId"]) and len(app["secret"]) >= 40
    assert app["origins"] == ["https://shop.example"]
    code, out, _ = run(capsys, "app", "list")
    assert [a["appId"] for a in json.loads(out)] == [app["appId"]]


@pytest.mark.parametrize("origin", ["shop.example", "https://shop.example/path", "ftp://x.y", "https://"])
def test_app_create_rejects_bad_origins(capsys, origin):
    code, _, err = run(capsys, "app", "create", "--name", "Shop", "--origin", origin)
    assert code == 2 and "--origin must be scheme://host[:port]" in err


def test_operator_create_validates(capsys):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    app_id = json.loads(out)["appId"]
    code, out, _ = run(capsys, "operator", "create", "--app", app_id, "--email", "Ann@Shop.example",
                       "--password", "correct horse", "--name", "Ann")
    assert code == 0 and json.loads(out)["email"] == "ann@shop.example"
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "ann@shop.example",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", "nope", "--email", "b@shop.example",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "not-an-email",
               "--password", "correct horse")[0] == 2
    assert run(capsys, "operator", "create", "--app", app_id, "--email", "c@shop.example",
               "--password", "short")[0] == 2


def test_snippet_is_the_chaport_minimal_installation_code(capsys):
    code, out, _ = run(capsys, "snippet", "--app-id", "abc123", "--server", "https://chat.example.com/")
    assert code == 0
    assert len(out.encode()) < 1024
    spec = SPEC.read_text()
    start = spec.index("(function(w,d,v3){")
    minimal = spec[start:spec.index("(window, document);", start) + len("(window, document);")]
    expected = (minimal.replace("<insertYourId>", "abc123")
                .replace("https://app.chaport.com/javascripts/insert.js",
                         "https://chat.example.com/widget/loader.js"))
    assert out == f'<script type="text/javascript">\n{expected}\n</script>\n'


def test_snippet_escapes_what_could_break_out(capsys):
    code, out, _ = run(capsys, "snippet", "--app-id", "x'</script><b>", "--server", "https://c.example")
    assert code == 0
    assert "</script><b>" not in out and "\\'" in out


def test_app_set_changes_origins_and_default_assignment_rules(capsys):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop", "--origin", "https://shop.example")
    app_id = json.loads(out)["appId"]
    rules = '[{"sales-team": ["page_url", "contains", "pricing"]}, {"john-id": true}]'
    code, out, _ = run(capsys, "app", "set", "--app", app_id, "--name", "Shop 2",
                       "--origin", "https://b.example", "--assignment-rules", rules)
    assert code == 0
    changed = json.loads(out)
    assert changed["name"] == "Shop 2" and changed["origins"] == ["https://b.example"]
    assert changed["assignmentRules"] == json.loads(rules)
    code, out, _ = run(capsys, "app", "set", "--app", app_id, "--clear-origins")
    assert json.loads(out)["origins"] == []


@pytest.mark.parametrize("rules, message", [
    ("not json", "is not JSON"),
    ('{"a": true}', "must be a JSON array"),
    ('[{"team": ["nope", "=", "x"]}]', "must be a parameter key"),
    ('[{"team": ["page_url", "~", "x"]}]', "must be a matcher"),
    ('[{"a": true, "b": true}]', "single"),
])
def test_app_set_rejects_bad_rules(capsys, rules, message):
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    app_id = json.loads(out)["appId"]
    code, _, err = run(capsys, "app", "set", "--app", app_id, "--assignment-rules", rules)
    assert code == 2 and message in err, err


def test_app_set_needs_a_change_and_a_known_app(capsys):
    assert run(capsys, "app", "set", "--app", "nope", "--name", "x")[0] == 2
    _, out, _ = run(capsys, "app", "create", "--name", "Shop")
    assert run(capsys, "app", "set", "--app", json.loads(out)["appId"])[0] == 2


# -- operators, erasure, retention --------------------------------------------------

def db(work):
    """Runs `work(session)` against the CLI's database (SQLite in $PARLEY_DATA)."""
    return asyncio.run(with_database(None, work))


def new_app(capsys, name: str = "Shop") -> str:
    _, out, _ = run(capsys, "app", "create", "--name", name)
    return json.loads(out)["appId"]


def ago(days: float) -> datetime:
    return datetime.now(UTC) - timedelta(days=days)


def stored_file(session, app_id: str, visitor_id: str | None = None) -> str:
    """A file row and its bytes on disk; without a visitor it is an operator's upload."""
    file_id = secrets.token_hex(16)
    session.add(File(id=file_id, app_id=app_id, visitor_id=visitor_id,
                     uploader_kind="visitor" if visitor_id else "operator", name="note.txt",
                     content_type="text/plain; charset=utf-8", size=5, sha256="0" * 64))
    path = files_dir() / file_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"hello")
    return file_id


async def seed_visitor(session, app_id: str, *, seen: float = 0, chats=(("closed", 0),), views: float = 0,
                       events: float = 0, shared_file: str | None = None) -> dict:
    """A visitor last seen `seen` days ago with chats [(status, days ago)]; each chat has a
    visitor message with the visitor's upload and an operator message with an operator's
    upload (`shared_file` in the first chat, if given); one page view `views` days ago and
    one event `events` days ago."""
    visitor = Visitor(id=secrets.token_hex(12), app_id=app_id, token="t", first_seen_at=ago(seen),
                      last_seen_at=ago(seen), last_event_seq=1)
    session.add(visitor)
    await session.flush()
    made = {"visitor": visitor.id, "chats": [], "files": []}
    for n, (status, days) in enumerate(chats):
        chat = Chat(id=secrets.token_hex(12), app_id=app_id, visitor_id=visitor.id, status=status,
                    started_at=ago(days), ended_at=ago(days) if status == "closed" else None)
        session.add(chat)
        own = stored_file(session, app_id, visitor.id)
        theirs = shared_file if shared_file and n == 0 else stored_file(session, app_id)
        await session.flush()
        session.add_all([
            Message(chat_id=chat.id, author_kind="visitor", author_id=visitor.id, text="hi",
                    client_message_id=f"v-{n}", file_id=own, created_at=ago(days)),
            Message(chat_id=chat.id, author_kind="operator", text="hello", client_message_id=f"o-{n}",
                    file_id=theirs, created_at=ago(days))])
        made["chats"].append(chat.id)
        made["files"] += [own, theirs]
    session.add(PageView(visitor_id=visitor.id, url="https://shop.example/", created_at=ago(views)))
    session.add(Event(visitor_id=visitor.id, seq=1, kind="message", payload={}, created_at=ago(events)))
    await session.commit()
    return made


def left_of(made: dict, chats: list[str] | None = None) -> dict:
    """What is still stored of a seeded visitor (or of some of its chats)."""
    chat_ids = made["chats"] if chats is None else chats

    async def work(session):
        async def count(model, where) -> int:
            return await session.scalar(select(func.count()).select_from(model).where(where))
        return {
            "visitor": await count(Visitor, Visitor.id == made["visitor"]),
            "chats": await count(Chat, Chat.id.in_(chat_ids)),
            "messages": await count(Message, Message.chat_id.in_(chat_ids)),
            "events": await count(Event, Event.visitor_id == made["visitor"]),
            "pageViews": await count(PageView, PageView.visitor_id == made["visitor"]),
            "files": await count(File, File.id.in_(made["files"])),
        }
    left = db(work)
    left["bytes"] = sum((files_dir() / file_id).exists() for file_id in set(made["files"]))
    return left


def test_operator_list_shows_the_apps_operators_without_password_hashes(capsys):
    shop, other = new_app(capsys), new_app(capsys, "Other")
    for app_id, email in ((shop, "ann@shop.example"), (shop, "bob@shop.example"), (other, "eve@x.example")):
        assert run(capsys, "operator", "create", "--app", app_id, "--email", email,
                   "--password", "correct horse")[0] == 0
    code, out, _ = run(capsys, "operator", "list", "--app-id", shop)
    listed = json.loads(out)
    assert code == 0 and [o["email"] for o in listed] == ["ann@shop.example", "bob@shop.example"]
    assert set(listed[0]) == {"operatorId", "email", "name", "role", "presence"}
    assert listed[0]["presence"] == "offline" and "argon2" not in out
    code, _, err = run(capsys, "operator", "list", "--app-id", "nope")
    assert code == 2 and "no app with id 'nope'" in err


def test_operator_reset_password_sets_a_new_one_and_ends_the_operators_logins(capsys):
    shop, other = new_app(capsys), new_app(capsys, "Other")
    people = ((shop, "ann@shop.example"), (shop, "bob@shop.example"), (other, "ann@shop.example"))
    for app_id, email in people:
        run(capsys, "operator", "create", "--app", app_id, "--email", email, "--password", "correct horse")

    async def operators(session):
        return [await operator_queries.find_operator(session, app_id, email) for app_id, email in people]

    async def log_in(session):
        return [await operator_queries.create_operator_session(session, o) for o in await operators(session)]
    tokens = db(log_in)

    def state(password: str):
        async def work(session):
            ann, _bob, other_ann = await operators(session)
            logged_in = [await operator_queries.operator_for_session(session, t) is not None for t in tokens]
            return (verify_password(ann.password_hash, password),
                    verify_password(ann.password_hash, "correct horse"),
                    verify_password(other_ann.password_hash, "correct horse"), logged_in)
        return db(work)

    code, out, _ = run(capsys, "operator", "reset-password", "--app-id", shop, "--email", "Ann@Shop.example")
    reset = json.loads(out)
    assert code == 0 and reset["sessionsEnded"] == 1 and len(reset["password"]) >= 20
    # Only this app's Ann changed, and only her login ended.
    assert state(reset["password"]) == (True, False, True, [False, True, True])

    code, out, _ = run(capsys, "operator", "reset-password", "--app-id", shop, "--email", "ann@shop.example",
                       "--password", "another good one")
    assert code == 0 and "password" not in json.loads(out) and "another good one" not in out
    assert state("another good one")[:2] == (True, False)

    for args, message in [
        (("--app-id", shop, "--email", "nobody@shop.example"), "no operator with email"),
        (("--app-id", other, "--email", "bob@shop.example"), "no operator with email"),
        (("--app-id", "nope", "--email", "ann@shop.example"), "no app with id"),
        (("--app-id", shop, "--email", "not-an-email"), "not an email address"),
        (("--app-id", shop, "--email", "ann@shop.example", "--password", "short"), "--password must be 8"),
    ]:
        code, _, err = run(capsys, "operator", "reset-password", *args)
        assert code == 2 and message in err and len(err.splitlines()) == 1, err


def test_visitor_delete_erases_everything_of_theirs_including_file_bytes(capsys):
    shop, other = new_app(capsys), new_app(capsys, "Other")

    async def seed(session):
        shared = stored_file(session, shop)  # one operator upload sent to two visitors
        gone = await seed_visitor(session, shop, chats=[("closed", 3), ("open", 0)], shared_file=shared)
        kept = await seed_visitor(session, shop, shared_file=shared)
        elsewhere = await seed_visitor(session, other)
        return gone, kept, elsewhere
    gone, kept, elsewhere = db(seed)
    everything = {"visitor": 1, "chats": 1, "messages": 2, "events": 1, "pageViews": 1, "files": 2,
                  "bytes": 2}
    assert left_of(gone) == {**everything, "chats": 2, "messages": 4, "files": 4, "bytes": 4}

    code, out, _ = run(capsys, "visitor", "delete", "--app-id", shop, "--visitor-id", gone["visitor"])
    assert code == 0
    assert json.loads(out)["deleted"] == {"chats": 2, "messages": 4, "events": 1, "pageViews": 1, "files": 3}
    assert json.loads(out)["fileBytesRemoved"] == 3
    # The foreign keys cascaded to every table; the operator upload the other visitor
    # also got is kept, the rest of the files are gone from disk.
    assert left_of(gone) == {"visitor": 0, "chats": 0, "messages": 0, "events": 0, "pageViews": 0,
                             "files": 1, "bytes": 1}
    assert left_of(kept) == everything
    assert left_of(elsewhere) == everything

    for app_id, visitor_id, message in [
        (shop, gone["visitor"], "no visitor with id"),  # already deleted
        (shop, elsewhere["visitor"], "no visitor with id"),  # another app's: the same answer
        ("nope", kept["visitor"], "no app with id"),
        (shop, "../parley.db", "--visitor-id must be"),
    ]:
        code, _, err = run(capsys, "visitor", "delete", "--app-id", app_id, "--visitor-id", visitor_id)
        assert code == 2 and message in err and len(err.splitlines()) == 1, err
    assert left_of(elsewhere) == everything and left_of(kept) == everything


def test_retention_purge_deletes_what_is_older_than_n_days(capsys):
    shop, other = new_app(capsys), new_app(capsys, "Other")

    async def seed(session):
        return (
            # last seen 40 days ago, nothing open: goes entirely
            await seed_visitor(session, shop, seen=40, chats=[("closed", 40)], views=40, events=40),
            # as old, but still has an open chat: stays with that chat
            await seed_visitor(session, shop, seen=40, chats=[("open", 40)], views=40, events=40),
            # active: only the chat that ended 40 days ago and the old page view go
            await seed_visitor(session, shop, seen=1, chats=[("closed", 40), ("closed", 5)], views=40,
                               events=1),
            await seed_visitor(session, other, seen=40, chats=[("closed", 40)], views=40, events=40),
        )
    idle, waiting, active, elsewhere = db(seed)
    whole = {"visitor": 1, "chats": 1, "messages": 2, "events": 1, "pageViews": 1, "files": 2, "bytes": 2}
    before = [left_of(v) for v in (idle, waiting, active, elsewhere)]
    expected = {"messages": 4, "chats": 2, "pageViews": 3, "events": 2, "visitors": 1, "files": 4}

    code, out, _ = run(capsys, "retention", "purge", "--days", "30", "--app-id", shop, "--dry-run")
    assert code == 0 and json.loads(out)["wouldDelete"] == expected
    assert [left_of(v) for v in (idle, waiting, active, elsewhere)] == before  # nothing changed

    code, out, _ = run(capsys, "retention", "purge", "--days", "30", "--app-id", shop)
    assert code == 0 and json.loads(out)["deleted"] == expected and json.loads(out)["fileBytesRemoved"] == 4
    assert left_of(idle) == {"visitor": 0, "chats": 0, "messages": 0, "events": 0, "pageViews": 0,
                             "files": 0, "bytes": 0}
    assert left_of(waiting) == {**whole, "events": 0, "pageViews": 0}
    assert left_of(active, active["chats"][:1]) == {
        "visitor": 1, "chats": 0, "messages": 0, "events": 1, "pageViews": 0, "files": 2, "bytes": 2}
    recent = {**active, "chats": active["chats"][1:], "files": active["files"][2:]}
    assert left_of(recent) == {**whole, "pageViews": 0}
    gone_files = active["files"][:2]
    assert not any((files_dir() / f).exists() for f in gone_files)
    assert left_of(elsewhere) == whole  # another app: untouched

    code, out, _ = run(capsys, "retention", "purge", "--days", "30")
    assert code == 0 and json.loads(out)["deleted"] == {
        "messages": 2, "chats": 1, "pageViews": 1, "events": 1, "visitors": 1, "files": 2}
    assert left_of(elsewhere)["visitor"] == 0 and left_of(elsewhere)["bytes"] == 0

    for args, message in [(("--days", "0"), "--days must be 1"), (("--days", "-3"), "--days must be 1"),
                          (("--days", "30", "--app-id", "nope"), "no app with id")]:
        code, _, err = run(capsys, "retention", "purge", *args)
        assert code == 2 and message in err and len(err.splitlines()) == 1, err
