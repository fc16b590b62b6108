"""The inbox's search over message text through an index (migration 0014): an FTS5 trigram
table on SQLite, a pg_trgm GIN index on PostgreSQL. Same results as the LIKE scan it
replaces: substrings anywhere, any case, any script, nothing in the query taken as syntax."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import event, text, update

from parley import identity
from parley.storage import app_queries, retention, search_index, visitor_queries
from parley.storage.db import Database
from parley.storage.models import Chat, Message, Visitor, utcnow
from tests.helpers.db import run, upgrade


@pytest.fixture(params=["sqlite_database", "pg_database"], ids=["sqlite", "postgresql"])
def db(request) -> Database:
    return request.getfixturevalue(request.param)


def dialect(db: Database) -> str:
    return "sqlite" if db.url.startswith("sqlite") else "postgresql"


def seed(db: Database, texts: list[str], *, name: str | None = None, system: list[str] = ()) -> dict:
    """An app and one visitor with a closed chat per text (and a chat per system line):
    {"app": app id, "visitor": visitor id, "chats": {chat id: text}, "messages": {text: id}}."""
    async def work(session):
        app = await app_queries.create_app(session, "Search", [])
        visitor = Visitor(id=identity.new_id(), app_id=app.id, token_hash="0" * 64, name=name)
        session.add(visitor)
        await session.flush()
        chats, messages = {}, {}
        for kind, line in [("visitor", line) for line in texts] + [("system", line) for line in system]:
            chat = Chat(id=identity.new_id(), app_id=app.id, visitor_id=visitor.id, status="closed",
                        ended_at=utcnow())
            session.add(chat)
            await session.flush()
            message = Message(chat_id=chat.id, author_kind=kind, text=line)
            session.add(message)
            await session.flush()
            chats[chat.id], messages[line] = line, message.id
        await session.commit()
        return {"app": app.id, "visitor": visitor.id, "chats": chats, "messages": messages}
    return run(db, work)


def catch_up(db: Database) -> int:
    """What the search API and the clock do first: the messages not yet in SQLite's index, in."""
    return asyncio.run(search_index.catch_up(db))


def search(db: Database, app_id: str, query: str, limit: int | None = None) -> list[dict]:
    catch_up(db)
    return run(db, lambda session: visitor_queries.search(session, app_id, query, limit))


def found(db: Database, seeded: dict, query: str) -> list[str]:
    """The texts of the chats whose messages the search finds, sorted."""
    return sorted(seeded["chats"][hit["chatId"]] for hit in search(db, seeded["app"], query)
                  if hit["match"] == "message")


def fts_rowids(db: Database, query: str) -> list[int]:
    """What the SQLite index itself holds for `query` (stale entries included)."""
    async def work(session):
        rows = await session.execute(text("SELECT rowid FROM messages_fts WHERE messages_fts MATCH :q"),
                                     {"q": visitor_queries.fts_phrase(query)})
        return sorted(row[0] for row in rows)
    return run(db, work)


def fts_integrity_check(db: Database) -> None:
    """FTS5's own check that the index agrees with the messages table (raises if not)."""
    async def work(session):
        await session.execute(text(
            "INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)"))
    run(db, work)


TEXTS = [
    "Where is my parcel tracking number?",
    "Привет, где мой заказ?",
    "東京駅で待っています",
    'she said "quoted words" twice',
    "2*3 is six",
    "call me (maybe) later",
    "a well-known fact",
    "NEAR the station OR the port",
    "x NOT y: col:umn ^start",
    "Is there 50% off?",
    "Is there 5000 off?",
    "my user_name is ann",
    "my username is bob",
    r"path C:\temp\x",
    "Le café est fermé",
]

