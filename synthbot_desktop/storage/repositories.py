"""Operations the app needs on the database, each one transaction.

Functions take a SQLAlchemy ``Session`` so callers can group several into one unit of work
(a whole turn is written at once or not at all).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from synthbot_desktop.redaction import redact, redact_value
from synthbot_desktop.storage.models import (
    ApiConfiguration,
    ApiUsageLog,
    AuditLog,
    ConversationMessage,
    ConversationSession,
    ErrorLog,
    User,
)
from synthbot_desktop.storage.records import MessageRecord, UsageRecord
from synthbot_desktop.storage.types import utcnow


# Users ---------------------------------------------------------------------------------------
def get_or_create_user(s: Session, username: str, display_name: str | None = None) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username)
        s.add(user)
        s.flush()
    return user


# Sessions and messages -------------------------------------------------------------------------
def create_session(
    s: Session,
    user_id: int,
    *,
    title: str | None = None,
    persona_id: int | None = None,
    provider: str | None = None,
    model: str | None = None,
    tts_engine: str | None = None,
    voice_id: str | None = None,
) -> ConversationSession:
    session = ConversationSession(
        user_id=user_id, title=title, persona_id=persona_id, provider=provider, model=model,
        tts_engine=tts_engine, voice_id=voice_id,
    )
    s.add(session)
    s.flush()
    return session


def get_session(s: Session, session_id: int, user_id: int | None = None) -> ConversationSession | None:
    stmt = select(ConversationSession).where(ConversationSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(ConversationSession.user_id == user_id)
    return s.scalar(stmt)


def list_sessions(s: Session, user_id: int, *, limit: int = 50, offset: int = 0) -> list[ConversationSession]:
    """Newest activity first; uses the (user_id, last_message_at) index."""
    stmt = (
        select(ConversationSession)
        .where(ConversationSession.user_id == user_id)
        .order_by(ConversationSession.last_message_at.desc(), ConversationSession.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(s.scalars(stmt))


def rename_session(s: Session, session_id: int, title: str) -> None:
    s.execute(update(ConversationSession).where(ConversationSession.id == session_id).values(title=title[:300]))


def delete_session(s: Session, session_id: int) -> bool:
    # Messages go with their session (FK ON DELETE CASCADE on both backends).
    s.execute(delete(ConversationMessage).where(ConversationMessage.session_id == session_id))
    result = s.execute(delete(ConversationSession).where(ConversationSession.id == session_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


def session_messages(s: Session, session_id: int, *, last: int | None = None) -> list[ConversationMessage]:
    stmt = select(ConversationMessage).where(ConversationMessage.session_id == session_id)
    if last is not None:
        stmt = stmt.order_by(ConversationMessage.id.desc()).limit(last)
        return list(reversed(list(s.scalars(stmt))))
    return list(s.scalars(stmt.order_by(ConversationMessage.id)))


def add_message(s: Session, record: MessageRecord) -> ConversationMessage:
    """Insert a message once (its uid makes replays idempotent) and bump the session."""
    existing = s.scalar(select(ConversationMessage).where(ConversationMessage.uid == record.uid))
    if existing is not None:
        return existing
    msg = ConversationMessage(
        session_id=record.session_id, uid=record.uid, role=record.role, content=record.content,
        full_content=record.full_content, interrupted=record.interrupted,
        error=redact(record.error)[:1000] if record.error else None,
        audio_duration_s=record.audio_duration_s, stt_model=record.stt_model,
        stt_language=record.stt_language, stt_confidence=record.stt_confidence,
        provider=record.provider, model=record.model, tokens_in=record.tokens_in,
        tokens_out=record.tokens_out, timings=record.timings, created_at=record.created_at,
    )
    s.add(msg)
    session = s.get(ConversationSession, record.session_id)
    if session is not None:
        session.message_count = (session.message_count or 0) + 1
        if session.last_message_at is None or record.created_at > session.last_message_at:
            session.last_message_at = record.created_at
        if not session.title and record.role == "user" and record.content.strip():
            session.title = _title_from(record.content)
    s.flush()
    return msg


def _title_from(text_: str) -> str:
    words = text_.strip().split()
    title = " ".join(words[:8])
    return title + ("…" if len(words) > 8 else "")


@dataclass(frozen=True)
class SearchHit:
    session_id: int
    session_title: str | None
    message_id: int
    role: str
    snippet: str
    created_at: dt.datetime


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words: full-text tokenizers see whole runs as one token.
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def search_messages(s: Session, user_id: int, query: str, *, limit: int = 50) -> list[SearchHit]:
    """Full-text search over message content, newest first.

    SQLite uses the FTS5 index (prefix match on each word), MySQL/MariaDB its FULLTEXT index
    in boolean mode; both fall back to LIKE for text the full-text tokenizers cannot index
    (e.g. CJK without spaces, words shorter than MySQL's minimum).
    """
    words = _FTS_TOKEN.findall(query)
    if not words:
        return []
    dialect = s.get_bind().dialect.name
    base = (
        select(ConversationMessage, ConversationSession.title)
        .join(ConversationSession, ConversationSession.id == ConversationMessage.session_id)
        .where(ConversationSession.user_id == user_id)
    )
    rows: list[Any] = []
    fts_usable = not _NO_SPACES.search(query)
    if dialect == "sqlite" and fts_usable:
        # FTS5 stays fast enough here (~60 ms for a word in 40 % of 1M messages, ~1 ms for a rare
        # one); a newest-window pre-scan measured slower on SQLite, whose planner walks the join.
        match = " ".join(f'"{w}"*' for w in words)
        ids = select(text("rowid")).select_from(text("conversation_messages_fts")).where(
            text("conversation_messages_fts MATCH :q")
        )
        stmt = base.where(ConversationMessage.id.in_(ids)).params(q=match)
        rows = list(s.execute(stmt.order_by(ConversationMessage.id.desc()).limit(limit)))
    elif dialect in ("mysql", "mariadb") and fts_usable and all(len(w) >= 3 for w in words):
        # InnoDB's FULLTEXT ignores tokens shorter than innodb_ft_min_token_size (3), and reads every
        # posting of a term before ORDER BY id DESC LIMIT can stop it: a common word cost seconds
        # at 1M messages. The newest messages are scanned first (cheap, and enough for common
        # words); the index answers when that window holds too few hits.
        rows = _recent_word_matches(s, base, words, limit)
        if len(rows) < limit:
            against = " ".join(f"+{w}*" for w in words)
            cond = text("MATCH (conversation_messages.content) AGAINST (:q IN BOOLEAN MODE)").bindparams(q=against)
            rows = list(s.execute(base.where(cond).order_by(ConversationMessage.id.desc()).limit(limit)))
    else:
        fts_usable = False
    if not rows and not fts_usable:
        # A scan, but only for text the tokenizers cannot split into words (CJK runs, very
        # short words on MySQL); a plain miss stays an index lookup.
        like = base
        for w in words:
            like = like.where(ConversationMessage.content.like(f"%{w}%"))
        rows = list(s.execute(like.order_by(ConversationMessage.id.desc()).limit(limit)))
    return [
        SearchHit(m.session_id, title, m.id, m.role, _snippet(m.content, words), m.created_at)
        for m, title in rows
    ]


# Newest messages scanned before asking MySQL's FULLTEXT index. A word in >= 2.5 % of messages fills
# 50 hits from this window (~10 ms); a rarer word has few enough postings for the index
# (~3 us each). Measured in benchmarks/reports/storage.md.
RECENT_SEARCH_WINDOW = 2_000


def _recent_word_matches(s: Session, base: Any, words: list[str], limit: int) -> list[Any]:
    """Newest-first hits among the newest messages, with the index's semantics (word prefixes)."""
    top = s.scalar(select(func.max(ConversationMessage.id)))
    if top is None:
        return []
    stmt = base.where(ConversationMessage.id > top - RECENT_SEARCH_WINDOW)
    for w in words:
        escaped = w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ConversationMessage.content.like(f"%{escaped}%", escape="\\"))
    candidates = list(s.execute(stmt.order_by(ConversationMessage.id.desc()).limit(limit * 4)))
    starts = [re.compile(rf"(?<!\w){re.escape(w)}", re.IGNORECASE) for w in words]
    hits = [row for row in candidates if all(p.search(row[0].content) for p in starts)]
    return hits[:limit]


def _snippet(content: str, words: list[str], width: int = 120) -> str:
    low = content.lower()
    pos = min((p for p in (low.find(w.lower()) for w in words) if p >= 0), default=0)
    start = max(0, pos - width // 3)
    piece = content[start : start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(content) else "")


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


def add_audit(s: Session, action: str, *, user_id: int | None = None, entity_type: str | None = None,
              entity_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    s.add(AuditLog(user_id=user_id, action=action, entity_type=entity_type, entity_id=entity_id,
                   details=redact_value(details) if details else None, created_at=utcnow()))


def add_error(s: Session, source: str, message: str, *, kind: str | None = None,
              details: dict[str, Any] | None = None) -> None:
    s.add(ErrorLog(source=source, kind=kind, message=redact(message)[:2000],
                   details=redact_value(details) if details else None, created_at=utcnow()))


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
