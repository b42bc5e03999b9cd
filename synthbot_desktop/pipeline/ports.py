"""The small interfaces the turn engine needs from speech-in and speech-out hardware/models.

Why ports: the engine is tested with in-memory fakes (deterministic, fast) and wired to the real
faster-whisper engine and sounddevice player through thin adapters (``pipeline.adapters``), so
neither the engine nor its tests depend on a sound card or a model being present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from synthbot_desktop.tts.base import AudioFormat

Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Transcription:
    """What speech-to-text made of one utterance."""

    text: str
    language: str | None = None
    confidence: float | None = None
    audio_seconds: float = 0.0
    model: str = "unknown"


@runtime_checkable
class SpeechToText(Protocol):
    """Blocking transcription (the engine runs it in a worker thread)."""

    def transcribe(self, audio: Samples, *, language: str | None = None, prompt: str | None = None) -> Transcription: ...


@runtime_checkable
class AudioOutput(Protocol):
    """A kept-open speaker: PCM is queued without blocking and played in order.

    ``stop`` must silence the speaker within one audio block (barge-in); ``seconds_played``
    counts audio that actually left the queue since the last ``reset``, which is how the engine
    knows which words the user heard.
    """

    def reset(self) -> None: ...

    def play(self, pcm: bytes, fmt: AudioFormat) -> None: ...

    def stop(self) -> None: ...

    def seconds_played(self) -> float: ...

    def first_sample_time(self) -> float | None: ...


def pcm_seconds(pcm_len: int, fmt: AudioFormat) -> float:
    return pcm_len / float(fmt.sample_rate * fmt.channels * fmt.sample_width)
