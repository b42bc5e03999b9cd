"""History import throughput (issue #17): a generated ChatGPT conversations.json streamed into
SQLite (and MariaDB), messages/s end to end (parse + write), peak memory against the file size.

    python -m benchmarks.bench_import [--conversations 5000] [--turns 10] [--no-mysql]
    python -m benchmarks.bench_import --against /work/main [--repeat 2]   # before/after in one run

Goal: >= 10,000 messages/s into SQLite; memory bounded by the largest conversation, not the file.
With ``--against CHECKOUT`` every measurement runs in a fresh process, alternately with that
checkout's code ("before") and this one's ("after"), on the same file and in the same minutes, so
the other jobs of a shared machine weigh on both alike (ABBA order over ``--repeat`` rounds).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_report
from synthbot_desktop.services.history_importers import import_file
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from tests.support.exports import big_chatgpt, write_stream


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_backend(name: str, url: str, export: Path) -> dict[str, Any]:
    db = Database(make_engine(url))
    migrate.upgrade(db.engine)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "bench").id
    rss_before = _rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    prog = import_file(db, uid, export, "chatgpt")
    first_s, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    again = import_file(db, uid, export, "chatgpt")  # idempotent re-import: reads, adds nothing
    again_s = time.perf_counter() - t1
    db.dispose()
    assert again.messages_added == 0
    return {"backend": name, "messages": prog.messages_added, "conversations": prog.sessions_created,
            "seconds": round(first_s, 2), "messages_per_s": prog.messages_added / first_s,
            "cpu_seconds": round(first_cpu, 2), "messages_per_cpu_s": prog.messages_added / first_cpu,
            "load_average": os.getloadavg()[0],
            "reimport_s": round(again_s, 2), "reimport_messages_per_s": again.messages_existing / again_s,
            "peak_rss_growth_mb": round(_rss_mb() - rss_before, 1)}


# Runs one measurement with the code of ``checkout`` (run_backend exists there too).
_CHILD = ("import json, sys; from pathlib import Path; from benchmarks.bench_import import run_backend; "
          "print(json.dumps(run_backend(sys.argv[1], sys.argv[2], Path(sys.argv[3]))))")


def run_in(checkout: Path, name: str, url: str, export: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    done = subprocess.run([sys.executable, "-c", _CHILD, name, url, str(export)], cwd=checkout, env=env,
                          capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(name: str, tmp: Path, export: Path, run: Any) -> dict[str, Any]:
    """One measurement on a new empty database of that backend."""
    if name == "sqlite":
        db_file = Path(tempfile.mkdtemp(dir=tmp)) / "bench.sqlite3"
        return dict(run(name, f"sqlite:///{db_file}", export))
    from tests.support import mariadb

    mariadb.ensure_server()
    db_name = mariadb.create_database("synthbot_bench")
    try:
        return dict(run(name, mariadb.server_url(db_name), export))
    finally:
        mariadb.drop_database(db_name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--turns", type=int, default=10, help="user+assistant pairs per conversation")
    parser.add_argument("--no-mysql", action="store_true")
    parser.add_argument("--against", type=Path, help="a checkout of the code to compare with (before)")
    parser.add_argument("--repeat", type=int, default=1, help="with --against: rounds per backend")
    args = parser.parse_args()
    backends = ["sqlite"] if args.no_mysql else ["sqlite", "mariadb"]
    here = Path(__file__).resolve().parent.parent
    results = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        export = tmp / "conversations.json"
        size = write_stream(export, big_chatgpt(args.conversations, args.turns))
        for name in backends:
            if args.against is None:
                results.append({"code": "this", **_measure(name, tmp, export, run_backend)})
                continue
            for k in range(args.repeat):
                order = [("before", args.against), ("after", here)]
                for label, checkout in (order if k % 2 == 0 else order[::-1]):
                    r = _measure(name, tmp, export, lambda n, u, e, c=checkout: run_in(c, n, u, e))
                    results.append({"code": label, **r})
    table: list[tuple[str, ...]] = [("backend", "code", "file MB", "messages", "import s", "messages/s",
                                     "msgs per CPU-s", "load avg", "re-import s", "re-import msgs/s",
                                     "peak RSS growth MB")]
    for r in results:
        table.append((r["backend"], r["code"], f"{size / 1e6:.0f}", f"{r['messages']:,}", f"{r['seconds']:.1f}",
                      f"{r['messages_per_s']:,.0f}", f"{r['messages_per_cpu_s']:,.0f}",
                      f"{r['load_average']:.1f}", f"{r['reimport_s']:.1f}",
                      f"{r['reimport_messages_per_s']:,.0f}", f"{r['peak_rss_growth_mb']:.0f}"))
    against = f" `before` = {args.against}, `after` = {here}, each run a fresh process, ABBA order." \
        if args.against else ""
    md = write_report("history_import", {"file_bytes": size, "against": str(args.against or ""),
                                         "results": results}, table,
                      "ChatGPT conversations.json generated by tests/support/exports.py (mapping trees, "
                      f"{args.turns} turns each), read by the streaming importer (1 MiB chunks) and written "
                      "in transactions of ~5,000 messages (new sessions and new messages one executemany "
                      "each, FTS5 filled in one statement per batch). Goal: "
                      ">= 10,000 messages/s into SQLite. RSS growth is the process's peak resident size "
                      "after minus before (ru_maxrss), i.e. an upper bound of what the import held. Messages per "
                      "CPU-second counts this process only (SQLite runs in it; MariaDB's server does not): "
                      "on the shared 2-core CI machine wall time mostly measures other jobs (load avg column)."
                      + against)
    print(md.read_text())


if __name__ == "__main__":
    main()
