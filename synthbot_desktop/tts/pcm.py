"""Small PCM helpers shared by the engines: sample alignment, WAV writing, resampling."""

from __future__ import annotations

import wave
from pathlib import Path
from types import TracebackType

import numpy as np

from synthbot_desktop.tts.base import AudioChunk, AudioFormat


class SampleAligner:
    """Re-chunks a byte stream so every chunk holds whole samples.

    HTTP chunk boundaries fall anywhere; handing a half sample to playback would shift every
    following sample by one byte (loud noise), so the odd byte waits for the next chunk.
    """

    def __init__(self, fmt: AudioFormat) -> None:
        self.format = fmt
        self._frame = fmt.sample_width * fmt.channels
        self._rest = b""

    def feed(self, data: bytes) -> bytes:
        data = self._rest + data
        cut = len(data) - len(data) % self._frame
        self._rest = data[cut:]
        return data[:cut]

    @property
    def leftover(self) -> int:
        return len(self._rest)


def resample_int16(pcm: bytes, src_rate: int, dst_rate: int) -> bytes:
    """Linear-interpolation resampling of mono int16 PCM (good enough for speech and tests)."""
    if src_rate == dst_rate or not pcm:
        return pcm
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    n_out = max(1, round(len(x) * dst_rate / src_rate))
    positions = np.linspace(0, len(x) - 1, n_out)
    y = np.interp(positions, np.arange(len(x)), x)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16).tobytes()


def duration_s(nbytes: int, fmt: AudioFormat) -> float:
    return nbytes / (fmt.sample_rate * fmt.sample_width * fmt.channels)


class WavWriter:
    """Writes chunks as they arrive, so a cut stream still leaves a valid WAV of what came."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._wav: wave.Wave_write | None = None
        self.format: AudioFormat | None = None
        self.bytes_written = 0

    def write(self, chunk: AudioChunk) -> None:
        if self._wav is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._wav = wave.open(str(self.path), "wb")  # noqa: SIM115 - kept open across write() calls
            self._wav.setnchannels(chunk.format.channels)
            self._wav.setsampwidth(chunk.format.sample_width)
            self._wav.setframerate(chunk.format.sample_rate)
            self.format = chunk.format
        elif chunk.format != self.format:
            assert self.format is not None
            chunk = AudioChunk(resample_int16(chunk.pcm, chunk.format.sample_rate, self.format.sample_rate),
                               self.format)
        self._wav.writeframes(chunk.pcm)
        self.bytes_written += len(chunk.pcm)

    def close(self) -> None:
        if self._wav is not None:
            self._wav.close()
            self._wav = None

    def __enter__(self) -> WavWriter:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
