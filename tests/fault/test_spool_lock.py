"""Two processes share one spool (the window and a terminal command): while one replays and
rewrites the file, the other keeps appending; not a line may be lost or doubled (issue #14)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.migrate import ensure_schema
from synthbot_desktop.storage.recorder import Recorder, WriteUnit
from synthbot_desktop.storage.records import UsageRecord
from tests.conftest import ROOT

APPENDS = 300

APPENDER = f"""
import sys
from pathlib import Path
from synthbot_desktop.storage.offline import OfflineSpool
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import UsageRecord
spool = OfflineSpool(Path(sys.argv[1]))
for i in range({APPENDS}):
    spool.record_now(WriteUnit(usage=[UsageRecord("ollama", uid=f"other-{{i:04d}}")]))
print("appended", flush=True)
"""


def test_concurrent_append_and_replay_lose_nothing(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    ensure_schema(engine, allow_upgrade=True)
    db = Database(engine)
    recorder = Recorder(db, None, spool_dir)
    child = subprocess.Popen([sys.executable, "-c", APPENDER, str(spool_dir)], cwd=ROOT,
                             env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                             stdout=subprocess.PIPE, text=True)
    mine = 0
    while child.poll() is None or mine < 50:  # replay (rewriting the file) while the child appends
        recorder.record_now(WriteUnit(usage=[UsageRecord("openai", uid=f"mine-{mine:04d}")]))
        mine += 1
        recorder.replay()
    assert child.wait(60) == 0
    recorder.flush()
    while recorder.replay():
        pass
    recorder.close()
    with engine.connect() as conn:
        uids = [r[0] for r in conn.exec_driver_sql("SELECT uid FROM api_usage_logs")]
    engine.dispose()
    assert len(uids) == len(set(uids)) == APPENDS + mine, json.dumps(
        {"stored": len(uids), "expected": APPENDS + mine})
    assert not (spool_dir / "pending.jsonl").exists()