QUERIES = {
    # substrings mid-word, across a space, in any case
    "rcel track": [TEXTS[0]], "PARCEL": [TEXTS[0]], "TrAcKiNg NuM": [TEXTS[0]],
    # other scripts (3+ characters: the index; 1-2: the LIKE fallback)
    "заказ": [TEXTS[1]], "где мой": [TEXTS[1]], "ив": [TEXTS[1]],
    "東京駅で": [TEXTS[2]], "京駅": [TEXTS[2]], "駅": [TEXTS[2]],
    # accents must match (the index does not strip them); ASCII letters in any case
    "fermé": [TEXTS[14]], "FERMé": [TEXTS[14]], "ferme": [], "cafe": [],
    # FTS5 syntax is text
    '"quoted': [TEXTS[3]], '"quoted words"': [TEXTS[3]], '"': [TEXTS[3]], '""': [],
    "2*3": [TEXTS[4]], "2*": [TEXTS[4]], "six*": [], "*3 is": [TEXTS[4]],
    "(maybe)": [TEXTS[5]], "me (m": [TEXTS[5]], "(": [TEXTS[5]], "maybe) OR (later": [],
    "well-known": [TEXTS[6]], "-known": [TEXTS[6]], "-": [TEXTS[6]], "well -known": [],
    "NEAR the": [TEXTS[7]], "NEAR": [TEXTS[7]], "OR the": [TEXTS[7]], "near(the port)": [],
    "station OR port": [], "NEAR(station port)": [], "the port": [TEXTS[7]],
    "NOT y": [TEXTS[8]], "col:umn": [TEXTS[8]], "^start": [TEXTS[8]], "x AND y": [],
    # LIKE wildcards are text
    "50%": [TEXTS[9]], "0%": [TEXTS[9]], "%": [TEXTS[9]], "5%": [], "user_name": [TEXTS[11]],
    "_": [TEXTS[11]], "__": [], "r_n": [TEXTS[11]], "r%n": [], r"\temp": [TEXTS[13]], "\\": [TEXTS[13]],
    "IS THERE 50%": [TEXTS[9]], "is there 50": sorted([TEXTS[9], TEXTS[10]]),
    # 1-2 characters
    "my": sorted([TEXTS[0], TEXTS[11], TEXTS[12]]), "x": sorted([TEXTS[4], TEXTS[8], TEXTS[13]]),
    "zz": [], "Le": sorted([TEXTS[14]]),
}


def test_substrings_any_case_any_script_nothing_is_syntax(db):
    seeded = seed(db, TEXTS)
    wrong = {query: (found(db, seeded, query), expected) for query, expected in QUERIES.items()
             if found(db, seeded, query) != expected}
    assert wrong == {}
    # Whatever the query, it is a string to find, never an FTS5 error.
    for query in ['"', '"a', 'a"b"c', "*", "***", "NEAR/2", "(((", "a:b", "-x", "OR", "AND NOT"]:
        search(db, seeded["app"], query)


# PostgreSQL text can't hold a NUL at all (the API refuses such queries: test_inbox_api).
@pytest.mark.sqlite_only
def test_a_nul_in_the_query_is_no_fts_syntax_error(database):
    """(SQLite only: PostgreSQL text can't hold a NUL; the API refuses such queries.)"""
    seeded = seed(database, ["abc\x00def", "abcdef"])
    for query in ("c\x00d", "\x00", "abc\x00"):  # SQLite's LIKE reads up to a NUL too
        assert "abc\x00def" in found(database, seeded, query)


# PostgreSQL's ILIKE folds case by the cluster's locale, and the tests' cluster is C.
@pytest.mark.sqlite_only
def test_letters_of_any_script_in_any_case(database):
    """The SQLite index folds the case of every letter (LIKE, under 3 characters, only
    ASCII's); PostgreSQL's ILIKE folds by the database's locale (the tests' cluster is C)."""
    seeded = seed(database, TEXTS)
    assert found(database, seeded, "ЗАКАЗ") == [TEXTS[1]]
    assert found(database, seeded, "Le CAFÉ") == [TEXTS[14]]
    assert found(database, seeded, "Ив") == []  # the LIKE fallback: ASCII case only


def test_same_results_as_the_like_scan(db, monkeypatch):
    """One hit per chat, visitor matches first, newest messages first, no system lines, the
    limit: the same list with the index as without it."""
    texts = [f"needle number {index}" for index in range(12)] + ["haystack", "the NEEDLE again"]
    seeded = seed(db, texts, name="Needle Person", system=["needle in a system line"])
    queries_ = ["needle", "NEEDLE NUMBER 1", "haystack", "number 1", "person", "ne", "again"]
    indexed = {query: search(db, seeded["app"], query) for query in queries_}
    indexed_limited = search(db, seeded["app"], "needle", 5)
    monkeypatch.setattr(visitor_queries, "TRIGRAM", 10**6)  # every query through LIKE
    assert {query: search(db, seeded["app"], query) for query in queries_} == indexed
    assert search(db, seeded["app"], "needle", 5) == indexed_limited
    hits = indexed["needle"]
    assert {hit["match"] for hit in hits} == {"name"} and len(hits) == 15  # every chat is the visitor's
    assert len(indexed_limited) == 5
    seeded = seed(db, texts, system=["needle in a system line"])
    hits = search(db, seeded["app"], "needle")
    newest_first = [f"needle number {index}" for index in range(11, -1, -1)]
    assert [hit["text"] for hit in hits] == ["the NEEDLE again", *newest_first]
    assert search(db, seeded["app"], "system line") == []


