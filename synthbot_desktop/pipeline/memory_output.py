"""An :class:`AudioOutput` without a sound card: collects the reply's PCM (for ``--out FILE.wav``),
optionally pacing "playback" in real time so barge-in and progress behave as with a speaker.

Real-time mode models the speaker faithfully enough for tests and benchmarks: each queued piece
starts when the previous one ends (or when it arrives, after an underrun), and ``stop`` freezes
the play head at that instant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from synthbot_desktop.pipeline.ports import pcm_seconds
from synthbot_desktop.tts.base import AudioFormat


class MemoryOutput:
    def __init__(self, *, realtime: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        self.realtime = realtime
        self.clock = clock
        self._lock = threading.Lock()
        self.pieces: list[tuple[bytes, AudioFormat]] = []
        self._spans: list[tuple[float, float]] = []  # (start time, duration) per piece
        self._stopped_at: float | None = None
        self.stop_calls = 0

    def reset(self) -> None:
        with self._lock:
            self.pieces.clear()
            self._spans.clear()
            self._stopped_at = None

    def play(self, pcm: bytes, fmt: AudioFormat) -> None:
        with self._lock:
            if self._stopped_at is not None:
                return
            now = self.clock()
            start = max(now, self._spans[-1][0] + self._spans[-1][1]) if self._spans else now
            self.pieces.append((pcm, fmt))
            self._spans.append((start, pcm_seconds(len(pcm), fmt)))

    def stop(self) -> None:
        with self._lock:
            self.stop_calls += 1
            if self._stopped_at is None:
                self._stopped_at = self.clock()

    def seconds_played(self) -> float:
        with self._lock:
            if not self.realtime:
                return sum(d for _, d in self._spans)
            now = self.clock() if self._stopped_at is None else self._stopped_at
            return sum(min(max(now - start, 0.0), dur) for start, dur in self._spans)

    def first_sample_time(self) -> float | None:
        with self._lock:
            if not self._spans:
                return None
            start = self._spans[0][0]
            return start if (not self.realtime or start <= self.clock()) else None

    @property
    def audio_format(self) -> AudioFormat | None:
        return self.pieces[0][1] if self.pieces else None

    def pcm(self) -> bytes:
        """All played PCM (pieces of another format than the first are skipped: one WAV, one format)."""
        fmt = self.audio_format
        return b"".join(p for p, f in self.pieces if f == fmt)
