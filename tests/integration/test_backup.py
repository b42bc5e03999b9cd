"""`db backup` -> `db restore` gives back the same rows on both engines; a newer schema is refused."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord, UsageRecord

DAY = dt.datetime(2025, 6, 1, 8, 30, tzinfo=dt.UTC)


def _snapshot(db: Database) -> list[tuple[object, ...]]:
    with db.engine.connect() as c:
        return [tuple(r) for r in c.execute(text(
            "SELECT u.username, s.title, m.content, l.cost_usd, l.created_at FROM users u "
            "JOIN conversation_sessions s ON s.user_id = u.id JOIN conversation_messages m ON m.session_id = s.id "
            "JOIN api_usage_logs l ON l.user_id = u.id ORDER BY m.id"))]


@pytest.mark.parametrize("any_db_url", ["sqlite", "mysql"], indirect=True)
def test_backup_restore_round_trip(any_db_url: str, app_env: dict[str, str], memory_keyring: object,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "dana").id
        conv = repo.create_session(s, uid, title="Grüße ✓")
        s.flush()
        repo.add_message(s, MessageRecord(conv.id, "user", "what's the time?"))
        repo.add_message(s, MessageRecord(conv.id, "assistant", "half past eight"))
        repo.add_usage(s, UsageRecord("openai", model="m", cost_usd=Decimal("0.000123"), created_at=DAY), uid)
    before = _snapshot(db)
    out = tmp_path / "bk" / "backup.bin"
    assert main(["db", "backup", "--url", any_db_url, "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] > 0
    with db.session() as s:  # changes after the backup are undone by the restore
        repo.add_usage(s, UsageRecord("openai", model="later", created_at=DAY), uid)
        s.execute(text("DELETE FROM conversation_messages"))
    assert main(["db", "restore", str(out), "--url", any_db_url]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["db", "restore", str(out), "--url", any_db_url, "--yes"]) == 0
    assert _snapshot(db) == before
    with db.engine.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM api_usage_logs")).scalar_one() == 1
    db.dispose()


def test_restore_refuses_newer_schema(tmp_path: Path, app_env: dict[str, str], memory_keyring: object,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "future.jsonl.gz"
    with gzip.open(dump, "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"format": "synthbot-dump/1", "revision": "9999_future"}) + "\n")
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    assert main(["db", "restore", str(dump), "--url", url, "--yes"]) == 2
    assert "newer schema" in capsys.readouterr().err


def test_doctor_shows_size_spool_and_last_backup(app_env: dict[str, str], memory_keyring: object,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from synthbot_desktop.app import AppContext
    from synthbot_desktop.diagnostics import check_storage

    ctx = AppContext()
    _ = ctx.db  # SQLite default: created and upgraded
    assert check_storage(ctx).data["last_backup"] is None
    assert main(["db", "backup"]) == 0
    capsys.readouterr()
    (ctx.paths.spool_dir).mkdir(parents=True, exist_ok=True)
    (ctx.paths.spool_dir / "pending.jsonl").write_text('{"a": 1}\n{"b": 2}\n', encoding="utf-8")
    check = check_storage(ctx)
    assert check.data["database_bytes"] > 0 and check.data["spool_backlog"] == 2
    assert Path(check.data["last_backup"]).parent == ctx.paths.data_dir / "backups"
    assert check.status == "warn"
    ctx.close()
