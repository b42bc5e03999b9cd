"""PCM conversion, levels, resampling and file decoding (real PyAV decoder, real files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synthbot_desktop.audio.formats import float32_to_pcm16, load_audio_file, pcm_to_float32, to_mono
from synthbot_desktop.audio.levels import FLOOR_DBFS, is_silent, measure
from synthbot_desktop.audio.resample import StreamResampler, resample
from synthbot_desktop.errors import AudioError
from tests.conftest import JFK


def test_pcm16_roundtrip_and_stereo_layout() -> None:
    x = np.array([0.0, 0.5, -0.5, 0.999, -1.0], dtype=np.float32)
    back = pcm_to_float32(float32_to_pcm16(x), 2, 1)[:, 0]
    assert np.allclose(back, x, atol=1 / 32768 * 2)
    stereo = pcm_to_float32(np.array([1000, -1000, 2000, -2000], dtype="<i2").tobytes(), 2, 2)
    assert stereo.shape == (2, 2)
    assert np.allclose(to_mono(stereo), 0.0)


@pytest.mark.parametrize(("width", "raw", "expected"), [
    (1, bytes([128, 255, 0]), [0.0, 127 / 128, -1.0]),
    (3, (8388607).to_bytes(3, "little", signed=True) + (-8388608).to_bytes(3, "little", signed=True), [1.0, -1.0]),
    (4, np.array([2**30, -(2**31)], dtype="<i4").tobytes(), [0.5, -1.0]),
    (-4, np.array([0.25, -0.75], dtype="<f4").tobytes(), [0.25, -0.75]),
])
def test_pcm_widths(width: int, raw: bytes, expected: list[float]) -> None:
    assert np.allclose(pcm_to_float32(raw, width, 1)[:, 0], expected, atol=1e-6)


def test_pcm_bad_width_is_a_clear_error() -> None:
    with pytest.raises(AudioError, match="sample width 5"):
        pcm_to_float32(b"\0" * 10, 5)


def test_levels() -> None:
    assert measure(np.zeros(100, dtype=np.float32)).peak_dbfs == FLOOR_DBFS
    sine = np.sin(np.linspace(0, 200 * np.pi, 16000)).astype(np.float32)
    level = measure(sine)
    assert level.peak_dbfs == pytest.approx(0.0, abs=0.01)
    assert level.rms_dbfs == pytest.approx(-3.01, abs=0.05)
    assert is_silent(sine * 1e-4) and not is_silent(sine * 0.01)


def test_streaming_resampler_matches_one_shot_and_keeps_tone() -> None:
    rate_in, rate_out = 44100, 16000
    t = np.arange(rate_in) / rate_in
    x = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    whole = resample(x, rate_in, rate_out)
    assert len(whole) == rate_out
    r = StreamResampler(rate_in, rate_out)
    blocks = [r.process(b) for b in np.array_split(x, 97)]
    streamed = np.concatenate(blocks)
    assert np.allclose(streamed, whole[:len(streamed)], atol=1e-6)
    ref = np.sin(2 * np.pi * 440 * np.arange(rate_out) / rate_out)
    assert np.corrcoef(whole[100:-100], ref[100:-100])[0, 1] > 0.999  # time-aligned (group delay removed)


def test_downsampling_suppresses_aliases() -> None:
    """A 10 kHz tone cannot exist at 16 kHz; without the low-pass it would alias to 6 kHz at full level."""
    t = np.arange(48000) / 48000
    x = np.sin(2 * np.pi * 10000 * t).astype(np.float32)
    y = resample(x, 48000, 16000)
    assert measure(y[200:-200]).rms_dbfs < -30


def test_upsampling_length_and_shape() -> None:
    t = np.arange(22050) / 22050
    x = np.sin(2 * np.pi * 300 * t).astype(np.float32)
    y = resample(x, 22050, 48000)
    assert len(y) == 48000
    ref = np.sin(2 * np.pi * 300 * np.arange(48000) / 48000)
    assert np.corrcoef(y, ref)[0, 1] > 0.999


def test_load_real_flac() -> None:
    audio = load_audio_file(JFK)
    assert audio.dtype == np.float32 and len(audio) == pytest.approx(11 * 16000, abs=160)
    assert not is_silent(audio)


def test_load_wav_at_other_rate_is_resampled(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    sf.write(tmp_path / "tone.wav", 0.5 * np.sin(2 * np.pi * 440 * t), 44100, subtype="PCM_16")
    audio = load_audio_file(tmp_path / "tone.wav")
    assert len(audio) == pytest.approx(16000, abs=20)


@pytest.mark.parametrize(("name", "content", "match"), [
    ("missing.wav", None, "not found"),
    ("empty.wav", b"", "empty"),
    ("notes.txt", b"hello, this is not audio\n" * 10, "unsupported format"),
    ("random.flac", bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)), "no audio samples|damaged"),
])
def test_bad_files_give_clear_errors(tmp_path: Path, name: str, content: bytes | None, match: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AudioError, match=match) as info:
        load_audio_file(path)
    assert str(path) in info.value.message and info.value.hint


def test_zero_length_wav_and_folder(tmp_path: Path) -> None:
    sf.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio_file(tmp_path / "zero.wav")
    with pytest.raises(AudioError, match="folder"):
        load_audio_file(tmp_path)
