"""Thin adapters from the real speech modules to the turn engine's ports.

Kept separate from the engine so the engine's tests need no model and no sound card, and so a
change in the audio/STT modules touches one small file.
"""

from __future__ import annotations

from typing import Any

from synthbot_desktop.pipeline.ports import Samples, Transcription
from synthbot_desktop.tts.base import AudioFormat


class WhisperTranscriber:
    """:class:`SpeechToText` over ``stt.engine.WhisperEngine`` (model loaded once, reused)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def transcribe(self, audio: Samples, *, language: str | None = None, prompt: str | None = None) -> Transcription:
        t = self.engine.transcribe(audio, language=language, prompt=prompt, live=True)
        return Transcription(t.text, t.language, t.confidence, t.audio_seconds, t.model or self.engine.model_name)


class PlayerOutput:
    """:class:`AudioOutput` over ``audio.playback.Player`` (one kept-open output stream).

    Played seconds come from the player's own per-item frame counters (what the device took);
    the first sample time adds PortAudio's output latency, i.e. when it reaches the speaker.
    """

    def __init__(self, player: Any) -> None:
        self.player = player
        self._items: list[Any] = []

    def reset(self) -> None:
        self._items = []

    def play(self, pcm: bytes, fmt: AudioFormat) -> None:
        self._items.append(self.player.enqueue(pcm, fmt))

    def stop(self) -> None:
        self.player.stop()

    def seconds_played(self) -> float:
        return sum(item.played_seconds for item in self._items)

    def first_sample_time(self) -> float | None:
        starts = [item.started_at for item in self._items if item.started_at is not None]
        return min(starts) + self.player.output_latency if starts else None
