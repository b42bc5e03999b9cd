"""Incremental MP3 → int16 PCM decoding with PyAV (already installed for faster-whisper).

MP3 is optional (PCM is the default because it plays without decoding); when a user picks it,
frames are decoded as they arrive so playback can still start on the first frame.
"""

from __future__ import annotations

import contextlib
from typing import Any

import av
import numpy as np


class Mp3Decoder:
    """Feed MP3 bytes, get mono int16 PCM at ``sample_rate`` back."""

    def __init__(self, sample_rate: int) -> None:
        self.sample_rate = sample_rate
        self._codec: Any = av.CodecContext.create("mp3", "r")
        self._resampler: Any = av.AudioResampler(format="s16", layout="mono", rate=sample_rate)
        self._head = b""  # bytes held back until a leading ID3 tag is known and skipped
        self._skip: int | None = None

    def _decode(self, packets: list[Any]) -> bytes:
        out: list[bytes] = []
        for packet in packets:
            try:
                frames = self._codec.decode(packet)
            except av.error.InvalidDataError:  # a damaged frame: skip it, keep the rest
                continue
            for frame in frames:
                for res in self._resampler.resample(frame):
                    out.append(np.asarray(res.to_ndarray(), dtype=np.int16).tobytes())
        return b"".join(out)

    def _strip_id3(self, data: bytes) -> bytes:
        """Drop an ID3v2 tag at the start (streams often begin with one; the parser chokes on it)."""
        if self._skip is None:
            self._head += data
            if len(self._head) < 10:
                return b""
            head, self._head = self._head, b""
            if head[:3] == b"ID3":
                size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
                self._skip = 10 + size + (10 if head[5] & 0x10 else 0)
            else:
                self._skip = 0
            data = head
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        return data

    def feed(self, data: bytes) -> bytes:
        data = self._strip_id3(data)
        return self._decode(self._codec.parse(data)) if data else b""

    def flush(self) -> bytes:
        if self._skip is None and self._head:  # fewer than 10 bytes in all
            self._skip, data, self._head = 0, self._head, b""
            self._codec.parse(data)
        pcm = self._decode(self._codec.parse(b""))
        with contextlib.suppress(av.error.EOFError, ValueError):
            pcm += self._decode([None])
        for res in self._resampler.resample(None):
            pcm += np.asarray(res.to_ndarray(), dtype=np.int16).tobytes()
        return pcm


def format_rate(output_format: str) -> int:
    """Sample rate encoded in an ElevenLabs output_format name (``pcm_24000``, ``mp3_44100_128``)."""
    parts = output_format.split("_")
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        raise ValueError(f"unknown output format {output_format!r}") from None
