"""Play a short PCM clip (voice preview, test tone) from a worker thread, never the GUI thread."""

from __future__ import annotations

import threading

import numpy as np

from synthbot_desktop.errors import AudioError


def tone(frequency: float = 440.0, seconds: float = 0.6, rate: int = 24000, level_dbfs: float = -12.0) -> np.ndarray:
    """A sine with 10 ms fades (no clicks), as float32 samples."""
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * frequency * t) * (10 ** (level_dbfs / 20))
    fade = min(len(wave) // 2, int(0.01 * rate))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        wave[:fade] *= ramp
        wave[-fade:] *= ramp[::-1]
    return wave.astype(np.float32)


def play_blocking(samples: np.ndarray, rate: int, device: str | int | None = None) -> float:
    """Play and wait until done; returns the clip length in seconds."""
    from synthbot_desktop.audio.devices import import_sounddevice

    sd = import_sounddevice()
    try:
        sd.play(samples, rate, device=device if device not in ("", None) else None, blocking=True)
    except Exception as exc:  # PortAudio errors have no common base class we can rely on
        raise AudioError(f"the speaker could not play sound ({exc})",
                         hint="choose another output device in Settings → Audio") from None
    return len(samples) / rate


def play_pcm16(pcm: bytes, rate: int, channels: int = 1, device: str | int | None = None) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        samples = samples.reshape(-1, channels)
    return play_blocking(samples, rate, device)


class Playback:
    """One clip on its own output stream that another thread can stop (the voice preview's Stop).

    ``sd.play`` shares one global stream and can only be stopped with ``sd.stop()``, which would also
    cut a test tone; a stream of our own stops just this clip, at the next audio block.
    """

    def __init__(self, samples: np.ndarray, rate: int, device: str | int | None = None) -> None:
        self.samples = samples.reshape(len(samples), -1) if samples.ndim == 1 else samples
        self.rate = rate
        self.device = device if device not in ("", None) else None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._pos = 0

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        self._stop.set()

    def play(self) -> float:
        """Play until the end or :meth:`stop`; returns the seconds actually played (blocking)."""
        from synthbot_desktop.audio.devices import import_sounddevice

        sd = import_sounddevice()
        samples = self.samples

        def callback(outdata: np.ndarray, frames: int, _time: object, _status: object) -> None:
            chunk = samples[self._pos: self._pos + frames]
            outdata[: len(chunk)] = chunk
            outdata[len(chunk):] = 0
            self._pos += len(chunk)
            if self._stop.is_set() or len(chunk) < frames:
                raise sd.CallbackStop

        if self._stop.is_set():
            return 0.0
        try:
            stream = sd.OutputStream(samplerate=self.rate, channels=samples.shape[1], dtype="float32",
                                     device=self.device, callback=callback, finished_callback=self._done.set)
        except Exception as exc:  # PortAudio errors have no common base class we can rely on
            raise AudioError(f"the speaker could not play sound ({exc})",
                             hint="choose another output device in Settings → Audio") from None
        with stream:
            self._done.wait(timeout=self.seconds + 10.0)
        return self._pos / self.rate


def pcm16_samples(pcm: bytes, channels: int = 1) -> np.ndarray:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
    return samples.reshape(-1, channels) if channels > 1 else samples
