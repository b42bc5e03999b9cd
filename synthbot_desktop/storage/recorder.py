"""Writes records off the caller's thread; when the database is unreachable they go to a spool.

A voice turn must never wait on a database round trip, and a remote MySQL outage must never
lose a word: the recorder queues each unit of work to a writer thread, which writes it in one
transaction; if that fails with a connectivity error the unit is appended to a JSONL spool
file (fsynced) and replayed in order once the database answers again. Uids make replays
idempotent. A unit the database refuses for its content (e.g. messages of a session deleted
meanwhile) would fail the same way forever: it is set aside in ``rejected.jsonl`` next to the
spool, reported, and does not hold back the writes queued after it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import exc as sa_exc

from synthbot_desktop.errors import DatabaseError
from synthbot_desktop.storage import error_log, offline
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database
from synthbot_desktop.storage.records import (
    ErrorRecord,
    MessageRecord,
    SessionSpec,
    UsageRecord,
    error_from_json,
    message_from_json,
    session_from_json,
    to_json,
    usage_from_json,
)

log = logging.getLogger(__name__)


def _refused(error: DatabaseError) -> bool:
    """True when the database refused the rows themselves, so waiting and replaying cannot help."""
    return (isinstance(error, offline.UnresolvedSessionError)
            or isinstance(error.__cause__, sa_exc.IntegrityError | sa_exc.DataError))


class SpoolLock:
    """Serialises access to one spool file: a re-entrant lock between this process's threads,
    plus (where the OS has it) an advisory lock on ``<spool dir>/.spool.lock`` between processes,
    so the window and a terminal command never lose a line when one rewrites the file while the
    other appends to it. The lock file is never replaced, unlike the spool itself."""

    def __init__(self, lock_path: Path) -> None:
        self._rlock = threading.RLock()
        self._path = lock_path
        self._depth = 0
        self._fh: Any = None

    def __enter__(self) -> SpoolLock:
        self._rlock.acquire()
        if self._depth == 0:
            self._fh = _os_lock(self._path)
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fh is not None:
            try:
                self._fh.close()  # closing releases the advisory lock
            finally:
                self._fh = None
        self._rlock.release()


def _os_lock(path: Path) -> Any:
    try:
        import fcntl
    except ImportError:  # Windows: the in-process lock still applies
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = path.open("a+b")
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        return fh
    except OSError as exc:  # a read-only or odd filesystem: never let locking stop a write
        log.debug("spool lock unavailable: %s", exc)
        return None


_SPOOL_LOCKS: dict[str, SpoolLock] = {}
_SPOOL_LOCKS_GUARD = threading.Lock()


def spool_lock(path: Path) -> SpoolLock:
    """One lock per spool file in this process: the recorder's replay rewrites the file, and an
    ``OfflineSpool`` (a conversation that began offline) may still be appending to it."""
    key = str(path.absolute())
    with _SPOOL_LOCKS_GUARD:
        return _SPOOL_LOCKS.setdefault(key, SpoolLock(path.parent / ".spool.lock"))


def _append_line(path: Path, line: str) -> None:
    """Append one JSONL line durably; a torn last line (a crash mid-write) is closed off first,
    so the new line is not glued onto it and lost with it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as fh:
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                fh.write(b"\n")
        fh.write(line.encode("utf-8") + b"\n")
        fh.flush()
        os.fsync(fh.fileno())


