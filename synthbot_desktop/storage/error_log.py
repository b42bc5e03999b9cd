"""The ``error_logs`` table (issue #18): every error a person was shown, redacted, with whose it was.

Written by the CLI's top-level handler, by commands that print an error and go on, and by the
GUI's banners (through ``services.error_reports``); read by `admin errors` and `doctor`.
Returns dataclasses, not ORM rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from synthbot_desktop.redaction import redact, redact_value
from synthbot_desktop.storage.models import ErrorLog, User
from synthbot_desktop.storage.records import ErrorRecord
from synthbot_desktop.storage.types import utcnow

MESSAGE_LIMIT = 2000


@dataclass(frozen=True)
class ErrorEntry:
    id: int
    created_at: dt.datetime
    username: str | None
    source: str
    kind: str | None
    message: str


def add(s: Session, source: str, message: str, *, kind: str | None = None, user_id: int | None = None,
        details: dict[str, Any] | None = None, created_at: dt.datetime | None = None) -> None:
    """One row; the text is redacted here too, so no caller can store a secret by forgetting to."""
    s.add(ErrorLog(user_id=user_id, source=source[:100], kind=(kind or None) and kind[:60],
                   message=redact(message)[:MESSAGE_LIMIT],
                   details=redact_value(details) if details else None, created_at=created_at or utcnow()))


def add_once(s: Session, record: ErrorRecord, user_id: int | None) -> bool:
    """Write ``record`` unless a replay already did (True when a row was added).

    The record's uid lives in ``details["uid"]``; candidates are the rows with the same
    ``created_at`` (the index, microseconds on both engines), so the check is one indexed lookup.
    """
    same_time = s.scalars(select(ErrorLog.details).where(ErrorLog.created_at == record.created_at,
                                                         ErrorLog.source == record.source[:100]))
    if any(isinstance(d, dict) and d.get("uid") == record.uid for d in same_time):
        return False
    add(s, record.source, record.message, kind=record.kind, user_id=user_id,
        details={**(record.details or {}), "uid": record.uid}, created_at=record.created_at)
    s.flush()
    return True


def list_errors(s: Session, *, since: dt.datetime | None = None, username: str | None = None,
                limit: int = 200) -> list[ErrorEntry]:
    """Newest first, optionally only since a time and for one user."""
    stmt = (select(ErrorLog.id, ErrorLog.created_at, User.username, ErrorLog.source, ErrorLog.kind,
                   ErrorLog.message)
            .outerjoin(User, User.id == ErrorLog.user_id).order_by(ErrorLog.id.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(ErrorLog.created_at >= since)
    if username is not None:
        stmt = stmt.where(User.username == username)
    return [ErrorEntry(*row) for row in s.execute(stmt)]


def count_since(s: Session, since: dt.datetime) -> int:
    return int(s.execute(select(func.count(ErrorLog.id)).where(ErrorLog.created_at >= since)).scalar_one())
