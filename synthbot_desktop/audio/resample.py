"""A small streaming resampler (numpy only), so capture and playback can run at the device's rate.

Devices open at their native rate (44.1/48 kHz) while Whisper and Silero want 16 kHz and TTS
engines deliver 16/22.05/24/44.1 kHz. The resampler keeps its state between blocks so that
resampling a stream block by block gives the same samples as resampling it in one go — no clicks
at block edges. Downsampling first applies a windowed-sinc low-pass so speech above the new
Nyquist frequency does not alias into the band Whisper listens to. Quality is "speech good",
which is all the app needs, without adding scipy or soxr.
"""

from __future__ import annotations

import numpy as np


def _lowpass_taps(cutoff: float, numtaps: int) -> np.ndarray:
    """Hamming-windowed sinc with ``cutoff`` in cycles per input sample (0 < cutoff < 0.5)."""
    n = np.arange(numtaps) - (numtaps - 1) / 2.0
    taps = 2.0 * cutoff * np.sinc(2.0 * cutoff * n) * np.hamming(numtaps)
    return (taps / taps.sum()).astype(np.float32)


class StreamResampler:
    """Resample a mono float32 stream from ``in_rate`` to ``out_rate`` block by block."""

    def __init__(self, in_rate: int, out_rate: int, *, numtaps: int = 63) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive (got {in_rate} -> {out_rate})")
        self.in_rate = int(in_rate)
        self.out_rate = int(out_rate)
        self._step = self.in_rate / self.out_rate
        self._taps: np.ndarray | None = None
        self._fir_state = np.zeros(0, dtype=np.float32)
        if self.out_rate < self.in_rate:
            self._taps = _lowpass_taps(0.5 * self.out_rate / self.in_rate * 0.92, numtaps)
            self._fir_state = np.zeros(numtaps - 1, dtype=np.float32)
        self._delay = (numtaps - 1) / 2.0 if self._taps is not None else 0.0
        self._tail = np.zeros(0, dtype=np.float32)
        self._pos = self._delay  # skip the filter's group delay so output stays time-aligned with input

    @property
    def passthrough(self) -> bool:
        return self.in_rate == self.out_rate

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample the next block; output length follows the rate ratio over the whole stream."""
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        if self.passthrough or x.size == 0:
            return x.copy() if self.passthrough else np.zeros(0, dtype=np.float32)
        if self._taps is not None:
            padded = np.concatenate([self._fir_state, x])
            self._fir_state = padded[-(len(self._taps) - 1):].copy()
            x = np.convolve(padded, self._taps, mode="valid").astype(np.float32)
        buf = np.concatenate([self._tail, x]) if self._tail.size else x
        last = len(buf) - 1
        if last < self._pos:
            self._tail = buf[-1:].copy()
            self._pos -= last
            return np.zeros(0, dtype=np.float32)
        count = int(np.floor((last - self._pos) / self._step)) + 1
        positions = self._pos + self._step * np.arange(count)
        out = np.interp(positions, np.arange(len(buf)), buf).astype(np.float32)
        self._pos = positions[-1] + self._step - last
        self._tail = buf[-1:].copy()
        return out

    def reset(self) -> None:
        """Forget the stream's history (after a stop, so the next item does not start with the last one's tail)."""
        self._fir_state = np.zeros_like(self._fir_state)
        self._tail = np.zeros(0, dtype=np.float32)
        self._pos = self._delay

    def flush(self) -> np.ndarray:
        """Push the filter's last samples out (end of a clip)."""
        if self._taps is None:
            return np.zeros(0, dtype=np.float32)
        return self.process(np.zeros(int(np.ceil(self._delay)) + 1, dtype=np.float32))


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """One-shot resampling of a whole mono clip."""
    if in_rate == out_rate:
        return np.asarray(samples, dtype=np.float32).reshape(-1)
    x = np.asarray(samples, dtype=np.float32).reshape(-1)
    r = StreamResampler(in_rate, out_rate)
    out = np.concatenate([r.process(x), r.flush()])
    want = round(len(x) * out_rate / in_rate)
    if len(out) < want:  # interpolation stops at the last input sample; hold it for the last few outputs
        out = np.concatenate([out, np.full(want - len(out), out[-1] if out.size else 0.0, dtype=np.float32)])
    return out[:want]