@dataclass
class WriteUnit:
    """Messages and usage rows that belong together (one turn) and are written together.

    ``session``: the conversation session to create with these messages (its first one among
    them), so no session exists without a message. ``link``: usage rows written earlier (each
    provider call's row is recorded when the call ends) to attach to a message of this unit,
    usage uid -> message uid. ``errors``: ``error_logs`` rows (errors a person was shown), which
    must survive an outage like the rest (services.error_reports).
    """

    messages: list[MessageRecord] = field(default_factory=list)
    usage: list[UsageRecord] = field(default_factory=list)
    session: SessionSpec | None = None
    link: dict[str, str] = field(default_factory=dict)
    errors: list[ErrorRecord] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not (self.messages or self.usage or self.session or self.link or self.errors)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"messages": [to_json(m) for m in self.messages],
                                "usage": [to_json(u) for u in self.usage]}
        if self.session is not None:
            data["session"] = to_json(self.session)
        if self.link:
            data["link"] = dict(self.link)
        if self.errors:
            data["errors"] = [to_json(e) for e in self.errors]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WriteUnit:
        session = data.get("session")
        return cls([message_from_json(m) for m in data.get("messages", [])],
                   [usage_from_json(u) for u in data.get("usage", [])],
                   session_from_json(session) if session else None,
                   {str(k): str(v) for k, v in (data.get("link") or {}).items()},
                   [error_from_json(e) for e in data.get("errors", [])])


