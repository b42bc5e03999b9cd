"""Every row that belongs to one user, read out whole or deleted whole (data rights, issue #14).

A person may ask for a copy of everything the app keeps about them, or for all of it to be
erased. The list of tables lives here, next to the schema, so a table added later is one line
to add (and ``test_data_rights`` fails until it is: it compares against the models' user
columns). Rows are returned as plain dicts (column name -> value), never ORM objects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import (
    ApiConfiguration,
    ApiUsageLog,
    AuditLog,
    Base,
    ConversationMessage,
    ConversationSession,
    ErrorLog,
    MemoryFact,
    MessageRating,
    Persona,
    SessionTag,
    User,
    UserFeatureAccess,
    UserSetting,
    UserVoicePreference,
)

# Tables with a ``user_id`` column, in the order they are exported; deletion runs children first.
USER_TABLES: tuple[type[Base], ...] = (
    UserSetting, ApiConfiguration, Persona, ConversationSession, MemoryFact, UserVoicePreference,
    ApiUsageLog, AuditLog, ErrorLog, UserFeatureAccess, MessageRating,
)


@dataclass(frozen=True)
class UserData:
    """A user's rows, table by table (messages are reached through the user's sessions)."""

    user: dict[str, Any] | None
    tables: dict[str, list[dict[str, Any]]]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _row(obj: Base) -> dict[str, Any]:
    return {attr.columns[0].name: _plain(getattr(obj, attr.key)) for attr in obj.__mapper__.column_attrs}


def _session_ids(s: Session, user_id: int) -> list[int]:
    return list(s.scalars(select(ConversationSession.id).where(ConversationSession.user_id == user_id)))


def export_user(s: Session, user_id: int) -> UserData:
    user = s.get(User, user_id)
    tables: dict[str, list[dict[str, Any]]] = {}
    sessions = _session_ids(s, user_id)
    for model in USER_TABLES:
        col = model.__table__.c.user_id
        stmt = select(model).where(col == user_id)
        if model is ApiUsageLog and sessions:  # a row written before its user was known
            stmt = select(model).where(or_(col == user_id, ApiUsageLog.session_id.in_(sessions)))
        tables[model.__tablename__] = [_row(r) for r in s.scalars(stmt.order_by(model.__table__.c.id))]
    tables[ConversationMessage.__tablename__] = [
        _row(m) for m in s.scalars(select(ConversationMessage).where(ConversationMessage.session_id.in_(sessions))
                                   .order_by(ConversationMessage.id))] if sessions else []
    tables[SessionTag.__tablename__] = [  # tags hang off sessions (notes are a session column)
        _row(t) for t in s.scalars(select(SessionTag).where(SessionTag.session_id.in_(sessions))
                                   .order_by(SessionTag.id))] if sessions else []
    return UserData(_row(user) if user is not None else None, tables)


def delete_user(s: Session, user_id: int) -> dict[str, int]:
    """Delete every row of this user (and the user), children first; returns rows per table."""
    counts: dict[str, int] = {}
    sessions = _session_ids(s, user_id)

    def run(name: str, stmt: Any) -> None:
        counts[name] = counts.get(name, 0) + int(s.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]

    if sessions:
        run("session_tags", delete(SessionTag).where(SessionTag.session_id.in_(sessions)))
        run("message_ratings", delete(MessageRating).where(MessageRating.user_id == user_id))
        run("api_usage_logs", delete(ApiUsageLog).where(ApiUsageLog.session_id.in_(sessions)))
        run("conversation_messages", delete(ConversationMessage).where(ConversationMessage.session_id.in_(sessions)))
    for model in reversed(USER_TABLES):
        run(model.__tablename__, delete(model).where(model.__table__.c.user_id == user_id))
    run("users", delete(User).where(User.id == user_id))
    return counts


def find_user(s: Session, username: str) -> int | None:
    return s.scalar(select(User.id).where(User.username == username))
