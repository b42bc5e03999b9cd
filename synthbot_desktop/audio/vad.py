"""Voice activity and end-of-utterance detection on a live 16 kHz stream.

Uses the Silero VAD ONNX model that faster-whisper bundles (no download, no torch), run one
32 ms window at a time with its recurrent state carried across calls, so each decision costs
well under a millisecond. The :class:`Endpointer` turns probabilities into two events:

- :class:`SpeechStart` once at least ``min_speech_ms`` of speech has been heard (so a cough or
  a click does not interrupt the assistant), stamped with the sample where speech began;
- :class:`SpeechEnd` after ``silence_ms`` of silence (or when ``max_utterance_s`` is reached),
  carrying the whole utterance including ``preroll_ms`` of audio before the onset — Whisper
  misses first syllables without it.

Optionally (``pause_ms`` > 0) a :class:`SpeechPause` comes first, after a short silence, with the
utterance so far: the pipeline starts transcribing then, and keeps the result if the utterance
ends at that same sample (speech that resumes makes it stale).

Silence alone never produces an event. The threshold can change at runtime: the pipeline
raises it while the assistant speaks so its own echo does not count as the user barging in.
With :meth:`Endpointer.set_confirm_threshold` the onset is still found at the normal threshold
and only the *confirmation* needs the raised one, so the utterance (and its pre-roll) starts
where the user started, not where the VAD became sure — no first words lost to the echo guard.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbot_desktop.audio.formats import STT_RATE
from synthbot_desktop.errors import ModelError

WINDOW = 512
"""Silero v5/v6 takes 512 samples (32 ms) at 16 kHz, plus 64 samples of context."""
_CONTEXT = 64
POSTROLL_MS = 200
"""Audio kept after the last voiced window: Whisper transcribes word endings better with it."""


class SileroVad:
    """Streaming speech probability for consecutive 512-sample windows."""

    def __init__(self, session: Any = None) -> None:
        if session is None:
            try:
                from faster_whisper.vad import get_vad_model

                session = get_vad_model().session  # one shared ONNX session; run() is thread-safe
            except Exception as exc:
                raise ModelError(f"cannot load the Silero VAD model bundled with faster-whisper ({exc})",
                                 hint="reinstall faster-whisper and onnxruntime") from None
        self._session = session
        self.reset()

    def reset(self) -> None:
        """Start a new stream (forget the recurrent state)."""
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, _CONTEXT), dtype=np.float32)

    def __call__(self, window: np.ndarray) -> float:
        """Speech probability of the next 512-sample window."""
        w = np.asarray(window, dtype=np.float32).reshape(1, WINDOW)
        x = np.concatenate([self._context, w], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": x, "h": self._h, "c": self._c})
        self._context = w[:, -_CONTEXT:]
        return float(np.asarray(out).reshape(-1)[0])


@dataclass(frozen=True)
class EndpointerConfig:
    threshold: float = 0.5
    silence_ms: int = 600
    preroll_ms: int = 300
    min_speech_ms: int = 200
    max_utterance_s: float = 60.0  # 0 = no limit
    pause_ms: int = 0  # > 0: a SpeechPause after this much silence (early transcription); 0 = none

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> EndpointerConfig:
        """Read ``audio.*`` settings; keyword overrides (e.g. from CLI flags) win when not None."""
        values: dict[str, Any] = {
            "threshold": settings.get_float("audio.vad_threshold"),
            "silence_ms": settings.get_int("audio.silence_ms"),
            "preroll_ms": settings.get_int("audio.preroll_ms"),
            "min_speech_ms": settings.get_int("audio.min_speech_ms"),
            "max_utterance_s": settings.get_float("audio.max_utterance_s"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class SpeechStart:
    sample: int  # stream position (16 kHz samples since the endpointer started) where speech began

    @property
    def seconds(self) -> float:
        return self.sample / STT_RATE


@dataclass(frozen=True)
class SpeechEnd:
    audio: np.ndarray  # the utterance: pre-roll + speech + a short post-roll, float32 16 kHz
    start_sample: int  # where speech began
    end_sample: int  # where silence began (the end of speech)
    audio_start_sample: int  # stream position of audio[0]
    reason: str  # "silence", "max_length" or "flush"

    @property
    def start_seconds(self) -> float:
        return self.start_sample / STT_RATE

    @property
    def end_seconds(self) -> float:
        return self.end_sample / STT_RATE

    @property
    def speech_seconds(self) -> float:
        return (self.end_sample - self.start_sample) / STT_RATE


@dataclass(frozen=True)
class SpeechPause:
    """A short silence inside an utterance: the audio so far, for early (speculative) transcription.

    Same fields as :class:`SpeechEnd`; it is confirmed when a ``SpeechEnd`` arrives with the same
    ``end_sample``, and stale if speech resumes first.
    """

    audio: np.ndarray
    start_sample: int
    end_sample: int
    audio_start_sample: int

    @property
    def end_seconds(self) -> float:
        return self.end_sample / STT_RATE


VadEvent = SpeechStart | SpeechEnd | SpeechPause


class Endpointer:
    """Feed 16 kHz mono float32 frames of any length; get :data:`VadEvent` lists back."""

    def __init__(self, config: EndpointerConfig | None = None, *, vad: SileroVad | None = None) -> None:
        self.config = config or EndpointerConfig()
        self._vad = vad or SileroVad()
        self._lock = threading.Lock()
        self._threshold = self.config.threshold
        self._confirm: float | None = None
        # While a confirm threshold is set (the assistant speaks): a last word before speech counts as
        # started. True = "this is the assistant's own echo" (EchoCanceller.sounds_like_echo); the
        # candidate stays open and is asked again at the next window, so a real voice still gets through.
        self.veto: Callable[[], bool] | None = None
        self.reset()

    # -- runtime control -------------------------------------------------------------------
    @property
    def threshold(self) -> float:
        return self._threshold

    def set_threshold(self, value: float) -> None:
        """Change the speech threshold now (e.g. higher while the assistant is speaking)."""
        if not 0.0 < value < 1.0:
            raise ValueError(f"VAD threshold must be between 0 and 1 (got {value})")
        with self._lock:
            self._threshold = float(value)

    def reconfigure(self, config: EndpointerConfig) -> None:
        """Use new settings from the next window on, keeping the stream's state: a silence length
        changed in Settings while listening applies to the utterance being heard, and nothing heard
        so far is lost (a restart would drop it). The speech threshold follows ``config.threshold``
        unless it is raised for playback (the voice loop sets that at every block)."""
        with self._lock:
            if abs(self._threshold - self.config.threshold) < 1e-9:
                self._threshold = float(config.threshold)
            self.config = config

    @property
    def confirm_threshold(self) -> float | None:
        return self._confirm

    def set_confirm_threshold(self, value: float | None) -> None:
        """Require this probability (in at least one window) before speech counts as started, while
        the onset is still found at the normal threshold; None = the normal threshold decides alone."""
        if value is not None and not 0.0 < value < 1.0:
            raise ValueError(f"VAD confirm threshold must be between 0 and 1 (got {value})")
        with self._lock:
            self._confirm = None if value is None else float(value)

    @property
    def in_speech(self) -> bool:
        return self._speaking

    @property
    def last_probability(self) -> float:
        return self._last_prob

    def reset(self) -> None:
        """Forget everything (new stream); the VAD state restarts too."""
        self._vad.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._pos = 0  # samples consumed into windows
        self._history: deque[np.ndarray] = deque()  # recent windows, oldest first, for pre-roll
        self._history_start = 0  # stream position of the first history window
        self._speaking = False
        self._candidate_start: int | None = None
        self._confirmed_at: int | None = None  # first window of the candidate above the confirm threshold
        self._paused = False
        self._voiced_ms = 0.0
        self._gap_ms = 0.0
        self._silence_ms = 0.0
        self._silence_start = 0
        self._utt_start = 0
        self._last_prob = 0.0

    # -- feeding ---------------------------------------------------------------------------
    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        buf = np.concatenate([self._pending, x]) if self._pending.size else x
        events: list[VadEvent] = []
        with self._lock:
            n = len(buf) // WINDOW
            for i in range(n):
                events.extend(self._step(buf[i * WINDOW:(i + 1) * WINDOW]))
            self._pending = buf[n * WINDOW:].copy()
        return events

    def flush(self) -> list[VadEvent]:
        """End of stream: a confirmed utterance still in progress is delivered (reason "flush")."""
        with self._lock:
            if not self._speaking:
                return []
            end = self._silence_start if self._silence_ms > 0 else self._pos
            return [self._finish(end, "flush")]

    # -- internals -------------------------------------------------------------------------
    def _step(self, window: np.ndarray) -> list[VadEvent]:
        cfg = self.config
        win_ms = WINDOW * 1000 / STT_RATE
        start = self._pos
        self._history.append(window.copy())
        self._pos += WINDOW
        prob = self._vad(window)
        self._last_prob = prob
        threshold = self._threshold
        confirm = self._confirm
        neg = max(threshold - 0.15, 0.01)
        events: list[VadEvent] = []
        if not self._speaking:
            if prob >= threshold:
                if self._candidate_start is None:
                    self._candidate_start = start
                    self._confirmed_at = None
                    self._voiced_ms = 0.0
                self._voiced_ms += win_ms
                self._gap_ms = 0.0
            elif self._candidate_start is not None:
                if prob < neg:
                    self._gap_ms += win_ms
                    if self._gap_ms > max(100.0, cfg.min_speech_ms / 2):
                        self._candidate_start = None  # a short blip, not speech
                elif prob >= neg:
                    self._voiced_ms += win_ms
            if self._candidate_start is not None and confirm is not None and prob >= confirm \
                    and self._confirmed_at is None:
                self._confirmed_at = start
            confirmed = confirm is None or self._confirmed_at is not None
            if self._candidate_start is not None and self._voiced_ms >= max(cfg.min_speech_ms, win_ms) and confirmed \
                    and not (confirm is not None and self.veto is not None and self.veto()):
                self._speaking = True
                # The onset, not the confirmation; but echo that kept a candidate open for long must
                # not become the start of the user's utterance: at most one second before confirming.
                onset = self._candidate_start
                if self._confirmed_at is not None:
                    onset = max(onset, self._confirmed_at - STT_RATE)
                self._utt_start = onset
                self._paused = False
                self._silence_ms = 0.0
                events.append(SpeechStart(self._utt_start))
            else:
                self._trim_history()
            return events
        # In speech: hysteresis like Silero's own segmenter (between neg and threshold keeps speaking).
        if prob < neg:
            if self._silence_ms == 0.0:
                self._silence_start = start
            self._silence_ms += win_ms
            if self._silence_ms >= cfg.silence_ms:
                events.append(self._finish(self._silence_start, "silence"))
                return events
            if cfg.pause_ms > 0 and not self._paused and self._silence_ms >= cfg.pause_ms:
                self._paused = True
                events.append(self._pause(self._silence_start))
        else:
            self._silence_ms = 0.0
            self._paused = False
        if cfg.max_utterance_s > 0 and (self._pos - self._utt_start) >= cfg.max_utterance_s * STT_RATE:
            events.append(self._finish(self._pos, "max_length"))
        return events

    def utterance_so_far(self) -> np.ndarray | None:
        """The utterance being spoken, pre-roll included, up to now (for live captions); None outside speech."""
        if not self._speaking:
            return None
        return self._pause(self._pos).audio

    @property
    def silent_ms(self) -> float:
        """How long the current utterance has been silent (0 while voiced or outside speech)."""
        return self._silence_ms if self._speaking else 0.0

    def _trim_history(self) -> None:
        """Keep only the pre-roll (before a candidate onset, or before now)."""
        anchor = self._candidate_start if self._candidate_start is not None else self._pos
        keep_from = anchor - int(self.config.preroll_ms * STT_RATE / 1000)
        while self._history and self._history_start + WINDOW <= keep_from:
            self._history.popleft()
            self._history_start += WINDOW

    def _pause(self, end_sample: int) -> SpeechPause:
        """The utterance so far, cut exactly as :meth:`_finish` would cut it at this end sample."""
        audio = np.concatenate(list(self._history)) if self._history else np.zeros(0, dtype=np.float32)
        first = max(self._history_start, self._utt_start - int(self.config.preroll_ms * STT_RATE / 1000))
        last = min(self._pos, end_sample + int(POSTROLL_MS * STT_RATE / 1000))
        return SpeechPause(audio[first - self._history_start:last - self._history_start].copy(), self._utt_start,
                           end_sample, first)

    def _finish(self, end_sample: int, reason: str) -> SpeechEnd:
        audio = np.concatenate(list(self._history)) if self._history else np.zeros(0, dtype=np.float32)
        first = max(self._history_start, self._utt_start - int(self.config.preroll_ms * STT_RATE / 1000))
        last = min(self._pos, end_sample + int(POSTROLL_MS * STT_RATE / 1000))
        clip = audio[first - self._history_start:last - self._history_start].copy()
        event = SpeechEnd(clip, self._utt_start, end_sample, first, reason)
        self._speaking = False
        self._candidate_start = None
        self._silence_ms = 0.0
        # Windows after the cut stay in history: they are the next utterance's pre-roll.
        self._trim_history()
        return event
