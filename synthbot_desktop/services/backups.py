"""Scheduled local backups (issue #18): at app start, when the last one is older than
``database.backup.every_hours``, back up in the background and keep ``database.backup.keep``.

Only files this schedule wrote (``synthbot-auto-*``) are pruned: a backup a person made with
`db backup` is theirs to delete. Any backup in ``<data>/backups`` counts as "the last backup"
for the due check, so a manual one postpones the next scheduled one. The work runs on its own
thread with its own engine: a turn never waits for it. A lock file keeps two processes (the
window and a CLI command) from backing up at once.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from synthbot_desktop.setting_keys import DATABASE_BACKUP_EVERY_HOURS, DATABASE_BACKUP_KEEP
from synthbot_desktop.storage.backup import last_backup

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)

AUTO_PREFIX = "synthbot-auto-"
LOCK_NAME = ".scheduled-backup.lock"
STALE_LOCK_S = 3600.0  # a crashed backup's lock is ignored after an hour

_THREADS: list[threading.Thread] = []


def backup_dir(ctx: AppContext) -> Path:
    return ctx.paths.data_dir / "backups"


def last_backup_time(directory: Path) -> dt.datetime | None:
    last = last_backup(directory)
    return dt.datetime.fromtimestamp(last.stat().st_mtime, dt.UTC) if last else None


def is_due(directory: Path, every_hours: int, now: dt.datetime | None = None) -> bool:
    """True when scheduling is on and the newest backup (of any kind) is at least ``every_hours`` old."""
    if every_hours <= 0:
        return False
    last = last_backup_time(directory)
    now = now or dt.datetime.now(dt.UTC)
    return last is None or now - last >= dt.timedelta(hours=every_hours)


def scheduled_backups(directory: Path) -> list[Path]:
    """The schedule's own backups, newest first (by modification time, then name)."""
    files = [p for p in directory.glob(f"{AUTO_PREFIX}*") if p.is_file() and not p.name.endswith(".part")]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name), reverse=True)


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete scheduled backups beyond the newest ``keep``; returns what was deleted."""
    removed = []
    cutoff = time.time() - STALE_LOCK_S  # a backup cut off by the app quitting leaves a .part file
    stale = [p for p in directory.glob(f"{AUTO_PREFIX}*.part") if p.stat().st_mtime < cutoff]
    for old in [*scheduled_backups(directory)[max(keep, 1):], *stale]:
        try:
            old.unlink()
            removed.append(old)
        except OSError as exc:
            log.warning("could not delete the old backup %s: %s", old, exc)
    return removed


def _take_lock(directory: Path) -> Path | None:
    lock = directory / LOCK_NAME
    directory.mkdir(parents=True, exist_ok=True)
    try:
        if lock.exists() and time.time() - lock.stat().st_mtime > STALE_LOCK_S:
            lock.unlink()
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return None
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    return lock


def run_if_due(ctx: AppContext, now: dt.datetime | None = None) -> Path | None:
    """Back up now if due (blocking); returns the file written, or None when not due / busy."""
    from synthbot_desktop.storage import backup

    directory = backup_dir(ctx)
    every = ctx.settings.value(DATABASE_BACKUP_EVERY_HOURS)
    if not is_due(directory, every, now):
        return None
    lock = _take_lock(directory)
    if lock is None:
        log.info("another process is backing up the database")
        return None
    try:
        _ = ctx.db  # the schema is ensured (and a new SQLite file created) before it is copied
        db = ctx.open_database()
        try:
            stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%S%fZ")
            suffix = ".sqlite3" if db.engine.dialect.name == "sqlite" else ".jsonl.gz"
            written = backup.backup(db.engine, directory / f"{AUTO_PREFIX}{stamp}{suffix}")
        finally:
            db.dispose()
        for gone in prune(directory, ctx.settings.value(DATABASE_BACKUP_KEEP)):
            log.info("deleted the old scheduled backup %s", gone.name)
        log.info("scheduled backup written: %s", written)
        return written
    finally:
        lock.unlink(missing_ok=True)


def start_if_due(ctx: AppContext) -> threading.Thread | None:
    """At app start: a background thread for the backup when one is due (the check is one stat)."""
    if not is_due(backup_dir(ctx), ctx.settings.value(DATABASE_BACKUP_EVERY_HOURS)):
        return None

    def work() -> None:
        try:
            run_if_due(ctx)
        except Exception as exc:  # a failed backup is logged and tried again at the next start
            log.warning("scheduled backup failed: %s", exc)

    thread = threading.Thread(target=work, name="synthbot-backup", daemon=True)
    thread.start()
    _THREADS.append(thread)
    return thread


def wait(timeout: float = 120.0) -> bool:
    """Let a running scheduled backup finish before the process exits (the CLI does, bounded)."""
    deadline = time.monotonic() + timeout
    for thread in list(_THREADS):
        thread.join(max(0.0, deadline - time.monotonic()))
        if not thread.is_alive():
            _THREADS.remove(thread)
    return not _THREADS
