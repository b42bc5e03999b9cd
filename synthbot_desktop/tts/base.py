"""The speech-provider protocol: text in, PCM chunks out, so the pipeline does not care who speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class AudioFormat:
    """Raw PCM layout of the chunks a provider yields (signed 16-bit little-endian by default)."""

    sample_rate: int
    channels: int = 1
    sample_width: int = 2


@dataclass(frozen=True)
class VoiceSettings:
    """ElevenLabs-style voice tuning; engines ignore what they cannot honour."""

    stability: float | None = None
    similarity_boost: float | None = None
    style: float | None = None
    use_speaker_boost: bool | None = None
    speed: float | None = None


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice_id: str | None = None
    model_id: str | None = None
    settings: VoiceSettings = field(default_factory=VoiceSettings)
    previous_text: str | None = None  # prosody continuity across sentence chunks
    next_text: str | None = None
    language: str | None = None  # the reply's language (e.g. "fr"); None = unknown, treated as English.
    # Carried so a fallback engine can refuse a language its voice cannot speak (tts/fallback.py).


@dataclass(frozen=True)
class AudioChunk:
    pcm: bytes
    format: AudioFormat


@runtime_checkable
class SpeechProvider(Protocol):
    name: str

    def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]: ...

    async def aclose(self) -> None: ...
