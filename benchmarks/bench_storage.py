"""Storage: bulk message writes and history search at 100k (and optionally 1M) messages,
SQLite and MariaDB side by side in one run.

    python -m benchmarks.bench_storage [--sizes 100000 1000000] [--no-mysql]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from benchmarks.common import median, write_report
from synthbot_desktop.storage import history_meta, migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import ConversationMessage, ConversationSession
from synthbot_desktop.storage.types import utcnow

WORDS = tuple(
    "weather forecast music timer recipe lisbon paris physics history garden coffee meeting reminder "
    "train flight budget poem story joke news sport python voice window sunny rain".split()
)


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))).capitalize() + "."


def _content(rng: random.Random, n: int) -> str:
    return _sentence(rng) + (" Zanzibar trip." if n % 1000 == 0 else "")  # the rare word: 0.1 %


def run_backend(name: str, url: str, size: int) -> dict[str, Any]:
    db = Database(make_engine(url))
    migrate.upgrade(db.engine)
    rng = random.Random(42)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "bench").id
        sessions = [repo.create_session(s, uid).id for _ in range(max(1, size // 50))]
    now = utcnow()
    batch = 5000
    t0 = time.perf_counter()
    for start in range(0, size, batch):
        rows = [{"session_id": sessions[(start + i) // 50 % len(sessions)], "uid": str(uuid.uuid4()),
                 "role": "user" if i % 2 == 0 else "assistant", "content": _content(rng, start + i), "interrupted": False,
                 "created_at": now} for i in range(min(batch, size - start))]
        with db.session() as s:
            s.execute(insert(ConversationMessage), rows)
    write_s = time.perf_counter() - t0
    with db.session() as s:
        s.query(ConversationSession).update({"last_message_at": now})
    searches = {}
    # A word in ~40 % of messages (worst case for an index), two such words, a rare word (0.1 %), a miss.
    for query in ("lisbon", "weather forecast", "zanzibar", "zebra"):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            with db.session() as s:
                hits = repo.search_messages(s, uid, query, limit=50)
            times.append(time.perf_counter() - t)
        searches[query] = {"median_ms": median(times) * 1000, "hits": len(hits)}
    times = []
    for _ in range(5):
        t = time.perf_counter()
        with db.session() as s:
            history_meta.list_sessions(s, uid, limit=50)  # what the History page and `history list` run
        times.append(time.perf_counter() - t)
    db.dispose()
    return {"backend": name, "messages": size, "write_s": write_s, "rows_per_s": size / write_s,
            "search": searches, "list_sessions_ms": median(times) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--no-mysql", action="store_true")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_backend("sqlite", f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", size))
        if not args.no_mysql:
            from tests.support import mariadb

            mariadb.ensure_server()
            name = mariadb.create_database("synthbot_bench")
            try:
                results.append(run_backend("mariadb", mariadb.server_url(name), size))
            finally:
                mariadb.drop_database(name)
    table: list[tuple[str, ...]] = [("backend", "messages", "write rows/s", "search common word ms",
                                     "search 2 common words ms", "search rare word ms", "search miss ms",
                                     "list sessions ms")]
    for r in results:
        s = r["search"]
        table.append((r["backend"], f"{r['messages']:,}", f"{r['rows_per_s']:,.0f}",
                      f"{s['lisbon']['median_ms']:.1f}", f"{s['weather forecast']['median_ms']:.1f}",
                      f"{s['zanzibar']['median_ms']:.1f}", f"{s['zebra']['median_ms']:.1f}",
                      f"{r['list_sessions_ms']:.1f}"))
    md = write_report("storage", {"results": results}, table,
                      "Search: newest 50 hits, medians of 5. SQLite: FTS5. MariaDB: the newest 2,000 messages "
                      "scanned first, then the FULLTEXT index (boolean mode) when they hold fewer than 50 hits. "
                      "Common word: in ~40 % of messages; rare word: in 0.1 %.")
    print(md.read_text())


if __name__ == "__main__":
    main()
