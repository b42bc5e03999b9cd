"""Bulk writes for history imports (#17): one executemany per batch for sessions and for messages.

Why this exists (cProfile of `history import` with 20,000 generated ChatGPT messages, SQLite):
after parsing (~20 % of the time), the cost was per-row work, not SQLite's B-trees:

- the FTS5 ``AFTER INSERT`` trigger, run once per message: 20,000 rows took 0.46-0.83 s with it and
  0.23-0.33 s without it plus one ``INSERT INTO fts SELECT ... WHERE id > before`` indexing them
  all (:func:`_sqlite_insert_messages`);
- one INSERT (and round trip, on MariaDB) per new conversation (:func:`insert_sessions`);
- SQLAlchemy's per-row bind processing and dict building on MariaDB, as it was already for SQLite:
  rows are tuples converted exactly as the column types would (:func:`_converter`);
- ``uuid.uuid4()`` per message (:func:`new_uids`).

The suspended trigger is safe: SQLite DDL is transactional, so dropping the trigger, inserting,
indexing and re-creating it (from its own text in ``sqlite_master``) all commit together or not
at all, and no other connection can write in between (the transaction holds the write lock).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import Connection, Table, insert, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import ConversationMessage, ConversationSession

FTS_TRIGGER = "conversation_messages_ai"
# Below this many rows the trigger is left alone: two DDL statements cost more than they save.
MIN_ROWS_FOR_BULK_FTS = 100

_sessions = cast(Table, ConversationSession.__table__)
_messages = cast(Table, ConversationMessage.__table__)


def insert_sessions(s: Session, user_id: int, rows: Sequence[dict[str, Any]]) -> dict[tuple[str, str], int]:
    """Insert new imported sessions (one executemany) and return their ids by (source, source_id).

    The ids are read back by the unique key (user, source, source_id) rather than with RETURNING,
    which keeps one code path for SQLite and every MariaDB/MySQL version.
    """
    if not rows:
        return {}
    s.execute(insert(_sessions), list(rows))
    wanted = {(str(r["source"]), str(r["source_id"])) for r in rows}
    keys = sorted({k[1] for k in wanted})
    ids: dict[tuple[str, str], int] = {}
    for i in range(0, len(keys), 500):
        stmt = select(_sessions.c.id, _sessions.c.source, _sessions.c.source_id).where(
            _sessions.c.user_id == user_id, _sessions.c.source_id.in_(keys[i:i + 500]))
        for sid, source, source_id in s.execute(stmt):
            key = (str(source), str(source_id))
            if key in wanted:
                ids[key] = int(sid)
    return ids


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def new_uids(n: int) -> list[str]:
    """``n`` random version-4 UUIDs as text, the same as ``str(uuid.uuid4())`` each, from one
    ``os.urandom`` call: uuid4() per message was a tenth of a SQLite import's time."""
    raw = os.urandom(16 * n).hex()
    out: list[str] = []
    for i in range(0, 32 * n, 32):
        h = raw[i:i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}")
    return out


def _naive_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _sqlite_datetime(value: dt.datetime) -> str:
    # SQLAlchemy's SQLite DATETIME writes %04d-%02d-%02d %02d:%02d:%02d.%06d: isoformat's text.
    return _naive_utc(value).isoformat(" ", "microseconds")


def _converter(dialect: str, column: str) -> Callable[[Any], Any] | None:
    """How a message column's value reaches the driver through SQLAlchemy's column types (None:
    unchanged): datetimes as naive UTC, on SQLite as text; JSON as text; booleans as 0/1."""
    if column == "created_at":
        return _sqlite_datetime if dialect == "sqlite" else _naive_utc
    if column == "timings":
        return json.dumps
    if column == "interrupted":
        return int
    return None


def insert_messages(s: Session, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert message rows (tuples in ``columns`` order, values still Python objects) in one
    driver-level executemany, keeping the full-text index complete."""
    if not rows:
        return
    conn = s.connection()
    dialect = conn.dialect.name
    if dialect not in ("sqlite", "mysql", "mariadb") or conn.dialect.driver not in ("pysqlite", "pymysql"):
        # Another driver: let SQLAlchemy bind (slower, always right).
        s.execute(insert(_messages), [dict(zip(columns, r, strict=True)) for r in rows])
        return
    converters = [(i, f) for i, c in enumerate(columns) if (f := _converter(dialect, c)) is not None]
    converted: list[tuple[Any, ...]] = []
    for r in rows:
        values = list(r)
        for i, convert in converters:
            if values[i] is not None:
                values[i] = convert(values[i])
        converted.append(tuple(values))
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    if dialect == "sqlite":
        sql = f"INSERT INTO conversation_messages ({names}) VALUES ({', '.join('?' for _ in columns)})"
        _sqlite_insert_messages(conn, sql, converted)
    else:
        # PyMySQL turns this executemany into multi-row INSERTs of up to ~1 MB each.
        sql = f"INSERT INTO conversation_messages ({names}) VALUES ({', '.join('%s' for _ in columns)})"
        conn.exec_driver_sql(sql, converted)


def _sqlite_insert_messages(conn: Connection, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """executemany with the FTS5 insert trigger suspended, then the new rows indexed in one statement."""
    raw = conn.connection.dbapi_connection
    trigger_sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (FTS_TRIGGER,)).scalar()
    # Outside a transaction DROP TRIGGER would commit on its own: then only the plain path is safe.
    if trigger_sql is None or len(rows) < MIN_ROWS_FOR_BULK_FTS or not getattr(raw, "in_transaction", False):
        conn.exec_driver_sql(sql, rows)
        return
    before = int(conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM conversation_messages").scalar() or 0)
    conn.exec_driver_sql(f"DROP TRIGGER {FTS_TRIGGER}")
    try:
        conn.exec_driver_sql(sql, rows)
    finally:
        # Also after a failed row (the rows before it stay in the transaction): index what went in
        # and put the trigger back, so even a caller that commits anyway leaves a whole index.
        # New rows get ids above the old maximum (INTEGER PRIMARY KEY, nothing deleted meanwhile:
        # the transaction holds the write lock), so exactly they are indexed, as by the trigger.
        conn.exec_driver_sql("INSERT INTO conversation_messages_fts(rowid, content) "
                             "SELECT id, content FROM conversation_messages WHERE id > ?", (before,))
        conn.exec_driver_sql(str(trigger_sql))


__all__ = ["FTS_TRIGGER", "MIN_ROWS_FOR_BULK_FTS", "insert_messages", "insert_sessions", "new_uids"]