def test_edited_and_deleted_messages_leave_the_index(db):
    seeded = seed(db, ["the walrus said hello", "a second walrus chat", "third walrus here"])
    walrus = seeded["messages"]["the walrus said hello"]

    async def edit(session):
        await session.execute(update(Message).where(Message.id == walrus).values(text="a narwhal now"))
        await session.execute(update(Message).values(seen_at=utcnow()))  # no text change
        await session.commit()
    run(db, edit)
    assert found(db, seeded, "walrus") == ["a second walrus chat", "third walrus here"]
    assert [hit["messageId"] for hit in search(db, seeded["app"], "narwhal")] == [walrus]

    # retention: a chat that ended long ago goes with its messages (ON DELETE CASCADE)
    second = next(chat for chat, line in seeded["chats"].items() if line == "a second walrus chat")

    async def purge(session):
        long_ago = utcnow() - timedelta(days=40)
        await session.execute(update(Chat).where(Chat.id == second).values(ended_at=long_ago))
        await session.commit()
        return await retention.purge_old(session, 30)
    counts, _ = run(db, purge)
    assert counts["messages"] == 1
    assert found(db, seeded, "walrus") == ["third walrus here"]

    # erasure: the visitor with every chat and message
    async def erase(session):
        return await retention.erase_visitor(session, await session.get(Visitor, seeded["visitor"]))
    counts, _ = run(db, erase)
    assert counts["messages"] == 2
    assert search(db, seeded["app"], "walrus") == search(db, seeded["app"], "narwhal") == []
    if dialect(db) == "sqlite":  # nothing stale left in the index itself
        assert fts_rowids(db, "walrus") == fts_rowids(db, "narwhal") == []
        fts_integrity_check(db)


def _sql(db: Database, statement: str, **params):
    async def work(session):
        return (await session.execute(text(statement), params)).all() if statement.startswith("SELECT") \
            else (await session.execute(text(statement), params)).rowcount
    return run(db, work)


# The FTS5 table and its triggers are SQLite's; PostgreSQL's index needs no triggers.
@pytest.mark.sqlite_only
def test_the_newest_schema_keeps_the_index_in_sync(database):
    """A later migration that rebuilds `messages` on SQLite drops the triggers with it; it
    has to make them again (see migration 0014)."""
    async def work(session):
        rows = await session.execute(text(
            "SELECT type, name FROM sqlite_master WHERE name LIKE 'messages_fts%'"))
        return {name for kind, name in rows if kind in ("table", "trigger")}
    names = run(database, work)
    assert {"messages_fts", "messages_fts_insert", "messages_fts_update", "messages_fts_delete"} <= names
    assert _sql(database, "SELECT name FROM sqlite_master WHERE name = 'search_progress'")
    seeded = seed(database, ["synchronised"])
    assert fts_rowids(database, "chronis") == []  # not in the index before a catch-up (0015)
    assert catch_up(database) == 1
    assert fts_rowids(database, "chronis") == list(seeded["messages"].values())
    fts_integrity_check(database)


@pytest.mark.sqlite_only
def test_messages_deleted_or_edited_before_the_batch_leave_the_index_intact(database):
    """The index holds messages up to a mark (migration 0015): editing or deleting one above
    it must not touch the index (FTS5's 'delete' of a row it doesn't hold corrupts it)."""
    seeded = seed(database, ["indexed walrus", "edited narwhal", "deleted dolphin", "kept octopus"])
    ids = seeded["messages"]
    _sql(database, "UPDATE messages SET text = 'edited beluga' WHERE id = :id", id=ids["edited narwhal"])
    _sql(database, "DELETE FROM messages WHERE id = :id", id=ids["deleted dolphin"])
    # (FTS5's integrity-check compares the index with every row of messages: it holds only
    # once the index has caught up.)
    assert catch_up(database) == 3
    assert catch_up(database) == 0  # nothing new
    fts_integrity_check(database)
    assert found(database, seeded, "beluga") == ["edited narwhal"]  # what the row says now
    assert found(database, seeded, "narwhal") == found(database, seeded, "dolphin") == []
    # Indexed rows: the triggers keep the index in sync at once.
    _sql(database, "UPDATE messages SET text = 'edited again' WHERE id = :id", id=ids["kept octopus"])
    assert fts_rowids(database, "octopus") == [] and fts_rowids(database, "again") == [ids["kept octopus"]]
    _sql(database, "DELETE FROM messages WHERE id = :id", id=ids["indexed walrus"])
    assert fts_rowids(database, "walrus") == []
    fts_integrity_check(database)


