"""PCM conversions and audio-file decoding, in one place so every caller fails the same way.

The rest of the app works on float32 mono arrays in [-1, 1]; TTS engines hand us raw PCM of
whatever width they like, and users hand us files of any common format. Converting here keeps
the capture, playback and STT code free of byte-twiddling, and gives one set of clear errors
for empty, corrupt or unsupported audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from synthbot_desktop.errors import AudioError

STT_RATE = 16_000
"""Whisper and Silero VAD both expect 16 kHz mono."""

SUPPORTED_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".webm", ".mp4", ".wma", ".aiff")


def pcm_to_float32(data: bytes, sample_width: int = 2, channels: int = 1) -> np.ndarray:
    """Little-endian signed PCM (8-bit unsigned, 16/24/32-bit signed) or 32-bit float (width 4
    is taken as int32; pass ``sample_width=-4`` for float32) -> float32 array shaped (frames, channels)."""
    if channels < 1:
        raise AudioError(f"invalid channel count {channels}")
    if sample_width == 1:
        arr = (np.frombuffer(data, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif sample_width == 2:
        arr = np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0
    elif sample_width == 3:
        raw = np.frombuffer(data[: len(data) - len(data) % 3], dtype=np.uint8).reshape(-1, 3)
        ints = (raw[:, 0].astype(np.int32) | (raw[:, 1].astype(np.int32) << 8) | (raw[:, 2].astype(np.int32) << 16))
        ints = np.where(ints >= 1 << 23, ints - (1 << 24), ints)
        arr = ints.astype(np.float32) / float(1 << 23)
    elif sample_width == 4:
        arr = (np.frombuffer(data, dtype="<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    elif sample_width == -4:
        arr = np.frombuffer(data, dtype="<f4").astype(np.float32)
    else:
        raise AudioError(f"unsupported PCM sample width {sample_width} bytes",
                         hint="use 8, 16, 24 or 32-bit PCM, or 32-bit float")
    usable = len(arr) - len(arr) % channels
    return arr[:usable].reshape(-1, channels)


def to_mono(frames: np.ndarray) -> np.ndarray:
    """Average the channels: a mono mix keeps speech from either side of a stereo mic."""
    if frames.ndim == 1:
        return frames.astype(np.float32, copy=False)
    if frames.shape[1] == 1:
        return frames[:, 0].astype(np.float32, copy=False)
    return frames.mean(axis=1, dtype=np.float32)


def float32_to_pcm16(samples: np.ndarray) -> bytes:
    """Clip and convert to 16-bit little-endian PCM (for WAV files and tests)."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def load_audio_file(path: str | Path, *, sample_rate: int = STT_RATE) -> np.ndarray:
    """Decode any common audio file to float32 mono at ``sample_rate``.

    PyAV (shipped with faster-whisper) decodes and resamples, so WAV, FLAC, MP3, OGG/Opus and
    M4A work without an ffmpeg binary. Every failure becomes an :class:`AudioError` naming the
    file, the cause and what to do about it.
    """
    p = Path(path)
    if not p.exists():
        raise AudioError(f"audio file not found: {p}", hint="check the path")
    if p.is_dir():
        raise AudioError(f"{p} is a folder, not an audio file", hint="pass an audio file (wav, flac, mp3, ogg)")
    if p.stat().st_size == 0:
        raise AudioError(f"audio file is empty (0 bytes): {p}", hint="record or export the file again")
    try:
        from faster_whisper.audio import decode_audio

        audio = decode_audio(str(p), sampling_rate=sample_rate)
    except FileNotFoundError:
        raise AudioError(f"audio file not found: {p}", hint="check the path") from None
    except PermissionError:
        raise AudioError(f"cannot read {p}: permission denied", hint="check the file's permissions") from None
    except Exception as exc:  # PyAV raises InvalidDataError/FFmpegError (ValueError subclasses) and others
        kind = "an unsupported format" if p.suffix.lower() not in SUPPORTED_SUFFIXES else "damaged or not audio"
        raise AudioError(
            f"cannot decode {p}: {kind} ({type(exc).__name__})",
            hint="use a common audio format: wav, flac, mp3, ogg, m4a",
        ) from None
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        raise AudioError(f"{p} contains no audio samples (zero length or damaged)",
                         hint="check that the file plays in a media player, then try again")
    return audio
