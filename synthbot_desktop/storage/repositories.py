"""The app's database operations, by one name: ``from synthbot_desktop.storage import repositories as repo``.

The operations live in small modules by subject — users (``users``), sessions and messages
(``sessions``), message search (``search``), audit and error rows (``audit``) — and are
re-exported here so existing callers and tests keep one import. What is still defined here:
usage rows, per-provider configuration and the dialect-aware bulk upsert. New storage code goes
in a new module, not here.

Functions take a SQLAlchemy ``Session`` so callers can group several into one unit of work
(a whole turn is written at once or not at all).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from synthbot_desktop.redaction import redact
from synthbot_desktop.storage.audit import add_audit, add_error
from synthbot_desktop.storage.models import ApiConfiguration, ApiUsageLog, ConversationMessage
from synthbot_desktop.storage.records import UsageRecord
from synthbot_desktop.storage.search import RECENT_SEARCH_WINDOW, SearchHit, search_messages
from synthbot_desktop.storage.sessions import (
    StoredMessage,
    StoredSession,
    add_message,
    create_session,
    delete_session,
    get_session,
    rename_session,
    session_messages,
)
from synthbot_desktop.storage.users import get_or_create_user

__all__ = [
    "RECENT_SEARCH_WINDOW",
    "SearchHit",
    "StoredMessage",
    "StoredSession",
    "add_audit",
    "add_error",
    "add_message",
    "add_usage",
    "create_session",
    "delete_session",
    "get_or_create_user",
    "get_session",
    "rename_session",
    "search_messages",
    "session_messages",
    "upsert_api_configuration",
    "upsert_values",
]


# Usage ----------------------------------------------------------------------------------------
def add_usage(s: Session, record: UsageRecord, user_id: int | None) -> ApiUsageLog:
    existing = s.scalar(select(ApiUsageLog).where(ApiUsageLog.uid == record.uid))
    if existing is not None:
        return existing
    message_id = None
    if record.message_uid:
        message_id = s.scalar(select(ConversationMessage.id).where(ConversationMessage.uid == record.message_uid))
    row = ApiUsageLog(
        uid=record.uid, user_id=user_id, session_id=record.session_id, message_id=message_id,
        provider=record.provider, endpoint=record.endpoint, model=record.model,
        request_id=record.request_id, tokens_in=record.tokens_in, tokens_out=record.tokens_out,
        tokens_estimated=record.tokens_estimated, characters=record.characters,
        audio_seconds=record.audio_seconds, latency_ms=record.latency_ms, ttfb_ms=record.ttfb_ms,
        status_code=record.status_code, success=record.success, error_kind=record.error_kind,
        error_message=redact(record.error_message)[:1000] if record.error_message else None,
        cost_usd=record.cost_usd, created_at=record.created_at,
    )
    s.add(row)
    s.flush()
    return row


def upsert_api_configuration(
    s: Session, user_id: int, provider: str, *, key_fingerprint: str | None = None,
    base_url: str | None = None, default_model: str | None = None,
) -> ApiConfiguration:
    row = s.scalar(select(ApiConfiguration).where(
        ApiConfiguration.user_id == user_id, ApiConfiguration.provider == provider))
    if row is None:
        row = ApiConfiguration(user_id=user_id, provider=provider)
        s.add(row)
    if key_fingerprint is not None:
        row.key_fingerprint = key_fingerprint or None
    if base_url is not None:
        row.base_url = base_url
    if default_model is not None:
        row.default_model = default_model
    s.flush()
    return row


def upsert_values(s: Session, table: Any, values: list[dict[str, Any]], key_cols: list[str]) -> None:
    """Dialect-aware INSERT ... ON CONFLICT/DUPLICATE KEY UPDATE for bulk catalog refreshes."""
    if not values:
        return
    dialect = s.get_bind().dialect.name
    update_cols = [c for c in values[0] if c not in key_cols and c != "id"]
    if dialect == "sqlite":
        stmt = sqlite_insert(table).values(values)
        stmt = stmt.on_conflict_do_update(index_elements=key_cols,
                                          set_={c: stmt.excluded[c] for c in update_cols})
    else:
        mstmt = mysql_insert(table).values(values)
        stmt = mstmt.on_duplicate_key_update({c: mstmt.inserted[c] for c in update_cols})  # type: ignore[assignment]
    s.execute(stmt)
