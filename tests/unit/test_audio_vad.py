"""Endpointing on real speech (jfk.flac) with the real bundled Silero model."""

from __future__ import annotations

import numpy as np
import pytest

from synthbot_desktop.audio.formats import STT_RATE, load_audio_file
from synthbot_desktop.audio.levels import measure
from synthbot_desktop.audio.vad import Endpointer, EndpointerConfig, SpeechEnd, SpeechStart, VadEvent
from tests.conftest import JFK

TOLERANCE_S = 0.150


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return load_audio_file(JFK)


def _noise(seconds: float, dbfs: float, seed: int = 0) -> np.ndarray:
    n = int(seconds * STT_RATE)
    return (10 ** (dbfs / 20) * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


def _run(ep: Endpointer, audio: np.ndarray, block: int = 320) -> list[VadEvent]:
    events: list[VadEvent] = []
    for i in range(0, len(audio), block):
        events.extend(ep.feed(audio[i:i + block]))
    return events + ep.flush()


def _energy_bounds(clip: np.ndarray, floor_db: float) -> tuple[float, float]:
    """First/last 10 ms frame more than 15 dB above the clip's own noise floor: the truth for a clean phrase."""
    frames = [measure(clip[i:i + 160]).rms_dbfs for i in range(0, len(clip) - 160, 160)]
    loud = [i for i, db in enumerate(frames) if db > floor_db + 15]
    return loud[0] * 0.01, (loud[-1] + 1) * 0.01


def test_boundaries_within_150ms_on_real_speech(jfk: np.ndarray) -> None:
    """Two phrases cut from jfk.flac, each placed in 1.5 s of background noise: start and end match."""
    floor = measure(jfk[:4000]).rms_dbfs  # the recording's own room noise before the first word
    phrases = [(0.0, 2.5), (4.5, 7.0)]  # "And so my fellow Americans", "ask not what your country can do for you"
    gap = _noise(1.5, floor, seed=3)
    parts, truth, cursor = [], [], 0.0
    for a, b in phrases:
        clip = jfk[int(a * STT_RATE):int(b * STT_RATE)]
        on, off = _energy_bounds(clip, floor)
        parts += [gap, clip]
        cursor += len(gap) / STT_RATE
        truth.append((cursor + on, cursor + off))
        cursor += len(clip) / STT_RATE
    parts.append(gap)
    stream = np.concatenate(parts)
    ep = Endpointer(EndpointerConfig(silence_ms=600, preroll_ms=300, min_speech_ms=200))
    events = _run(ep, stream)
    starts = [e for e in events if isinstance(e, SpeechStart)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(starts) == len(ends) == 2, events
    for (on, off), start, end in zip(truth, starts, ends, strict=True):
        assert abs(start.seconds - on) <= TOLERANCE_S, (start.seconds, on)
        assert end.start_sample == start.sample
        assert abs(end.end_seconds - off) <= TOLERANCE_S, (end.end_seconds, off)
        assert end.reason == "silence"
        # The utterance carries ~300 ms of pre-roll before the detected onset.
        assert (end.start_sample - end.audio_start_sample) == pytest.approx(0.3 * STT_RATE, abs=1)
        assert len(end.audio) >= end.end_sample - end.audio_start_sample  # pre-roll + speech (+ post-roll)


def test_events_do_not_depend_on_block_size(jfk: np.ndarray) -> None:
    audio = np.concatenate([_noise(1.0, -60), jfk, _noise(1.0, -60)])
    a = _run(Endpointer(), audio, block=320)
    b = _run(Endpointer(), audio, block=1000)
    assert [(type(e).__name__, getattr(e, "sample", getattr(e, "end_sample", None))) for e in a] == \
           [(type(e).__name__, getattr(e, "sample", getattr(e, "end_sample", None))) for e in b]


@pytest.mark.parametrize("kind", ["digital", "room_noise", "hum", "loud_noise"])
def test_silence_and_noise_never_trigger(kind: str) -> None:
    n = 20 * STT_RATE
    t = np.arange(n) / STT_RATE
    signal = {
        "digital": np.zeros(n, dtype=np.float32),
        "room_noise": _noise(20, -45),
        "hum": (0.05 * np.sin(2 * np.pi * 50 * t) + 0.02 * np.sin(2 * np.pi * 150 * t)).astype(np.float32),
        "loud_noise": _noise(20, -20, seed=7),
    }[kind]
    ep = Endpointer()
    assert _run(ep, signal) == []
    assert not ep.in_speech


def test_short_click_is_ignored_but_speech_is_not(jfk: np.ndarray) -> None:
    click = np.zeros(STT_RATE, dtype=np.float32)
    click[8000:8080] = 0.9
    assert _run(Endpointer(EndpointerConfig(min_speech_ms=200)), np.concatenate([click, click])) == []


def test_whole_jfk_with_long_silence_setting_is_one_utterance(jfk: np.ndarray) -> None:
    audio = np.concatenate([_noise(1.0, -60), jfk, _noise(2.5, -60)])
    events = _run(Endpointer(EndpointerConfig(silence_ms=1500)), audio)
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert len(ends) == 1 and ends[0].reason == "silence"
    assert 9.0 < ends[0].speech_seconds < 11.0


def test_default_silence_splits_at_the_pauses(jfk: np.ndarray) -> None:
    audio = np.concatenate([_noise(1.0, -60), jfk, _noise(1.0, -60)])
    ends = [e for e in _run(Endpointer(EndpointerConfig(silence_ms=600)), audio) if isinstance(e, SpeechEnd)]
    assert len(ends) >= 3  # JFK pauses for ~1 s between phrases


def test_max_utterance_cuts_long_speech(jfk: np.ndarray) -> None:
    events = _run(Endpointer(EndpointerConfig(silence_ms=2000, max_utterance_s=3.0)), jfk)
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert ends[0].reason == "max_length"
    assert ends[0].speech_seconds == pytest.approx(3.0, abs=0.05)


def test_flush_delivers_speech_in_progress(jfk: np.ndarray) -> None:
    ep = Endpointer(EndpointerConfig(silence_ms=1500))
    events = ep.feed(jfk[: 2 * STT_RATE])
    assert any(isinstance(e, SpeechStart) for e in events)
    flushed = ep.flush()
    assert len(flushed) == 1 and isinstance(flushed[0], SpeechEnd) and flushed[0].reason == "flush"


def test_threshold_changes_at_runtime(jfk: np.ndarray) -> None:
    ep = Endpointer()
    ep.set_threshold(0.99)  # "assistant is speaking": only very clear speech counts
    assert ep.threshold == 0.99
    assert _run(ep, np.concatenate([jfk[: 3 * STT_RATE], _noise(1, -60)])) == []
    ep.reset()
    ep.set_threshold(0.5)
    assert any(isinstance(e, SpeechStart) for e in _run(ep, jfk[: 3 * STT_RATE]))
    with pytest.raises(ValueError):
        ep.set_threshold(1.5)


class _SteadyVad:
    """A VAD that is always this sure (the veto, not the model, is under test)."""

    def __init__(self, prob: float) -> None:
        self.prob = prob

    def reset(self) -> None:
        pass

    def __call__(self, window: np.ndarray) -> float:
        return self.prob


def test_a_veto_holds_speech_back_only_while_a_confirm_threshold_is_set() -> None:
    """The echo check (EchoCanceller.sounds_like_echo) is asked while the assistant speaks; it keeps the
    candidate open, so speech starts as soon as the check lets it through, from the same onset."""
    verdicts = [True] * 20 + [False] * 100
    ep = Endpointer(EndpointerConfig(min_speech_ms=64), vad=_SteadyVad(0.95))  # type: ignore[arg-type]
    ep.veto = lambda: verdicts.pop(0)
    ep.set_confirm_threshold(0.8)
    events = ep.feed(np.zeros(512 * 10, dtype=np.float32))
    assert events == []  # vetoed: the assistant's own voice
    events = ep.feed(np.zeros(512 * 30, dtype=np.float32))
    starts = [e for e in events if isinstance(e, SpeechStart)]
    assert len(starts) == 1 and starts[0].sample == 0
    plain = Endpointer(EndpointerConfig(min_speech_ms=64), vad=_SteadyVad(0.95))  # type: ignore[arg-type]
    plain.veto = lambda: True  # without a confirm threshold (nobody is speaking) it is not asked
    assert any(isinstance(e, SpeechStart) for e in plain.feed(np.zeros(512 * 4, dtype=np.float32)))


def test_a_new_silence_length_applies_to_the_utterance_being_heard() -> None:
    """Issue #21 (one-hour soak): a silence length saved while listening reached only the next start.
    Reconfigured mid-utterance, 700 ms of silence no longer ends speech at 1500 ms, and the speech
    heard before the change is still part of the utterance."""
    vad = _SteadyVad(0.95)
    ep = Endpointer(EndpointerConfig(min_speech_ms=64, silence_ms=600), vad=vad)  # type: ignore[arg-type]
    window = 512  # 32 ms at 16 kHz
    starts = [e for e in ep.feed(np.zeros(window * 20, dtype=np.float32)) if isinstance(e, SpeechStart)]
    assert len(starts) == 1
    ep.reconfigure(EndpointerConfig(min_speech_ms=64, silence_ms=1500, threshold=0.4))
    assert ep.threshold == pytest.approx(0.4)  # the base threshold follows (nothing raised it)
    vad.prob = 0.0
    assert not [e for e in ep.feed(np.zeros(window * 22, dtype=np.float32)) if isinstance(e, SpeechEnd)]
    ends = [e for e in ep.feed(np.zeros(window * 28, dtype=np.float32)) if isinstance(e, SpeechEnd)]
    assert len(ends) == 1 and ends[0].start_sample == starts[0].sample


def test_reconfigure_keeps_a_threshold_raised_for_playback() -> None:
    ep = Endpointer(EndpointerConfig(threshold=0.5), vad=_SteadyVad(0.0))  # type: ignore[arg-type]
    ep.set_threshold(0.85)  # the assistant is speaking
    ep.reconfigure(EndpointerConfig(threshold=0.3))
    assert ep.threshold == pytest.approx(0.85) and ep.config.threshold == pytest.approx(0.3)
