"""Echo canceller: reference timeline, ERLE on a simulated echo path, and failures that keep the mic."""

from __future__ import annotations

import numpy as np
import pytest

from synthbot_desktop.audio.echo import EchoCanceller, FarEndReference, choose_canceller
from synthbot_desktop.errors import AudioError


def _speechlike(seconds: float, seed: int = 1, f0: float = 140.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(16000 * seconds)
    t = np.arange(n) / 16000
    voiced = sum(np.sin(2 * np.pi * f0 * m * t) / k for k, m in enumerate((1, 2, 3, 6.5, 10.7), start=1))
    env = (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) * (rng.random(n // 1600 + 1).repeat(1600)[:n] > 0.2)
    return (0.2 * voiced * env + 0.01 * rng.normal(size=n)).astype(np.float32)


def test_the_reference_is_read_back_on_the_playback_timeline() -> None:
    ref = FarEndReference()
    x = np.arange(48000 * 1, dtype=np.float32) / 48000
    for i in range(0, len(x), 960):  # 20 ms blocks at 48 kHz handed over at t = 100 s + i/48000
        ref.push(x[i:i + 960], 48000, 100.0 + i / 48000)
    start = ref.index_at(100.25)
    assert start is not None and abs(start - 4000) <= 16  # within 1 ms (resampler start-up)
    got = ref.read(start, 160)
    assert got[80] == pytest.approx(0.25 + 80 / 16000, abs=0.01)
    assert not ref.read(start + 10 * 16000, 160).any()  # the future is silence


def test_erle_on_a_simulated_echo_path_and_near_speech_kept() -> None:
    aec = EchoCanceller()
    far = _speechlike(8.0)
    delay = int(0.06 * 16000)
    echo = np.zeros_like(far)
    echo[delay:] = 0.3 * far[:-delay]
    near_voice = np.zeros_like(far)
    near_voice[16000 * 6:16000 * 7] = _speechlike(1.0, seed=7, f0=205.0)
    out = []
    for i in range(0, len(far), 320):  # the speaker hands over block i at t=i/16000, the mic delivers it 20 ms later
        aec.reference.push(far[i:i + 320], 16000, 50.0 + i / 16000)
        out.append(aec.process(echo[i:i + 320] + near_voice[i:i + 320], 50.0 + (i + 320) / 16000))
    y = np.concatenate(out)
    tail = slice(16000 * 3, 16000 * 6)  # converged, echo only
    erle = 10 * np.log10(np.sum(echo[tail] ** 2) / np.sum(y[tail] ** 2))
    assert erle > 15, erle
    voice = slice(16000 * 6 + 800, 16000 * 7)
    kept = 10 * np.log10(np.sum(y[voice] ** 2) / np.sum(near_voice[voice] ** 2))
    assert kept > -6, kept  # the person's voice over the echo survives
    assert aec.stats.latency_s <= 0.01 and aec.error is None


def test_a_canceller_that_cannot_start_is_one_line() -> None:
    def broken(*_: object) -> object:
        raise RuntimeError("no SIMD")

    with pytest.raises(AudioError) as err:
        EchoCanceller(factory=broken)
    assert "echo canceller did not start" in err.value.one_line() and "\n" not in err.value.one_line()


def test_a_canceller_failing_while_running_hands_the_raw_audio_on() -> None:
    class Failing:
        def __init__(self, *_: object) -> None:
            pass

        def process(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
            raise RuntimeError("boom")

    aec = EchoCanceller(factory=Failing)
    x = np.full(320, 0.1, dtype=np.float32)
    assert np.array_equal(aec.process(x, 1.0), x)  # never a deaf microphone
    assert aec.error and "echo cancellation stopped" in aec.error and not aec.enabled
    assert np.array_equal(aec.process(x, 1.02), x)


def test_choice_follows_the_setting_and_headphones() -> None:
    assert choose_canceller("off", headphones=False).mode == "off"
    assert choose_canceller("auto", headphones=True).mode == "off"
    on = choose_canceller("on", headphones=True, input_device="vmic")
    assert on.mode == "webrtc" and on.canceller is not None


def test_an_underrun_gap_goes_into_the_reference() -> None:
    """A speaker block 60 ms late (an underrun: the device played silence) is filed 60 ms later,
    so the reference keeps the echo's timing instead of shifting every later sample by the gap."""
    ref = FarEndReference()
    x = np.full(960, 0.5, dtype=np.float32)
    for i in range(25):  # 0.5 s of 20 ms blocks at 48 kHz, on time
        ref.push(x * 0, 48000, 100.0 + i * 0.02)
    ref.push(x, 48000, 100.5 + 0.06)  # late by 60 ms
    start = ref.index_at(100.56)
    assert start is not None
    got = ref.read(start + 40, 160)  # a little in (resampler start-up), inside the late block
    assert np.all(np.abs(got - 0.5) < 0.05), got[:8]


def _feed(aec: EchoCanceller, far: np.ndarray, near: np.ndarray) -> None:
    for i in range(0, len(far), 320):
        aec.reference.push(far[i:i + 320], 16000, 50.0 + i / 16000)
        aec.process(near[i:i + 320], 50.0 + (i + 320) / 16000)


def test_the_speakers_echo_at_a_jumped_delay_is_recognised_and_a_voice_over_it_is_not() -> None:
    far = _speechlike(3.0)
    for lag_s in (0.0, 0.12, 0.3):  # the echo's delay after an underrun: anywhere in the searched range
        lag = int(lag_s * 16000)
        echo = np.zeros_like(far)
        echo[lag:] = 0.3 * far[:len(far) - lag]
        aec = EchoCanceller()
        _feed(aec, far, echo)
        assert aec.echo_correlation() > 0.9, lag_s
        assert aec.sounds_like_echo() and aec.vetoes == 1
    echo = np.zeros_like(far)
    echo[1600:] = 0.1 * far[:-1600]
    aec = EchoCanceller()
    _feed(aec, far, echo + _speechlike(3.0, seed=9, f0=210.0))  # a person 10 dB above the echo
    assert aec.echo_correlation() < 0.5
    assert not aec.sounds_like_echo()
    aec.enabled = False  # a canceller that stopped never holds a voice back
    _feed(aec, far, echo)
    assert not aec.sounds_like_echo()


def _run(aec: EchoCanceller, far: np.ndarray, near: np.ndarray) -> np.ndarray:
    out = []
    for i in range(0, len(far), 320):
        aec.reference.push(far[i:i + 320], 16000, 50.0 + i / 16000)
        out.append(aec.process(near[i:i + 320], 50.0 + (i + 320) / 16000))
    return np.concatenate(out)


def test_a_voice_over_the_reply_is_handed_on_whole_and_the_echo_never_is() -> None:
    """Double talk (found by the window's soak): AEC3 suppressed a person speaking over the reply
    along with the echo. A loud microphone signal unlike the reference at every lag is passed on raw;
    the speaker's own echo, at any delay in the searched range, never is."""
    far = _speechlike(6.0)
    for lag_s in (0.05, 0.3):
        lag = int(lag_s * 16000)
        echo = np.zeros_like(far)
        echo[lag:] = 0.3 * far[:len(far) - lag]
        aec = EchoCanceller()
        _run(aec, far, echo)
        assert aec.stats.double_talk_frames == 0, lag_s
    voice = np.zeros_like(far)
    voice[16000 * 3:16000 * 5] = _speechlike(2.0, seed=7, f0=205.0)
    aec = EchoCanceller()
    y = _run(aec, far, voice)  # no echo path at all (headphones not ticked, speaker far away)
    assert aec.stats.double_talk_frames > 100  # about 1.5 s of the 2 s voice
    heard = slice(16000 * 3 + 8000, 16000 * 5)  # after the first half second
    assert np.allclose(y[heard], voice[heard])
    assert not aec.stats.double_talk_frames * 160 > 2.4 * 16000  # the silence around it stays cancelled
    off = EchoCanceller()
    off.double_talk_pass = False
    _run(off, far, voice)
    assert off.stats.double_talk_frames == 0
