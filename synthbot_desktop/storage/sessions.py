"""Conversation sessions and their messages: create, read, rename, delete, and the idempotent
message insert the recorder and the spool replay use (a message's uid makes a replay a no-op).

Functions take a SQLAlchemy ``Session`` so a caller can group several into one unit of work
(a whole turn is written at once or not at all). Reads return dataclasses
(:class:`StoredSession`, :class:`StoredMessage`); the writes still return ORM rows, which their
callers change in the same unit of work."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from synthbot_desktop.redaction import redact
from synthbot_desktop.storage.models import ConversationMessage, ConversationSession
from synthbot_desktop.storage.records import MessageRecord


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


@dataclass(frozen=True)
class StoredSession:
    """One conversation session as read back (its columns; the messages come from
    :func:`session_messages`)."""

    id: int
    user_id: int
    title: str | None
    persona_id: int | None
    provider: str | None
    model: str | None
    tts_engine: str | None
    voice_id: str | None
    message_count: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_message_at: dt.datetime | None
    source: str | None
    source_id: str | None
    note: str | None


_SESSION_FIELDS = tuple(f.name for f in fields(StoredSession))


def get_session(s: Session, session_id: int, user_id: int | None = None) -> StoredSession | None:
    """The session (only if it is ``user_id``'s, when given), or None."""
    stmt = select(ConversationSession).where(ConversationSession.id == session_id)
    if user_id is not None:
        stmt = stmt.where(ConversationSession.user_id == user_id)
    row = s.scalar(stmt)
    if row is None:
        return None
    return StoredSession(**{name: getattr(row, name) for name in _SESSION_FIELDS})


def rename_session(s: Session, session_id: int, title: str) -> None:
    s.execute(update(ConversationSession).where(ConversationSession.id == session_id).values(title=title[:300]))


def delete_session(s: Session, session_id: int) -> bool:
    # Messages go with their session (FK ON DELETE CASCADE on both backends).
    s.execute(delete(ConversationMessage).where(ConversationMessage.session_id == session_id))
    result = s.execute(delete(ConversationSession).where(ConversationSession.id == session_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class StoredMessage:
    """One stored message as read back: a plain value that outlives the database session (the
    turn context, exports and transcripts read it after the session closed)."""

    id: int
    session_id: int
    uid: str
    role: str
    content: str
    full_content: str | None
    interrupted: bool
    error: str | None
    audio_duration_s: float | None
    stt_model: str | None
    stt_language: str | None
    stt_confidence: float | None
    provider: str | None
    model: str | None
    tokens_in: int | None
    tokens_out: int | None
    timings: dict[str, Any] | None  # ratings live in message_ratings (history_meta), not here
    source_id: str | None
    created_at: dt.datetime


_MESSAGE_FIELDS = tuple(f.name for f in fields(StoredMessage))


def stored_message(row: ConversationMessage) -> StoredMessage:
    return StoredMessage(**{name: getattr(row, name) for name in _MESSAGE_FIELDS})


def session_messages(s: Session, session_id: int, *, last: int | None = None) -> list[StoredMessage]:
    """A session's messages in order (``last``: only the newest that many, still in order)."""
    stmt = select(ConversationMessage).where(ConversationMessage.session_id == session_id)
    if last is not None:
        stmt = stmt.order_by(ConversationMessage.id.desc()).limit(last)
        return [stored_message(m) for m in reversed(list(s.scalars(stmt)))]
    return [stored_message(m) for m in s.scalars(stmt.order_by(ConversationMessage.id))]


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
