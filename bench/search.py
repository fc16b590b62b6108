"""The inbox's chat search with its index (migration 0014) against the LIKE scan it replaced.

Fills a throwaway database with --messages messages (default 100,000) over --chats chats
(default 2,000), at schema 0013, then times migration 0014 (which indexes the messages
already there), then `parley.storage.visitor_queries.search` for --queries words of 3+
characters (whole words common and rare, pieces of words, two-word phrases):

- SQLite: the FTS5 trigram index, against the old LIKE query (the same function with the
  index turned off: every query takes the short-query LIKE path);
- PostgreSQL (when tests/services.py can start one; --no-postgres skips it): ILIKE with the
  pg_trgm GIN index, against the same ILIKE after DROP INDEX.

Each query runs once to warm up, then --repeat times (the fastest counts); the table gives
the median over the queries, the slowest query, and LIKE/index. Both ways must find the
same results, or the bench fails. On SQLite it also times what the index costs a write:
one message INSERT per transaction with the triggers and without.

    .venv/bin/python bench/search.py                 # ~1-2 min on 2 busy cores
    .venv/bin/python bench/search.py --messages 20000 --no-postgres
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from parley.storage import visitor_queries  # noqa: E402
from parley.storage.db import Database, alembic_config  # noqa: E402
from parley.storage.models import App, Chat, Message, Visitor  # noqa: E402

APP = "benchapp"
SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "der", "pen", "qua", "stor", "ship",
             "ord", "pay", "ack", "ing", "ment", "ion", "con", "pro", "ex", "re", "un", "tel"]
PLAIN = ["hello", "order", "delivery", "refund", "invoice", "account", "password", "the", "and",
         "please", "thanks", "when", "where", "package", "tracking", "number", "help", "problem"]


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    words = set(PLAIN)
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def message_texts(rng: random.Random, words: list[str], count: int) -> list[str]:
    # Zipf-like: a few words are everywhere, most are rare, as in real chats.
    weights = [1 / (rank + 1) for rank in range(len(words))]
    rng.shuffle(weights)
    texts = []
    for _ in range(count):
        texts.append(" ".join(rng.choices(words, weights, k=rng.randint(3, 25))))
    return texts


def pick_queries(rng: random.Random, texts: list[str], words: list[str], count: int) -> list[str]:
    """Whole words (common and rare), pieces of words, two-word phrases; 3+ characters."""
    picked: list[str] = []
    long_words = [word for word in words if len(word) >= 6]
    while len(picked) < count:
        kind = len(picked) % 4
        if kind == 0:
            query = rng.choice(PLAIN[:6] + PLAIN[8:])
        elif kind == 1:
            query = rng.choice(long_words)
        elif kind == 2:
            word = rng.choice(long_words)
            start = rng.randint(1, len(word) - 4)
            query = word[start:start + rng.randint(3, len(word) - start - 1)]
        else:
            parts = rng.choice(texts).split()
            at = rng.randrange(len(parts) - 1)
            query = f"{parts[at]} {parts[at + 1]}"
        if len(query) >= 3 and query not in picked:
            picked.append(query)
    return picked


async def fill(database: Database, texts: list[str], chats: int) -> None:
    """Schema 0013 (before the index), an app, a visitor and a closed chat per chat, the messages."""
    from alembic import command

    def to_0013(sync) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync
        command.upgrade(config, "0013")
    async with database.engine.begin() as connection:
        await connection.run_sync(to_0013)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    async with database.engine.begin() as connection:
        await connection.execute(insert(App), [{"id": APP, "name": "Bench", "secret": "s", "origins": []}])
        await connection.execute(insert(Visitor), [
            {"id": f"v{n}", "app_id": APP, "token_hash": "0" * 64, "name": f"Visitor {n}",
             "email": f"visitor{n}@example.com", "first_seen_at": start, "last_seen_at": start,
             "custom": {}} for n in range(chats)])
        await connection.execute(insert(Chat), [
            {"id": f"c{n}", "app_id": APP, "visitor_id": f"v{n}", "status": "closed", "operator_ids": [],
             "started_at": start, "ended_at": start} for n in range(chats)])
        rows = [{"chat_id": f"c{n % chats}", "author_kind": "visitor" if n % 2 else "operator",
                 "text": line, "created_at": start + timedelta(seconds=n)} for n, line in enumerate(texts)]
        for at in range(0, len(rows), 10_000):
            await connection.execute(insert(Message), rows[at:at + 10_000])


async def time_searches(database: Database, queries: list[str], repeat: int) -> tuple[list[float], list]:
    times, results = [], []
    async with database.session() as session:
        for query in queries:
            found = await visitor_queries.search(session, APP, query)  # warm-up (and the results)
            best = float("inf")
            for _ in range(repeat):
                began = time.perf_counter()
                await visitor_queries.search(session, APP, query)
                best = min(best, time.perf_counter() - began)
            times.append(best * 1000)
            results.append(found)
    return times, results


async def measure(name: str, url: str, texts: list[str], queries: list[str], args) -> list[dict]:
    database = Database(url, poolclass=NullPool)
    try:
        began = time.perf_counter()
        await fill(database, texts, args.chats)
        filled = time.perf_counter() - began
        began = time.perf_counter()
        await database.upgrade()  # migration 0014: builds the index over the messages already there
        migrated = time.perf_counter() - began
        if database.dialect == "postgresql":  # planner statistics, as autovacuum keeps them
            async with database.engine.begin() as connection:
                await connection.execute(text("ANALYZE"))
        indexed, indexed_results = await time_searches(database, queries, args.repeat)
        if database.dialect == "sqlite":
            visitor_queries.TRIGRAM = 10**9  # every query through LIKE: the old search
            try:
                scanned, scanned_results = await time_searches(database, queries, args.repeat)
            finally:
                visitor_queries.TRIGRAM = 3
        else:
            async with database.engine.begin() as connection:
                await connection.execute(text("DROP INDEX ix_messages_text_trgm"))
            scanned, scanned_results = await time_searches(database, queries, args.repeat)
        if indexed_results != scanned_results:
            bad = [q for q, a, b in zip(queries, indexed_results, scanned_results, strict=True) if a != b]
            raise SystemExit(f"{name}: the index and LIKE found different results for {bad}")
        hits = [sum(hit["match"] == "message" for hit in found) for found in indexed_results]
        print(f"{name}: filled in {filled:.1f} s, migration 0014 (index build) {migrated:.1f} s, "
              f"message hits per query (limit {visitor_queries.SEARCH_LIMIT}): "
              f"median {statistics.median(hits):g}, min {min(hits)}", flush=True)
        if args.verbose:
            for query, fast, slow, count in zip(queries, indexed, scanned, hits, strict=True):
                print(f"  {query!r:24} index {fast:8.2f} ms   LIKE {slow:8.2f} ms   {count} hits")
        if database.dialect == "sqlite" and not args.no_writes:
            await database.close()
            write = sqlite_write_cost(url.split("///", 1)[1], texts)
            print(f"{name}: one message INSERT per transaction: {write['index at once']:.0f} us indexed in "
                  f"its own transaction (0014), {write['index in batches']:.0f} us indexed in batches of 40 "
                  f"(0015, parley.storage.search_index), {write['no index']:.0f} us without the index "
                  "(median of 6 interleaved rounds of 100)", flush=True)
        return [{"db": name, "rows": len(texts), "way": way, "median": statistics.median(times),
                 "max": max(times)} for way, times in (("index", indexed), ("LIKE", scanned))]
    finally:
        await database.close()


def sqlite_write_cost(path: str, texts: list[str], rounds: int = 6, per_round: int = 100,
                      batch: int = 40) -> dict:
    """Microseconds per message INSERT, one per transaction (the worst case: a quiet server
    commits every message alone), interleaved: indexed by its own transaction (as migration
    0014 did), indexed in batches of `batch` (0015: parley.storage.search_index, the batch's
    cost shared by its messages), and without the index's triggers."""
    import sqlite3

    from parley.storage import search_index

    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    triggers = connection.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                  "AND name LIKE 'messages_fts_%'").fetchall()
    costs: dict[str, list[float]] = {"index at once": [], "index in batches": [], "no index": []}
    lines = iter(texts * 3)

    def catch_up() -> None:
        connection.execute("BEGIN IMMEDIATE")
        search_index.index_pending_sqlite3(connection)
        connection.execute("COMMIT")

    try:
        for round_ in range(rounds + 1):  # the first round warms up and is not counted
            for way in costs:
                catch_up()
                if way == "index at once":  # every new id at or below the mark: the trigger indexes it
                    connection.execute("UPDATE search_progress SET indexed_through = 9000000000000000000")
                if way == "no index":
                    for name, _sql in triggers:
                        connection.execute(f"DROP TRIGGER {name}")
                began = time.perf_counter()
                for n in range(per_round):
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute("INSERT INTO messages (chat_id, author_kind, text, created_at) "
                                       "VALUES (?, 'visitor', ?, '2026-06-01')", (f"c{n}", next(lines)))
                    connection.execute("COMMIT")
                    if way == "index in batches" and n % batch == batch - 1:
                        catch_up()
                if round_:
                    costs[way].append((time.perf_counter() - began) / per_round * 1e6)
                if way == "index at once":
                    connection.execute("UPDATE search_progress SET indexed_through = "
                                       "(SELECT max(id) FROM messages)")
                if way == "no index":  # (its rows are above the mark: the next catch-up indexes them)
                    for _name, sql in triggers:
                        connection.execute(sql)
    finally:
        connection.close()
    return {way: statistics.median(values) for way, values in costs.items()}


