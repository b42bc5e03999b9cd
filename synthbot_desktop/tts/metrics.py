"""Per-request speech timings, so latency can be measured without a profiler.

All instants are ``time.perf_counter()`` values; the pipeline and the benchmark subtract them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class SpeechMetrics:
    engine: str
    characters: int
    voice_id: str | None = None
    model_id: str | None = None
    started: float = 0.0  # stream() asked for this text
    request_sent: float | None = None  # HTTP request handed to the socket (ElevenLabs)
    first_byte: float | None = None  # first audio byte received / first PCM synthesised
    first_chunk_out: float | None = None  # first AudioChunk handed to the consumer
    finished: float | None = None
    audio_bytes: int = 0
    audio_seconds: float = 0.0
    status_code: int | None = None
    request_id: str | None = None
    character_cost: int | None = None  # credits billed, from the ``character-cost`` header
    attempts: int = 0
    error_kind: str | None = None

    @property
    def ttfb_ms(self) -> float | None:
        return None if self.first_byte is None else (self.first_byte - self.started) * 1000

    @property
    def latency_ms(self) -> float | None:
        return None if self.finished is None else (self.finished - self.started) * 1000


MetricsSink = Callable[[SpeechMetrics], None]
