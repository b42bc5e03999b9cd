"""Scheduled local backups (issue #18) on SQLite and a fresh MariaDB database: due / not due, run
at app start in the background, pruned to database.backup.keep (manual backups are kept), and
`doctor` shows the last backup time."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.services import backups
from synthbot_desktop.storage import backup, migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def seat(any_db_url: str, app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    with db.session() as s:
        repo.create_session(s, repo.get_or_create_user(s, "alice").id, title="keep me")
    db.dispose()
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_USER", "alice")
    return any_db_url


def _age(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_due_and_not_due(seat: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = AppContext()
    directory = backups.backup_dir(ctx)
    assert not backups.is_due(directory, 0, NOW)  # 0 = off
    assert backups.run_if_due(ctx, NOW) is None and not directory.exists()
    assert backups.is_due(directory, 24, NOW)  # never backed up
    ctx.close()

    monkeypatch.setenv("SYNTHBOT_SET__database__backup__every_hours", "24")
    ctx = AppContext()
    written = backups.run_if_due(ctx, NOW)
    assert written is not None and written.name.startswith(backups.AUTO_PREFIX)
    assert written.suffix == (".sqlite3" if seat.startswith("sqlite") else ".gz")
    _age(written, NOW - dt.timedelta(hours=23))
    assert not backups.is_due(directory, 24, NOW)
    assert backups.run_if_due(ctx, NOW) is None  # not due: nothing new
    _age(written, NOW - dt.timedelta(hours=25))
    assert backups.is_due(directory, 24, NOW)
    manual = directory / "synthbot-20260301T115900Z.sqlite3"  # what `db backup` writes by default
    backup.backup(ctx.db.engine, manual) if seat.startswith("sqlite") else manual.write_bytes(b"x")
    _age(manual, NOW - dt.timedelta(minutes=1))
    assert not backups.is_due(directory, 24, NOW)  # a manual backup counts as the last backup
    ctx.close()

    restored = Database(make_engine(f"sqlite:///{directory / 'check.sqlite3'}"))
    try:  # the scheduled file is a real backup: it restores into a fresh database
        counts = backup.restore(restored.engine, written)
        assert counts["conversation_sessions"] == 1 and counts["users"] == 1
    finally:
        restored.dispose()


def test_prune_keeps_the_newest_scheduled_and_every_manual_backup(seat: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__backup__every_hours", "1")
    monkeypatch.setenv("SYNTHBOT_SET__database__backup__keep", "2")
    ctx = AppContext()
    directory = backups.backup_dir(ctx)
    made = []
    for hours_ago in (5, 4, 3, 2):
        when = NOW - dt.timedelta(hours=hours_ago)
        for old in directory.glob("synthbot-*"):  # make the previous backups old enough to be due again
            _age(old, when - dt.timedelta(hours=1))
        path = backups.run_if_due(ctx, when)
        assert path is not None
        _age(path, when)
        made.append(path)
    manual = directory / "synthbot-20200101T000000Z.jsonl.gz"
    manual.write_bytes(b"a person's own backup")
    _age(manual, NOW - dt.timedelta(days=400))
    assert backups.prune(directory, 2) == []  # already pruned while running
    cut_off = directory / f"{backups.AUTO_PREFIX}20260101T000000000000Z.sqlite3.part"
    cut_off.write_bytes(b"half a backup")  # the app quit in the middle of one
    fresh_part = directory / f"{backups.AUTO_PREFIX}20260301T115959000000Z.sqlite3.part"
    fresh_part.write_bytes(b"being written right now")
    _age(cut_off, dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
    assert backups.prune(directory, 2) == [cut_off] and fresh_part.exists()
    fresh_part.unlink()
    left = sorted(p.name for p in directory.glob("synthbot-*"))
    assert left == sorted([made[-1].name, made[-2].name, manual.name])
    assert backups.scheduled_backups(directory) == [made[-1], made[-2]]  # newest first
    ctx.close()


def test_runs_in_the_background_at_app_start_and_doctor_shows_it(
        seat: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__backup__every_hours", "12")
    assert main(["history", "list", "--json"]) == 0  # a conversation command is an app start
    assert [s["title"] for s in json.loads(capsys.readouterr().out)] == ["keep me"]
    ctx = AppContext()
    files = backups.scheduled_backups(backups.backup_dir(ctx))
    assert len(files) == 1  # written by the background thread; main() let it finish before exiting
    assert backups.start_if_due(ctx) is None  # just backed up: not due
    lock = backups.backup_dir(ctx) / backups.LOCK_NAME
    assert not lock.exists()
    ctx.close()

    assert main(["doctor", "--json"]) in (0, 1)
    storage = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}["storage"]
    when = dt.datetime.fromisoformat(storage["data"]["last_backup_at"])
    assert abs(when.timestamp() - files[0].stat().st_mtime) < 1.5
    assert storage["data"]["backup_every_hours"] == 12 and "every 12 h" in storage["detail"]


def test_a_second_process_does_not_back_up_at_the_same_time(seat: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__backup__every_hours", "1")
    ctx = AppContext()
    directory = backups.backup_dir(ctx)
    directory.mkdir(parents=True)
    (directory / backups.LOCK_NAME).write_text("12345")  # another process holds the lock
    assert backups.run_if_due(ctx, NOW) is None
    assert backups.scheduled_backups(directory) == []
    stale = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    _age(directory / backups.LOCK_NAME, stale)  # a crashed backup's lock does not block forever
    assert backups.run_if_due(ctx) is not None
    ctx.close()