class Recorder:
    """Background writer with an on-disk spool for outages."""

    def __init__(self, db: Database, user_id: int | None, spool_dir: Path,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.spool_file = spool_dir / "pending.jsonl"
        self.rejected_file = spool_dir / "rejected.jsonl"
        self._on_error = on_error
        self._queue: queue.Queue[WriteUnit | None] = queue.Queue()
        self._spool_lock = spool_lock(self.spool_file)
        self._idle = threading.Condition()
        self._pending = 0
        self._replay_lock = threading.Lock()
        self._session_ids: dict[str, int] = {}  # session uid -> id, once written
        self._session_listeners: list[Callable[[str, int], None]] = []
        self._thread = threading.Thread(target=self._run, name="synthbot-recorder", daemon=True)
        self._thread.start()

    # Public API ---------------------------------------------------------------------------------
    def submit(self, unit: WriteUnit) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(unit)

    def record_usage(self, record: UsageRecord) -> None:
        self.submit(WriteUnit(usage=[record]))

    def record_now(self, unit: WriteUnit) -> None:
        """Make ``unit`` durable before returning (an fsynced spool line, no database round trip),
        then let the writer thread move it into the database. A provider call's usage row goes
        this way the moment the call ends, so a crash later in the turn cannot lose what it cost."""
        self._spool(unit)
        self.submit(WriteUnit())  # an empty unit: the writer replays the spool, then writes nothing

    def session_id_for(self, session_uid: str) -> int | None:
        """The id a session created by this recorder got, once it is in the database."""
        return self._session_ids.get(session_uid)

    def add_session_listener(self, listener: Callable[[str, int], None]) -> None:
        """Call ``listener(session uid, id)`` (on the writer thread) when a new session is written:
        a conversation learns the id its first message gave it."""
        self._session_listeners.append(listener)

    def write_now(self, unit: WriteUnit) -> bool:
        """Write synchronously (CLI commands that print the stored ids); spools on outage.
        Returns True when the unit reached the database (False: it waits in the spool)."""
        return self._write_or_spool(unit)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is written or spooled."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def close(self, timeout: float = 30.0) -> None:
        self.flush(timeout)
        self._queue.put(None)
        self._thread.join(timeout)

    def spooled_count(self) -> int:
        with self._spool_lock:
            if not self.spool_file.exists():
                return 0
            with self.spool_file.open(encoding="utf-8") as fh:
                return sum(1 for line in fh if line.strip())

    def replay(self) -> int:
        """Write spooled units in order; returns how many were written. Stops at the first failure.

        The spool lock is held only to read and to rewrite the file, never during database I/O:
        a turn appending its usage row must not wait on a slow server."""
        with self._replay_lock:
            with self._spool_lock:
                if not self.spool_file.exists():
                    return 0
                lines = [ln for ln in self.spool_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
            written = 0
            for line in lines:
                try:
                    unit = WriteUnit.from_json(json.loads(line))
                except (ValueError, TypeError, KeyError) as exc:
                    log.error("setting aside an unreadable spool line in %s: %s", self.rejected_file, exc)
                    _append_line(self.rejected_file, line)
                    written += 1
                    continue
                try:
                    self._write(unit)
                except DatabaseError as exc:
                    if not _refused(exc):
                        break
                    self._reject(unit, exc)
                written += 1
            if written:
                with self._spool_lock:  # lines appended meanwhile are kept, after the unwritten ones
                    current = [ln for ln in self.spool_file.read_text(encoding="utf-8").splitlines()
                               if ln.strip()]
                    rest = current[written:]
                    if rest:
                        tmp = self.spool_file.with_suffix(".tmp")
                        with tmp.open("w", encoding="utf-8") as fh:
                            fh.write("\n".join(rest) + "\n")
                            fh.flush()
                            os.fsync(fh.fileno())
                        os.replace(tmp, self.spool_file)
                    else:
                        self.spool_file.unlink(missing_ok=True)
                log.info("replayed %d spooled write(s) into the database", written)
            return written

    # Internals ----------------------------------------------------------------------------------
    def _write(self, unit: WriteUnit) -> None:
        if unit.is_empty():
            return
        created: dict[str, int] = {}
        with self.db.session() as s:
            if unit.session is not None:
                sid = offline.ensure_session(s, unit.session, self.user_id, self._session_ids)
                created[unit.session.uid] = sid
            known = {**self._session_ids, **created}
            for message in unit.messages:
                if message.session_id is None:  # never mutate the record: a failed write is spooled as it was
                    suid = message.session_uid or (unit.session.uid if unit.session is not None else None)
                    message = dataclasses.replace(
                        message, session_id=offline.require_session_id(s, suid, known), session_uid=suid)
                repo.add_message(s, message)
            s.flush()
            for usage in unit.usage:
                if usage.session_id is None and usage.session_uid:
                    usage = dataclasses.replace(
                        usage, session_id=offline.resolve_session_id(s, usage.session_uid, known))
                repo.add_usage(s, usage, self.user_id)
            if unit.link:
                offline.link_usage(s, unit.link)
            for error in unit.errors:
                error_log.add_once(s, error, self.user_id)
        self._session_ids.update(created)
        for uid, sid in created.items():
            for listener in list(self._session_listeners):
                try:
                    listener(uid, sid)
                except Exception:  # a listener's bug must not undo or block the write
                    log.exception("session listener failed")

    def _spool(self, unit: WriteUnit) -> None:
        with self._spool_lock:
            _append_line(self.spool_file, json.dumps(unit.to_json(), ensure_ascii=False))

    def _reject(self, unit: WriteUnit, error: DatabaseError) -> None:
        with self._spool_lock:
            _append_line(self.rejected_file, json.dumps(unit.to_json(), ensure_ascii=False))
        message = f"the database refused a write ({error.one_line()}); it was kept in {self.rejected_file}"
        log.error("%s", message)
        if self._on_error:
            self._on_error(message)

    def _write_or_spool(self, unit: WriteUnit) -> bool:
        """True when ``unit`` reached the database; False when it was spooled or set aside."""
        if self.spooled_count():
            self.replay()  # keep order: older spooled writes first
        if unit.is_empty():
            return True
        if self.spooled_count():
            self._spool(unit)
            return False
        try:
            self._write(unit)
            return True
        except DatabaseError as exc:
            if _refused(exc):
                self._reject(unit, exc)
                return False
            log.warning("database unavailable, keeping the write in the local spool: %s", exc)
            self._spool(unit)
            if self._on_error:
                self._on_error(exc.one_line())
            return False

    def _run(self) -> None:
        while True:
            unit = self._queue.get()
            if unit is None:
                return
            try:
                self._write_or_spool(unit)
            except Exception:  # never let the writer thread die: spool and report
                log.exception("unexpected error while writing; spooling")
                try:
                    self._spool(unit)
                except OSError:
                    log.exception("spool write failed as well")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
