"""Wake word: the bundled pymicro-wakeword models on Piper-spoken phrases, fed from memory.

The virtual-microphone test is in tests/integration/test_wake_word_pulse.py; this file feeds the
detector directly so five minutes of phrase-free speech cost seconds, not minutes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.audio.wake_word import (
    WAKE_WORDS,
    WakeConfig,
    WakeWordDetector,
    WakeWordError,
    check_models,
    cutoff_for,
    earcon,
    load_detector,
    strip_phrase,
)
from tests.conftest import JFK, SHARED
from tests.support.wake_phrases import PHRASE_FREE, phrase_takes, silence, speak

CORPUS = SHARED / "audio" / "corpus"


def _feed(detector: WakeWordDetector, audio: np.ndarray, block: int = 320) -> list[int]:
    return [d.sample for i in range(0, len(audio), block) for d in detector.feed(audio[i:i + block])]


def test_unknown_wake_word_is_one_clear_line() -> None:
    with pytest.raises(WakeWordError) as err:
        load_detector(WakeConfig(name="siri"))
    assert "unknown wake word 'siri'" in err.value.one_line() and "\n" not in err.value.one_line()
    assert load_detector(WakeConfig(name="none")) is None


def test_every_bundled_model_loads() -> None:
    assert check_models() == {name: "ok" for name in WAKE_WORDS}


def test_sensitivity_moves_the_cutoff_around_the_models_own() -> None:
    assert cutoff_for(0.97, 0.5) == pytest.approx(0.97)
    assert cutoff_for(0.97, 0.0) > 0.97 > cutoff_for(0.97, 1.0)


@pytest.mark.parametrize(("text", "out"), [
    ("Jarvis, what time is it?", "What time is it?"),
    ("Hey Jarvis. What is the weather?", "What is the weather?"),
    ("What time is it?", "What time is it?"),
    ("Jarvis.", ""),
])
def test_the_phrase_is_not_sent_on(text: str, out: str) -> None:
    assert strip_phrase(text, "hey_jarvis") == out


def test_earcons_are_short_quiet_and_differ() -> None:
    wake, sleep = earcon("wake"), earcon("sleep")
    assert len(wake) / 22050 < 0.2 and float(np.max(np.abs(wake))) < 0.15
    assert not np.allclose(wake, sleep)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(WAKE_WORDS))
def test_piper_phrases_wake_every_model(name: str) -> None:
    detector = WakeWordDetector(WakeConfig(name=name))
    woke = 0
    for take in phrase_takes(WAKE_WORDS[name] + ".", 10):
        detector.reset()
        woke += bool(_feed(detector, np.concatenate([silence(0.5), take, silence(0.7)])))
    assert woke >= 9, f"{name}: {woke}/10"


@pytest.mark.slow
def test_one_phrase_wakes_once_and_the_refractory_period_holds() -> None:
    detector = WakeWordDetector(WakeConfig(name="hey_jarvis", refractory_s=2.0))
    take = speak("Hey Jarvis.")
    # twice 0.3 s apart: the second falls in the refractory period; a third 3 s later counts again
    audio = np.concatenate([silence(0.5), take, silence(0.3), take, silence(3.0), take, silence(0.7)])
    hits = _feed(detector, audio)
    assert len(hits) == 2, hits
    assert hits[1] - hits[0] > 2.0 * 16000


def _phrase_free_audio() -> tuple[np.ndarray, float]:
    """>= 5 minutes: the real corpus and jfk.flac (as is, and quieter under noise), Piper speech
    without the phrases (some near misses: "Hey there", "Jars", "craft", "Okay", "Alex") and noise."""
    clips = [load_audio_file(p) for p in sorted(CORPUS.glob("*.wav")) + sorted(CORPUS.glob("*.flac")) + [Path(JFK)]]
    rng = np.random.default_rng(15)
    parts: list[np.ndarray] = []
    for clip in clips:
        parts += [clip, silence(0.3)]
    for clip in clips:  # again, 6 dB quieter in pink-ish noise at -40 dBFS
        noise = np.cumsum(rng.normal(0, 1, len(clip))).astype(np.float32)
        noise -= np.convolve(noise, np.ones(64) / 64, mode="same")
        noise *= 0.01 / max(1e-9, float(np.sqrt(np.mean(noise ** 2))))
        parts += [0.5 * clip + noise, silence(0.3)]
    for i, text in enumerate(PHRASE_FREE):
        parts += [speak(text, 0.9 + 0.05 * i), silence(0.4)]
    parts.append(rng.normal(0, 0.02, 16000 * 20).astype(np.float32))  # 20 s of white noise
    audio = np.concatenate(parts).astype(np.float32)
    return audio, len(audio) / 16000


@pytest.mark.slow
def test_no_false_wakes_over_five_minutes_of_phrase_free_speech_and_noise() -> None:
    audio, seconds = _phrase_free_audio()
    assert seconds >= 300, seconds
    for name in WAKE_WORDS:
        detector = WakeWordDetector(WakeConfig(name=name))
        hits = _feed(detector, audio)
        assert hits == [], f"{name} woke at {[round(h / 16000, 1) for h in hits]} s of {seconds:.0f} s"
