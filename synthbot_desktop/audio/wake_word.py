"""Offline wake word over the 16 kHz microphone stream (``pymicro-wakeword``'s bundled models).

Why this package: its four microWakeWord models ("hey jarvis", "okay nabu", "hey mycroft",
"alexa") and a TFLite C runtime ship inside the wheel (about 2 MB, no torch, nothing fetched at
run time). The detector costs well under 5 % of one core, so it can listen all day.

The model sees 10 ms feature windows and outputs a probability every stride (30 ms); a detection
is the mean of the last ``sliding_window_size`` probabilities above the cutoff. ``sensitivity``
moves that cutoff (0.5 = the model author's calibrated cutoff; higher = more wakes, more false
wakes). After a detection the detector ignores the phrase for ``refractory_s`` so one phrase
never wakes twice.

Bad input never makes the microphone silently deaf: :func:`load_detector` raises a
:class:`WakeWordError` with one line (unknown name, missing package, unloadable model), and the
callers fall back to push-to-talk / plain voice activity with that line shown.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbot_desktop import setting_keys as keys
from synthbot_desktop.errors import SynthbotError

log = logging.getLogger(__name__)

RATE = 16000
WAKE_WORDS: dict[str, str] = {
    "hey_jarvis": "Hey Jarvis",
    "okay_nabu": "Okay Nabu",
    "hey_mycroft": "Hey Mycroft",
    "alexa": "Alexa",
}
"""The models inside the pymicro-wakeword wheel, by setting value -> spoken phrase."""

CHOICES = ("none", *WAKE_WORDS)

# Words Whisper may write for the tail of a phrase that leaked into the utterance's pre-roll.
_PHRASE_WORDS = {
    "hey_jarvis": ("hey", "hi", "a", "jarvis", "jervis", "service", "travis"),
    "okay_nabu": ("okay", "ok", "o.k", "nabu", "nabo", "naboo", "nab", "abu"),
    "hey_mycroft": ("hey", "hi", "mycroft", "microsoft", "my", "croft", "craft"),
    "alexa": ("alexa", "lexa", "alexis"),
}


class WakeWordError(SynthbotError):
    """The wake word cannot be used; the app carries on without it (push-to-talk / plain VAD)."""


@dataclass(frozen=True)
class WakeConfig:
    name: str = "none"
    sensitivity: float = 0.5  # 0..1; 0.5 = the model's own calibrated cutoff
    refractory_s: float = 2.0  # a detection within this time of the previous one is ignored
    idle_s: float = 8.0  # awake with no speech for this long -> back to sleep
    preroll_ms: int = 300  # audio kept from before the detection, for words run on after the phrase

    @classmethod
    def from_settings(cls, settings: Any, *, name: str | None = None) -> WakeConfig:
        return cls(
            name=settings.value(keys.AUDIO_WAKE_WORD) if name is None else name,
            sensitivity=settings.value(keys.AUDIO_WAKE_WORD_SENSITIVITY),
            refractory_s=settings.value(keys.AUDIO_WAKE_WORD_REFRACTORY_S),
            idle_s=settings.value(keys.AUDIO_WAKE_WORD_IDLE_S),
            preroll_ms=settings.value(keys.AUDIO_WAKE_WORD_PREROLL_MS),
        )

    @property
    def enabled(self) -> bool:
        return self.name not in ("", "none")


@dataclass(frozen=True)
class Detection:
    name: str
    sample: int  # position in the stream fed to the detector (16 kHz) where the phrase was recognised
    probability: float


def cutoff_for(base: float, sensitivity: float) -> float:
    """Map sensitivity 0..1 onto the probability cutoff: 0.5 keeps the model's own ``base``.

    Linear towards 0.999 (stricter) below 0.5 and towards ``base - 0.45`` (looser) above it,
    because the models' probabilities bunch close to 1 for real phrases.
    """
    s = min(1.0, max(0.0, sensitivity))
    if s <= 0.5:
        return base + (0.999 - base) * (0.5 - s) / 0.5
    return base - 0.45 * (s - 0.5) / 0.5


def _import() -> Any:
    try:
        import pymicro_wakeword
    except Exception as exc:  # ImportError, or the native runtime failing to load
        raise WakeWordError(f"the wake-word engine (pymicro-wakeword) is not available ({type(exc).__name__})",
                            hint="reinstall SynthBot Desktop; until then use push-to-talk") from None
    return pymicro_wakeword


class WakeWordDetector:
    """Streaming detector: ``feed(samples)`` with float32 16 kHz audio, returns detections.

    Not thread-safe: one feeder (the voice loop, or the `listen` reader).
    """

    def __init__(self, config: WakeConfig) -> None:
        if config.name not in WAKE_WORDS:
            raise WakeWordError(f"unknown wake word '{config.name}'",
                                hint=f"choose one of {', '.join(CHOICES)}; until then use push-to-talk")
        pmw = _import()
        self.config = config
        self.name = config.name
        self.phrase = WAKE_WORDS[config.name]
        try:
            self._model = pmw.MicroWakeWord.from_builtin(pmw.Model(config.name))
            self._features = pmw.MicroWakeWordFeatures()
        except Exception as exc:
            raise WakeWordError(f"the wake-word model '{config.name}' cannot be loaded ({type(exc).__name__}: {exc})",
                                hint="reinstall SynthBot Desktop; until then use push-to-talk") from None
        self.cutoff = cutoff_for(float(self._model.probability_cutoff), config.sensitivity)
        self._fed = 0
        self._last: int | None = None
        self._lock = threading.Lock()
        self.max_probability = 0.0  # since the last reset_stats(): for benchmarks and tuning

    def feed(self, samples: np.ndarray) -> list[Detection]:
        pcm = (np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        found: list[Detection] = []
        with self._lock:
            start = self._fed
            self._fed += len(pcm) // 2
            for feat in self._features.process_streaming(pcm):
                prob = self._model.process_streaming_prob(feat)
                if prob is None:
                    continue
                prob = float(prob)
                self.max_probability = max(self.max_probability, prob)
                if prob <= self.cutoff:
                    continue
                at = self._fed  # the feature frames are produced in order within this block
                if self._last is not None and at - self._last < self.config.refractory_s * RATE:
                    continue
                self._last = at
                found.append(Detection(self.name, max(start, at), prob))
        return found

    def reset(self) -> None:
        """Forget the model's state (e.g. after the phrase was handled, so its tail cannot re-trigger)."""
        with self._lock:
            self._model.reset()
            self._features.reset()

    def close(self) -> None:
        with self._lock:
            self._model.close()


