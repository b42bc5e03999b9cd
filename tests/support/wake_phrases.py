"""Wake phrases and phrase-free speech spoken by the bundled Piper voice, for the wake-word tests.

Why Piper: the issue asks for phrases from a real TTS voice rather than a recording of one person;
varying Piper's speed (length_scale) and its noise gives ten different takes of the same phrase.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from synthbot_desktop.audio.resample import resample

RATE = 16000
# (length_scale, noise_scale, noise_w): slower, faster and more varied takes
TAKES = [(0.85, 0.667, 0.8), (0.9, 0.5, 0.6), (0.95, 0.8, 0.9), (1.0, 0.667, 0.8), (1.05, 0.4, 0.5),
         (1.1, 0.7, 0.9), (1.15, 0.667, 0.8), (1.2, 0.6, 0.7), (0.92, 0.9, 1.0), (1.08, 0.3, 0.3)]
PHRASE_FREE = [
    "Good morning, what is on my calendar for today?",
    "Please remind me to call the garage about the car at four.",
    "Hey there, could you tell me a joke about penguins?",
    "Jars of honey are on the top shelf in the kitchen.",
    "My craft project needs more glue and some paper.",
    "Okay, now open the notes from yesterday's meeting.",
    "Alex said the train leaves at half past nine.",
    "The weather in Lisbon is sunny with a light breeze.",
]


@lru_cache(maxsize=64)
def speak(text: str, length_scale: float = 1.0, noise_scale: float = 0.667, noise_w: float = 0.8) -> np.ndarray:
    """``text`` spoken by the bundled voice, float32 mono 16 kHz."""
    from synthbot_desktop.tts.piper_engine import PiperOptions, PiperSpeech

    speech = PiperSpeech(PiperOptions(noise_scale=noise_scale, noise_w=noise_w))
    pcm: list[bytes] = []
    speech.synthesize_blocking(text, lambda b: pcm.append(b) or True, length_scale=length_scale)
    x = np.frombuffer(b"".join(pcm), dtype=np.int16).astype(np.float32) / 32768.0
    return resample(x, speech.audio_format.sample_rate, RATE).astype(np.float32)


def phrase_takes(phrase: str, count: int = 10) -> list[np.ndarray]:
    return [speak(phrase, *TAKES[i % len(TAKES)]) for i in range(count)]


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(RATE * seconds), dtype=np.float32)
