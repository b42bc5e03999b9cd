"""Play a short PCM clip (voice preview, test tone) from a worker thread, never the GUI thread."""

from __future__ import annotations

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