def table(rows: list[dict]) -> str:
    lines = ["| database | messages | search | median ms | slowest ms | LIKE / index |",
             "| --- | ---: | --- | ---: | ---: | ---: |"]
    for row in rows:
        partner = next(other for other in rows if other["db"] == row["db"] and other["way"] == "index")
        ratio = row["median"] / partner["median"] if row["way"] == "LIKE" else 1.0
        lines.append(f"| {row['db']} | {row['rows']:,} | {row['way']} | {row['median']:.2f} | "
                     f"{row['max']:.2f} | {ratio:.1f}x |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=2_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-writes", action="store_true", help="skip the SQLite write cost")
    parser.add_argument("--verbose", "-v", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    words = vocabulary(rng)
    texts = message_texts(rng, words, args.messages)
    queries = pick_queries(rng, texts, words, args.queries)
    print(f"{args.messages:,} messages over {args.chats:,} chats; {len(queries)} queries: "
          f"{', '.join(queries)}", flush=True)
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="parley-search-bench-") as folder:
        rows += asyncio.run(measure("SQLite", f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}",
                                    texts, queries, args))
    if not args.no_postgres:
        from tests import services
        try:
            server = services.start_postgres()
        except services.Unavailable as error:
            print(f"PostgreSQL skipped: {error}")
        else:
            try:
                name = server.create_database(migrated=False)
                rows += asyncio.run(measure("PostgreSQL", server.url(name), texts, queries, args))
            finally:
                server.stop()
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