def load_detector(config: WakeConfig) -> WakeWordDetector | None:
    """The detector for ``config``, None when the wake word is off; raises WakeWordError (one line)."""
    if not config.enabled:
        return None
    return WakeWordDetector(config)


def strip_phrase(text: str, name: str) -> str:
    """Drop the wake phrase (or Whisper's spelling of its tail) from the start of a transcript.

    Why: the pre-roll before the detection is kept so words run on after the phrase are not cut;
    the phrase itself must not reach the LLM.
    """
    words = _PHRASE_WORDS.get(name, ())
    if not words:
        return text
    tokens = text.strip().split()
    dropped = 0
    while tokens and dropped < 3 and re.sub(r"[^\w.]", "", tokens[0].lower()).strip(".") in words:
        tokens.pop(0)
        dropped += 1
    if not dropped:
        return text.strip()
    out = " ".join(tokens).lstrip(" ,.;:!?-")
    return out[:1].upper() + out[1:]


def check_models() -> dict[str, str]:
    """name -> "ok" or the one-line reason it cannot load (for `doctor`)."""
    result: dict[str, str] = {}
    for name in WAKE_WORDS:
        try:
            WakeWordDetector(WakeConfig(name=name)).close()
            result[name] = "ok"
        except WakeWordError as exc:
            result[name] = exc.message
    return result


def earcon(kind: str, rate: int = 22050) -> np.ndarray:
    """A short two-tone chime: rising on wake ("I'm listening"), falling on sleep.

    Generated, not a file, so nothing can be missing; 160 ms at -18 dBFS with 10 ms fades so it
    never clicks and stays well below speech level (it must not barge in on itself).
    """
    tones = (660.0, 880.0) if kind == "wake" else (880.0, 550.0)
    part = int(rate * 0.08)
    t = np.arange(part) / rate
    out = np.concatenate([np.sin(2 * np.pi * f * t) for f in tones]).astype(np.float32)
    fade = int(rate * 0.01)
    env = np.ones_like(out)
    env[:fade] = np.linspace(0.0, 1.0, fade)
    env[-fade:] = np.linspace(1.0, 0.0, fade)
    return (out * env * 10 ** (-18 / 20)).astype(np.float32)
