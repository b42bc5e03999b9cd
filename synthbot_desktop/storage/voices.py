"""Repository functions for the voice catalog (available_voices) and per-user voice tuning
(user_voice_preferences).

Plain dataclasses go in and out so the TTS layer never holds SQLAlchemy objects. A user has at
most one default preference per provider: saving a new default clears the old one in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import AvailableVoice, UserVoicePreference
from synthbot_desktop.storage.types import utcnow


@dataclass(frozen=True)
class CatalogVoice:
    provider: str
    voice_id: str
    name: str
    category: str | None = None
    labels: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    preview_url: str | None = None
    default_settings: dict[str, Any] | None = None
    fetched_at: dt.datetime | None = None


@dataclass(frozen=True)
class VoicePreference:
    voice_id: str
    provider: str = "elevenlabs"
    model_id: str | None = None
    stability: float | None = None
    similarity_boost: float | None = None
    style: float | None = None
    use_speaker_boost: bool | None = None
    speed: float | None = None
    output_format: str | None = None
    is_default: bool = False
    updated_at: dt.datetime | None = None


def _voice(row: AvailableVoice) -> CatalogVoice:
    return CatalogVoice(row.provider, row.voice_id, row.name, row.category, dict(row.labels or {}),
                        row.description, row.preview_url, row.default_settings, row.fetched_at)


def _pref(row: UserVoicePreference) -> VoicePreference:
    return VoicePreference(row.voice_id, row.provider, row.model_id, row.stability, row.similarity_boost,
                           row.style, row.use_speaker_boost, row.speed, row.output_format, bool(row.is_default),
                           row.updated_at)


# Catalog ---------------------------------------------------------------------------------------
def replace_catalog(s: Session, provider: str, voices: list[CatalogVoice]) -> int:
    """Store a freshly fetched catalog: upsert every voice, drop the ones the account lost."""
    now = utcnow()
    existing = {row.voice_id: row for row in s.scalars(select(AvailableVoice).where(AvailableVoice.provider == provider))}
    seen: set[str] = set()
    for v in voices:
        if v.voice_id in seen:
            continue
        seen.add(v.voice_id)
        row = existing.get(v.voice_id)
        if row is None:
            row = AvailableVoice(provider=provider, voice_id=v.voice_id)
            s.add(row)
        row.name = v.name[:200]
        row.category = v.category
        row.labels = dict(v.labels) or None
        row.description = v.description
        row.preview_url = v.preview_url
        if v.default_settings is not None or row.default_settings is None:
            row.default_settings = v.default_settings
        row.fetched_at = now
    gone = [vid for vid in existing if vid not in seen]
    if gone:
        s.execute(delete(AvailableVoice).where(AvailableVoice.provider == provider, AvailableVoice.voice_id.in_(gone)))
    s.flush()
    return len(seen)


def list_voices(s: Session, provider: str | None = None) -> list[CatalogVoice]:
    stmt = select(AvailableVoice).order_by(AvailableVoice.provider, AvailableVoice.name)
    if provider:
        stmt = stmt.where(AvailableVoice.provider == provider)
    return [_voice(r) for r in s.scalars(stmt)]


def get_voice(s: Session, provider: str, voice_id: str) -> CatalogVoice | None:
    row = s.scalar(select(AvailableVoice).where(AvailableVoice.provider == provider,
                                                AvailableVoice.voice_id == voice_id))
    return _voice(row) if row else None


def set_voice_defaults(s: Session, provider: str, voice_id: str, settings: dict[str, Any]) -> None:
    """Remember a voice's own default settings (fetched from /v1/voices/{id}/settings)."""
    s.execute(update(AvailableVoice).where(AvailableVoice.provider == provider, AvailableVoice.voice_id == voice_id)
              .values(default_settings=settings))


# Preferences -----------------------------------------------------------------------------------
def save_preference(s: Session, user_id: int, pref: VoicePreference) -> VoicePreference:
    """Insert or update the user's tuning of one voice; a default one unseats the previous default."""
    if pref.is_default:
        s.execute(update(UserVoicePreference)
                  .where(UserVoicePreference.user_id == user_id, UserVoicePreference.provider == pref.provider,
                         UserVoicePreference.voice_id != pref.voice_id)
                  .values(is_default=False))
    row = s.scalar(select(UserVoicePreference).where(
        UserVoicePreference.user_id == user_id, UserVoicePreference.provider == pref.provider,
        UserVoicePreference.voice_id == pref.voice_id))
    if row is None:
        row = UserVoicePreference(user_id=user_id, provider=pref.provider, voice_id=pref.voice_id)
        s.add(row)
    row.model_id = pref.model_id
    row.stability = pref.stability
    row.similarity_boost = pref.similarity_boost
    row.style = pref.style
    row.use_speaker_boost = pref.use_speaker_boost
    row.speed = pref.speed
    row.output_format = pref.output_format
    row.is_default = pref.is_default
    row.updated_at = utcnow()
    s.flush()
    return _pref(row)


def get_preference(s: Session, user_id: int, provider: str, voice_id: str) -> VoicePreference | None:
    row = s.scalar(select(UserVoicePreference).where(
        UserVoicePreference.user_id == user_id, UserVoicePreference.provider == provider,
        UserVoicePreference.voice_id == voice_id))
    return _pref(row) if row else None


def default_preference(s: Session, user_id: int, provider: str = "elevenlabs") -> VoicePreference | None:
    row = s.scalar(select(UserVoicePreference).where(
        UserVoicePreference.user_id == user_id, UserVoicePreference.provider == provider,
        UserVoicePreference.is_default.is_(True)).order_by(UserVoicePreference.updated_at.desc()).limit(1))
    return _pref(row) if row else None


def list_preferences(s: Session, user_id: int, provider: str | None = None) -> list[VoicePreference]:
    stmt = select(UserVoicePreference).where(UserVoicePreference.user_id == user_id)
    if provider:
        stmt = stmt.where(UserVoicePreference.provider == provider)
    return [_pref(r) for r in s.scalars(stmt.order_by(UserVoicePreference.provider, UserVoicePreference.voice_id))]


def delete_preference(s: Session, user_id: int, provider: str, voice_id: str) -> bool:
    result = s.execute(delete(UserVoicePreference).where(
        UserVoicePreference.user_id == user_id, UserVoicePreference.provider == provider,
        UserVoicePreference.voice_id == voice_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