@pytest.mark.sqlite_only
def test_a_reused_id_below_the_mark_is_indexed_by_its_insert(database):
    """SQLite gives a new row max(id) + 1: after the newest message is deleted, the next one
    gets its id again, at or below the mark. Its insert trigger indexes it at once."""
    seeded = seed(database, ["first", "newest"])
    catch_up(database)
    newest = seeded["messages"]["newest"]
    chat_id = next(chat for chat, line in seeded["chats"].items() if line == "newest")
    _sql(database, "DELETE FROM messages WHERE id = :id", id=newest)
    _sql(database, "INSERT INTO messages (chat_id, author_kind, text, created_at) "
                   "VALUES (:chat, 'visitor', 'reborn message', '2026-12-06 00:00:00')", chat=chat_id)
    assert _sql(database, "SELECT id FROM messages WHERE text = 'reborn message'") == [(newest,)]
    assert fts_rowids(database, "reborn") == [newest]
    assert catch_up(database) == 0
    fts_integrity_check(database)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database(migrated=False)
    yield server.url(name)
    server.drop_database(name)


def test_upgrade_indexes_the_messages_already_there_and_downgrade_drops_it(empty_url):
    from alembic import command
    from sqlalchemy.pool import NullPool

    from parley.storage.db import alembic_config

    database = Database(empty_url, poolclass=NullPool)
    lines = ["an old message about invoices", "Старое сообщение", "古いメッセージ"]

    async def old_schema_with_messages():
        async with database.engine.begin() as connection:
            await connection.run_sync(lambda sync: upgrade(sync, "0013"))
        async with database.session() as session:
            app = await app_queries.create_app(session, "Old", [])
            session.add(Visitor(id="v1", app_id=app.id, token_hash="0" * 64))
            await session.flush()
            for index, line in enumerate(lines):
                session.add(Chat(id=f"c{index}", app_id=app.id, visitor_id="v1", status="closed"))
                await session.flush()
                session.add(Message(chat_id=f"c{index}", author_kind="visitor", text=line))
            await session.commit()
            return app.id

    async def texts(app_id, query):
        async with database.session() as session:
            return [hit["text"] for hit in await visitor_queries.search(session, app_id, query)]

    async def index_objects():
        async with database.engine.connect() as connection:
            if database.dialect == "sqlite":
                rows = await connection.execute(text(
                    "SELECT name FROM sqlite_master WHERE name LIKE 'messages_fts%'"))
            else:
                rows = await connection.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_messages_text_trgm' "
                    "UNION ALL SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'"))
            return {row[0] for row in rows}

    async def downgrade(target):
        async with database.engine.begin() as connection:
            def go(sync):
                config = alembic_config()
                config.attributes["connection"] = sync
                command.downgrade(config, target)
            await connection.run_sync(go)

    async def scenario():
        try:
            app_id = await old_schema_with_messages()
            assert await index_objects() == set()
            await database.upgrade()
            assert await index_objects()
            results = [await texts(app_id, query) for query in ("invoices", "сообщение", "メッセ")]
            if database.dialect == "sqlite":
                async with database.session() as session:
                    rows = await session.execute(text(
                        "SELECT rowid FROM messages_fts WHERE messages_fts MATCH '\"message\"'"))
                    assert len(rows.all()) == 1  # the backfill put the old rows in the index
            await downgrade("0013")
            assert await index_objects() == set()
            after_downgrade = [await texts(app_id, query) for query in ("invoices", "сообщение", "メッセ")]
            return results, after_downgrade
        finally:
            await database.close()
    results, after_downgrade = asyncio.run(scenario())
    assert results == after_downgrade == [[line] for line in lines]


def captured_search_sql(db: Database, app_id: str, query: str) -> tuple[str, object]:
    """The statement (and its parameters) search runs to find messages."""
    seen = []

    def remember(_connection, _cursor, statement, parameters, _context, _many):
        if "FROM messages" in statement and "GROUP BY" in statement:
            seen.append((statement, parameters))
    event.listen(db.engine.sync_engine, "before_cursor_execute", remember)
    try:
        search(db, app_id, query)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", remember)
    [found_] = seen
    return found_


