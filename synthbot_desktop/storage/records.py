"""Plain records that the core produces and storage writes (no SQLAlchemy objects leak out).

Each record carries its own ``uid`` so a write replayed from the offline spool lands once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from synthbot_desktop.storage.types import utcnow


def new_uid() -> str:
    return str(uuid.uuid4())


@dataclass
class UsageRecord:
    """One provider call (LLM, TTS, or local STT): what it cost and how fast it was."""

    provider: str
    endpoint: str | None = None
    model: str | None = None
    request_id: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    tokens_estimated: bool = False
    characters: int | None = None
    audio_seconds: float | None = None
    latency_ms: float | None = None
    ttfb_ms: float | None = None
    status_code: int | None = None
    success: bool = True
    error_kind: str | None = None
    error_message: str | None = None
    cost_usd: Decimal | None = None
    session_id: int | None = None
    message_uid: str | None = None
    uid: str = field(default_factory=new_uid)
    created_at: dt.datetime = field(default_factory=utcnow)
    # A session created offline has no id yet: it is named by the uid of its first message
    # (storage/offline.py), and the recorder resolves the id when it writes the row.
    session_uid: str | None = None


@dataclass
class MessageRecord:
    """One user or assistant message with its speech and timing facts."""

    session_id: int | None
    role: str
    content: str
    full_content: str | None = None
    interrupted: bool = False
    error: str | None = None
    audio_duration_s: float | None = None
    stt_model: str | None = None
    stt_language: str | None = None
    stt_confidence: float | None = None
    provider: str | None = None
    model: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    timings: dict[str, Any] | None = None
    uid: str = field(default_factory=new_uid)
    created_at: dt.datetime = field(default_factory=utcnow)
    session_uid: str | None = None  # see UsageRecord.session_uid


@dataclass
class SessionSpec:
    """A conversation session to create together with its first message (never empty).

    ``uid`` is the uid of that first message: the session's identity before the database gives
    it an id, and what makes creating it idempotent on replay (if the message exists, so does
    the session). No schema change is needed for it.
    """

    uid: str
    provider: str | None = None
    model: str | None = None
    tts_engine: str | None = None
    voice_id: str | None = None
    persona_id: int | None = None


@dataclass
class ErrorRecord:
    """One error a person was shown (issue #18's ``error_logs``), already redacted.

    It travels like a message: written at once when the database answers, else spooled with the
    recorder's writes and replayed in order. ``uid`` makes the replay idempotent without a schema
    change: it is kept in the row's ``details`` and looked up among the rows of the same
    ``created_at`` (indexed, microsecond precision on both engines).
    """

    source: str
    message: str
    kind: str | None = None
    details: dict[str, Any] | None = None
    uid: str = field(default_factory=new_uid)
    created_at: dt.datetime = field(default_factory=utcnow)


def to_json(record: UsageRecord | MessageRecord | SessionSpec | ErrorRecord) -> dict[str, Any]:
    if isinstance(record, SessionSpec):
        return dataclasses.asdict(record)
    data = dataclasses.asdict(record)
    data["created_at"] = record.created_at.isoformat()
    if isinstance(record, UsageRecord) and record.cost_usd is not None:
        data["cost_usd"] = str(record.cost_usd)
    return data


def usage_from_json(data: dict[str, Any]) -> UsageRecord:
    data = dict(data)
    data["created_at"] = dt.datetime.fromisoformat(data["created_at"])
    if data.get("cost_usd") is not None:
        data["cost_usd"] = Decimal(data["cost_usd"])
    return UsageRecord(**data)


def error_from_json(data: dict[str, Any]) -> ErrorRecord:
    data = dict(data)
    data["created_at"] = dt.datetime.fromisoformat(data["created_at"])
    return ErrorRecord(**data)


def session_from_json(data: dict[str, Any]) -> SessionSpec:
    return SessionSpec(**data)


def message_from_json(data: dict[str, Any]) -> MessageRecord:
    data = dict(data)
    data["created_at"] = dt.datetime.fromisoformat(data["created_at"])
    return MessageRecord(**data)
