"""A scripted endpointer and a push microphone for exact, machine-speed-independent VoiceLoop tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbot_desktop.audio.vad import SpeechEnd, SpeechPause, SpeechStart
from synthbot_desktop.pipeline.voice_loop import VoiceLoop

BLOCK = 320


@dataclass
class Block:
    samples: np.ndarray
    captured_at: float


class ScriptedEndpointer:
    """Returns the given events when the n-th block is fed (n counted from 1)."""

    def __init__(self, script: dict[int, list[str]]) -> None:
        self.script, self.n, self.in_speech = script, 0, False
        self.threshold, self.confirm_threshold = 0.5, None
        self.silent_ms = 0.0
        self._start_n = 0

    def utterance_so_far(self) -> np.ndarray | None:
        return np.zeros((self.n - self._start_n) * BLOCK, dtype=np.float32) if self.in_speech else None

    def set_threshold(self, t: float) -> None:
        self.threshold = t

    def set_confirm_threshold(self, t: float | None) -> None:
        self.confirm_threshold = t

    def feed(self, samples: np.ndarray) -> list[Any]:
        self.n += 1
        events: list[Any] = []
        end = self.n * BLOCK
        audio = np.zeros(end, dtype=np.float32)
        for name in self.script.get(self.n, []):
            if name == "start":
                self.in_speech, self._start_n = True, self.n
                events.append(SpeechStart(end))
            elif name.startswith("pause"):
                self.in_speech = False
                events.append(SpeechPause(audio, 0, int(name.split(":")[1]), 0))
            elif name.startswith("end"):
                self.in_speech = False
                events.append(SpeechEnd(audio, 0, int(name.split(":")[1]), 0, "silence"))
        return events


class PushMic:
    def __init__(self) -> None:
        self.callback: Callable[[Any], None] | None = None

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        self.callback = callback
        return lambda: None


async def feed(loop: VoiceLoop, mic: PushMic, blocks: int, *, until: Callable[[], bool] | None = None) -> None:
    for _ in range(100):  # let run() subscribe
        if mic.callback is not None:
            break
        await asyncio.sleep(0.01)
    for _ in range(blocks):
        assert mic.callback is not None
        mic.callback(Block(np.zeros(BLOCK, dtype=np.float32), asyncio.get_running_loop().time()))
        await asyncio.sleep(0.01)
    if until is not None:
        for _ in range(1000):
            if until():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("condition never met")
