"""SQLAlchemy 2 typed models: the schema of DESIGN §4, one module so migrations see it whole.

API keys never appear here: ``api_configurations`` holds only a fingerprint.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from synthbot_desktop.storage.types import JSONType, LongText, Money, UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MYSQL_TABLE_ARGS = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_unicode_ci"}


# Full-text search objects are created by the migration with dialect-specific DDL (FTS5 on
# SQLite, a FULLTEXT index on MySQL) and have no model; schema comparison must skip them.
SEARCH_INDEX_OBJECTS = ("conversation_messages_fts", "ft_conversation_messages_content")


def include_in_autogenerate(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (name or "").startswith(SEARCH_INDEX_OBJECTS)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, nullable=False)


def _updated() -> Mapped[dt.datetime]:
    return mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class UserSetting(Base):
    """Per-user values that follow the user across desktops when the database is shared."""

    __tablename__ = "user_settings"
    __table_args__ = (UniqueConstraint("user_id", "key"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(150))
    value: Mapped[Any] = mapped_column(JSONType)
    updated_at: Mapped[dt.datetime] = _updated()


class ApiConfiguration(Base):
    __tablename__ = "api_configurations"
    __table_args__ = (UniqueConstraint("user_id", "provider"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40))
    base_url: Mapped[str | None] = mapped_column(String(500))
    default_model: Mapped[str | None] = mapped_column(String(200))
    key_fingerprint: Mapped[str | None] = mapped_column(String(80))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    last_validated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class Persona(Base):
    __tablename__ = "personas"
    __table_args__ = (UniqueConstraint("user_id", "name"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    system_prompt: Mapped[str] = mapped_column(LongText)
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    temperature: Mapped[float | None] = mapped_column(Float)
    voice_id: Mapped[str | None] = mapped_column(String(100))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class ConversationSession(Base):
    __tablename__ = "conversation_sessions"
    __table_args__ = (
        Index("ix_conversation_sessions_user_last", "user_id", "last_message_at"),
        # One session per conversation of another app (issue #17): re-importing adds nothing.
        Index("ix_conversation_sessions_source", "user_id", "source", "source_id", unique=True),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(300))
    persona_id: Mapped[int | None] = mapped_column(ForeignKey("personas.id", ondelete="SET NULL"))
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    tts_engine: Mapped[str | None] = mapped_column(String(40))
    voice_id: Mapped[str | None] = mapped_column(String(100))
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
    last_message_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Where the conversation came from (chatgpt, claude, gemini, synthbot; NULL = spoken/typed here)
    # and that app's conversation id.
    source: Mapped[str | None] = mapped_column(String(20))
    source_id: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(LongText)

    messages: Mapped[list[ConversationMessage]] = relationship(
        back_populates="session", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ConversationMessage.id",
    )


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        Index("ix_conversation_messages_session_created", "session_id", "created_at"),
        Index("ix_conversation_messages_source", "session_id", "source_id", unique=True),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conversation_sessions.id", ondelete="CASCADE"))
    # Idempotency key: a turn replayed from the offline spool is written once, not twice.
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    role: Mapped[str] = mapped_column(String(20))  # user | assistant | system
    content: Mapped[str] = mapped_column(LongText)
    # For an interrupted reply, ``content`` is what was spoken; this keeps what was generated.
    full_content: Mapped[str | None] = mapped_column(LongText)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(1000))
    audio_duration_s: Mapped[float | None] = mapped_column(Float)
    stt_model: Mapped[str | None] = mapped_column(String(200))
    stt_language: Mapped[str | None] = mapped_column(String(16))
    stt_confidence: Mapped[float | None] = mapped_column(Float)
    provider: Mapped[str | None] = mapped_column(String(40))
    model: Mapped[str | None] = mapped_column(String(200))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    timings: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    # Feedback is in message_ratings (MessageRating); the unused `rating` column went in 0009.
    # The imported message's id in its source app (idempotent import, issue #17).
    source_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = _created()

    session: Mapped[ConversationSession] = relationship(back_populates="messages")


class ApiUsageLog(Base):
    __tablename__ = "api_usage_logs"
    __table_args__ = (
        Index("ix_api_usage_logs_user_created", "user_id", "created_at"),
        Index("ix_api_usage_logs_provider_created", "provider", "created_at"),
        MYSQL_TABLE_ARGS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("conversation_sessions.id", ondelete="SET NULL"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("conversation_messages.id", ondelete="SET NULL"))
    provider: Mapped[str] = mapped_column(String(40))
    endpoint: Mapped[str | None] = mapped_column(String(300))
    model: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(200))
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    tokens_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    characters: Mapped[int | None] = mapped_column(Integer)
    audio_seconds: Mapped[float | None] = mapped_column(Float)
    latency_ms: Mapped[float | None] = mapped_column(Float)
    ttfb_ms: Mapped[float | None] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    success: Mapped[bool] = mapped_column(Boolean, default=True)
    error_kind: Mapped[str | None] = mapped_column(String(40))
    error_message: Mapped[str | None] = mapped_column(String(1000))
    cost_usd: Mapped[Decimal | None] = mapped_column(Money)  # NULL = unknown, never a fake zero
    created_at: Mapped[dt.datetime] = _created()


class AvailableVoice(Base):
    __tablename__ = "available_voices"
    __table_args__ = (UniqueConstraint("provider", "voice_id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    voice_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(60))
    labels: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    description: Mapped[str | None] = mapped_column(LongText)
    preview_url: Mapped[str | None] = mapped_column(String(1000))
    default_settings: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    fetched_at: Mapped[dt.datetime] = _created()


class UserVoicePreference(Base):
    __tablename__ = "user_voice_preferences"
    __table_args__ = (UniqueConstraint("user_id", "provider", "voice_id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    provider: Mapped[str] = mapped_column(String(40), default="elevenlabs")
    voice_id: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str | None] = mapped_column(String(100))
    stability: Mapped[float | None] = mapped_column(Float)
    similarity_boost: Mapped[float | None] = mapped_column(Float)
    style: Mapped[float | None] = mapped_column(Float)
    use_speaker_boost: Mapped[bool | None] = mapped_column(Boolean)
    speed: Mapped[float | None] = mapped_column(Float)
    output_format: Mapped[str | None] = mapped_column(String(40))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()


class SystemConfiguration(Base):
    __tablename__ = "system_configurations"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(150), unique=True)
    value: Mapped[Any] = mapped_column(JSONType)
    description: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = _updated()


class FeatureFlag(Base):
    __tablename__ = "feature_flags"
    __table_args__ = (MYSQL_TABLE_ARGS,)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[dt.datetime] = _updated()


class UserFeatureAccess(Base):
    """A per-user override of a feature flag (issue #18): this user has the feature on or off."""

    __tablename__ = "user_feature_access"
    __table_args__ = (UniqueConstraint("user_id", "flag_id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    flag_id: Mapped[int] = mapped_column(ForeignKey("feature_flags.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = _updated()


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (Index("ix_audit_logs_created", "created_at"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str | None] = mapped_column(String(60))
    entity_id: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = _created()


class ErrorLog(Base):
    __tablename__ = "error_logs"
    __table_args__ = (Index("ix_error_logs_created", "created_at"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Whose screen showed the error (issue #18: `admin errors --user`); NULL before the DB knew the user.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str] = mapped_column(String(2000))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[dt.datetime] = _created()


class QuantumSession(Base):
    """One randomness job (issue #20): an Aer run, an IBM Quantum job or a CSPRNG draw."""

    __tablename__ = "quantum_sessions"
    __table_args__ = (Index("ix_quantum_sessions_created", "created_at"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    backend: Mapped[str | None] = mapped_column(String(100))
    shots: Mapped[int] = mapped_column(Integer, default=0)
    qubits: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    queue_ms: Mapped[int | None] = mapped_column(Integer)
    run_ms: Mapped[int | None] = mapped_column(Integer)
    bits: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime] = _created()
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class QuantumRandomNumber(Base):
    """A block of pooled random bits (0/1 text); consumed_by names the message that used it."""

    __tablename__ = "quantum_random_numbers"
    __table_args__ = (Index("ix_quantum_random_numbers_pool", "consumed_by", "id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("quantum_sessions.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(String(20))
    backend: Mapped[str | None] = mapped_column(String(100))
    job_id: Mapped[str | None] = mapped_column(String(100))
    bits: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created()
    consumed_by: Mapped[str | None] = mapped_column(String(64))
    consumed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class MemoryFact(Base):
    """A fact the user asked the assistant to keep (issue #16), per user, given to new sessions."""

    __tablename__ = "memory_facts"
    __table_args__ = (Index("ix_memory_facts_user", "user_id", "id"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    content: Mapped[str] = mapped_column(String(1000))
    source: Mapped[str] = mapped_column(String(20), default="user")
    created_at: Mapped[dt.datetime] = _created()


class SessionTag(Base):
    """A user's label on a conversation (issue #17); the tag ``keep`` exempts it from retention."""

    __tablename__ = "session_tags"
    __table_args__ = (UniqueConstraint("session_id", "tag"), Index("ix_session_tags_tag", "tag"), MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("conversation_sessions.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = _created()


class MessageRating(Base):
    """Thumbs up (+1) or down (-1) on a reply, with an optional comment (issue #17); one per message."""

    __tablename__ = "message_ratings"
    __table_args__ = (UniqueConstraint("message_id"), Index("ix_message_ratings_user", "user_id"),
                      MYSQL_TABLE_ARGS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("conversation_messages.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = _created()
    updated_at: Mapped[dt.datetime] = _updated()