def test_query_plan_uses_the_index(db):
    seeded = seed(db, [f"message {index} about shipping" for index in range(50)] + ["a rare word: zeugma"])
    statement, parameters = captured_search_sql(db, seeded["app"], "zeugma")

    async def explain(session):
        connection = await session.connection()
        if dialect(db) == "postgresql":
            await connection.exec_driver_sql("SET enable_seqscan = off")
        rows = await connection.exec_driver_sql(
            ("EXPLAIN QUERY PLAN " if dialect(db) == "sqlite" else "EXPLAIN ") + statement, parameters)
        plan = "\n".join(str(row[-1]) for row in rows)
        if dialect(db) == "postgresql":  # the ILIKE alone, as search writes it
            rows = await connection.execute(
                text("EXPLAIN SELECT id FROM messages WHERE text ILIKE :pattern ESCAPE '\\'"),
                {"pattern": visitor_queries.like_pattern("zeugma")})
            plan += "\n--\n" + "\n".join(str(row[0]) for row in rows)
        return plan
    plan = run(db, explain)
    if dialect(db) == "sqlite":
        # the matches drive: each found rowid is one lookup of messages by primary key
        first, second = plan.splitlines()[:2]
        assert first.startswith("SCAN messages_fts VIRTUAL TABLE INDEX"), plan
        assert "SEARCH messages USING INTEGER PRIMARY KEY" in second, plan
    else:
        assert "ix_messages_text_trgm" in plan, plan
    assert [hit["text"] for hit in search(db, seeded["app"], "zeugma")] == ["a rare word: zeugma"]


def test_postgresql_without_pg_trgm_rights_migrates_without_the_index(postgres_server):
    """Where CREATE EXTENSION is refused (here: the migrating role owns the tables but not
    the database), 0014 warns, creates nothing, and search still works (by a scan)."""
    from alembic import command
    from sqlalchemy.pool import NullPool

    from parley.storage.db import alembic_config

    name = postgres_server.create_database(migrated=False)
    database = Database(postgres_server.url(name), poolclass=NullPool)

    def migrate(sync, target, role=None):
        if role:
            sync.exec_driver_sql(f"SET ROLE {role}")
        config = alembic_config()
        config.attributes["connection"] = sync
        command.upgrade(config, target)

    async def scenario():
        try:
            async with database.engine.begin() as connection:
                await connection.run_sync(lambda sync: migrate(sync, "0013"))
                await connection.execute(text("DROP ROLE IF EXISTS parley_no_ext"))
                await connection.execute(text("CREATE ROLE parley_no_ext"))
                for table in ("messages", "alembic_version"):
                    await connection.execute(text(f"ALTER TABLE {table} OWNER TO parley_no_ext"))
            async with database.engine.begin() as connection:
                with pytest.warns(UserWarning, match="could not CREATE EXTENSION pg_trgm"):
                    await connection.run_sync(lambda sync: migrate(sync, "head", "parley_no_ext"))
            async with database.engine.connect() as connection:
                objects = (await connection.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE indexname = 'ix_messages_text_trgm' "
                    "UNION ALL SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'"))).all()
                version = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            return objects, version
        finally:
            await database.close()
    try:
        objects, version = asyncio.run(scenario())
        assert objects == [] and version == "0015"
        seeded = seed(database, ["still searchable by a scan"])
        assert found(database, seeded, "searchable") == ["still searchable by a scan"]
    finally:
        postgres_server.drop_database(name)
        postgres_server.execute("DROP ROLE IF EXISTS parley_no_ext")


@pytest.mark.sqlite_only
def test_a_long_catch_up_goes_in_short_units(database, monkeypatch):
    """A busy server has thousands of messages to index at a time: they go in units of
    search_index.BATCH, so the messages stored meanwhile never wait behind one long one."""
    monkeypatch.setattr(search_index, "BATCH", 2)
    monkeypatch.setattr(search_index.index_pending, "__defaults__", (2,))
    seeded = seed(database, [f"batch{i} zebra" for i in range(5)])
    units = []
    original = database.run

    async def counting(unit):
        units.append(unit)
        return await original(unit)

    monkeypatch.setattr(database, "run", counting)
    assert catch_up(database) == 5
    assert len(units) == 3  # 2 + 2 + 1
    assert sorted(fts_rowids(database, "zebra")) == sorted(seeded["messages"].values())
    fts_integrity_check(database)
