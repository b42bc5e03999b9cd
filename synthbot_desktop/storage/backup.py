"""Backups of the app's data: SQLite by the online backup API, MySQL as a consistent JSON-lines dump.

The dump is written with SQLAlchemy inside one REPEATABLE READ transaction (a snapshot: rows
written meanwhile by other desktops are not half in it), so no mysqldump binary is needed. Restore
reads both formats into either engine and refuses a backup from a newer schema than this app knows.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, delete, insert, select, text

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import long_statements
from synthbot_desktop.storage.models import Base

DUMP_FORMAT = "synthbot-dump/1"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, raw), = value.items()
        if tag == "$dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "$date":
            return dt.date.fromisoformat(raw)
        if tag == "$dec":
            return Decimal(raw)
        if tag == "$b64":
            return base64.b64decode(raw)
    return value


def backup(engine: Engine, out: Path) -> Path:
    """Write a backup of ``engine``'s database to ``out``; returns the path written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        tmp = out.with_name(out.name + ".part")
        raw = engine.raw_connection()
        try:
            dst = sqlite3.connect(tmp)
            try:
                raw.driver_connection.backup(dst)  # type: ignore[union-attr]
            finally:
                dst.close()
        finally:
            raw.close()
        tmp.replace(out)
        return out
    tmp = out.with_name(out.name + ".part")
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, long_statements(conn), \
            conn.begin(), gzip.open(tmp, "wt", encoding="utf-8") as fh:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        fh.write(json.dumps({"format": DUMP_FORMAT, "revision": revision}) + "\n")
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                fh.write(json.dumps({"t": table.name, "r": {k: _encode(v) for k, v in row.items()}}) + "\n")
    tmp.replace(out)
    return out


def _check_revision(revision: str | None) -> None:
    script = ScriptDirectory(str(migrate.migrations_dir()))
    known = {rev.revision for rev in script.walk_revisions()}
    if revision is None:
        raise UsageError("the backup holds no schema revision: not a SynthBot backup")
    if revision not in known:
        raise UsageError(f"the backup is from a newer schema ({revision}) than this app knows "
                         f"({migrate.head_revision()}): update the app first")


def _rows_from_file(path: Path) -> tuple[str | None, dict[str, list[dict[str, Any]]]]:
    with path.open("rb") as fh:
        magic = fh.read(len(SQLITE_MAGIC))
    rows: dict[str, list[dict[str, Any]]] = {t.name: [] for t in Base.metadata.sorted_tables}
    if magic == SQLITE_MAGIC:
        src = create_engine(f"sqlite:///{path}")
        try:
            with src.connect() as conn:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                _check_revision(revision)
                for table in Base.metadata.sorted_tables:
                    rows[table.name] = [dict(r) for r in conn.execute(select(table)).mappings()]
        finally:
            src.dispose()
        return revision, rows
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            if header.get("format") != DUMP_FORMAT:
                raise UsageError(f"{path}: not a SynthBot backup")
            _check_revision(header.get("revision"))
            for line in fh:
                item = json.loads(line)
                rows.setdefault(item["t"], []).append({k: _decode(v) for k, v in item["r"].items()})
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a SynthBot backup ({exc.__class__.__name__})") from None
    return header.get("revision"), rows


def restore(engine: Engine, path: Path) -> dict[str, int]:
    """Replace the app's rows in ``engine`` with the backup's, in one transaction; counts per table."""
    if not path.is_file():
        raise UsageError(f"no such backup file: {path}")
    _, rows = _rows_from_file(path)
    migrate.upgrade(engine)
    counts: dict[str, int] = {}
    with engine.connect() as conn, long_statements(conn), conn.begin():
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
        for table in Base.metadata.sorted_tables:
            data = [{k: v for k, v in r.items() if k in table.c} for r in rows.get(table.name, [])]
            if data:
                conn.execute(insert(table), data)
            counts[table.name] = len(data)
    return counts


def database_size(engine: Engine) -> int | None:
    """Bytes the app's data takes: the SQLite file, or the schema's data+index length on MySQL."""
    if engine.dialect.name == "sqlite":
        path = engine.url.database
        return Path(path).stat().st_size if path and Path(path).is_file() else None
    with engine.connect() as conn:
        size = conn.execute(text(
            "SELECT SUM(data_length + index_length) FROM information_schema.tables "
            "WHERE table_schema = DATABASE()")).scalar()
    return None if size is None else int(size)


def last_backup(backup_dir: Path) -> Path | None:
    """The newest backup file in ``backup_dir`` (what `db backup` writes by default)."""
    files = [p for p in backup_dir.glob("synthbot-*") if p.is_file() and not p.name.endswith(".part")]
    return max(files, key=lambda p: p.stat().st_mtime) if files else None


def spool_backlog(spool_dir: Path) -> int:
    """Records waiting in the spool for the database to answer again."""
    pending = spool_dir / "pending.jsonl"
    if not pending.is_file():
        return 0
    with pending.open("rb") as fh:
        return sum(1 for line in fh if line.strip())
