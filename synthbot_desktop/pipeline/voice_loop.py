"""Hands-free conversation: microphone -> endpointer -> turns, with barge-in.

The microphone's dispatcher thread only hands blocks to the asyncio loop; the endpointer runs
there (Silero costs well under a millisecond per 32 ms window), so speech start can interrupt
the assistant in the same loop iteration. While the assistant speaks the VAD threshold is raised
(its own voice leaking from the speakers must not interrupt it) unless headphones are in use.
The utterance that interrupted is captured from its start: the endpointer keeps a pre-roll.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from synthbot_desktop.pipeline.events import EventSink, InputLevel, StateChanged, TurnState
from synthbot_desktop.pipeline.turn import TurnEngine, TurnResult, UserInput

log = logging.getLogger(__name__)
RATE = 16000


class Block(Protocol):
    samples: np.ndarray
    captured_at: float


@dataclass
class BargeIn:
    """One interruption: when speech was detected and when the speaker went silent."""

    detected_at: float
    stopped_at: float
    turn_task: asyncio.Task[TurnResult] | None


@dataclass
class LoopConfig:
    barge_in: bool = True
    headphones: bool = False
    threshold: float = 0.5
    threshold_during_playback: float = 0.85
    max_turns: int | None = None


class VoiceLoop:
    def __init__(self, engine: TurnEngine, mic: Any, endpointer: Any, *, config: LoopConfig | None = None,
                 sink: EventSink | None = None) -> None:
        self.engine = engine
        self.mic = mic
        self.endpointer = endpointer
        self.config = config or LoopConfig()
        self.sink = sink
        self.results: list[TurnResult] = []
        self.barge_ins: list[BargeIn] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[TurnResult]] = []
        self._fed = 0

    def stop(self) -> None:
        self._stop.set()

    def _set_threshold(self) -> None:
        cfg = self.config
        raised = self.engine.speaking and not cfg.headphones
        want = cfg.threshold_during_playback if raised else cfg.threshold
        if abs(self.endpointer.threshold - want) > 1e-9:
            self.endpointer.set_threshold(want)

    async def run(self) -> list[TurnResult]:
        loop = asyncio.get_running_loop()
        blocks: asyncio.Queue[Block] = asyncio.Queue()
        unsubscribe = self.mic.subscribe(lambda b: loop.call_soon_threadsafe(blocks.put_nowait, b))
        if self.sink:
            self.sink(StateChanged(TurnState.LISTENING))
        try:
            while not self._stop.is_set():
                get = asyncio.ensure_future(blocks.get())
                stop = asyncio.ensure_future(self._stop.wait())
                done, _ = await asyncio.wait({get, stop}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if get not in done:
                    get.cancel()
                    break
                self._on_block(get.result())
                if self.config.max_turns is not None and len(self.results) >= self.config.max_turns:
                    break
        finally:
            unsubscribe()
            await self.engine.aclose()
        return self.results

    def _on_block(self, block: Block) -> None:
        self._set_threshold()
        samples = block.samples
        self._fed += len(samples)
        if self.sink is not None and samples.size:
            peak = float(np.max(np.abs(samples)))
            rms = float(np.sqrt(np.mean(np.square(samples))))
            self.sink(InputLevel(20 * np.log10(max(rms, 1e-6)), 20 * np.log10(max(peak, 1e-6))))
        for event in self.endpointer.feed(samples):
            if hasattr(event, "audio"):
                self._on_speech_end(event, block)
            else:
                self._on_speech_start()

    def _on_speech_start(self) -> None:
        if self.sink:
            self.sink(StateChanged(TurnState.HEARING))
        if self.engine.busy and self.config.barge_in:
            detected = time.monotonic()
            task = self.engine._current
            self.engine.interrupt()  # silences the speaker first, then winds the turn down
            self.barge_ins.append(BargeIn(detected, time.monotonic(), task))
            log.info("barge-in: the user spoke while the assistant was answering")

    def _on_speech_end(self, event: Any, block: Block) -> None:
        now = time.monotonic()
        speech_end = block.captured_at - (self._fed - event.end_sample) / RATE
        task = self.engine.start_turn(UserInput(audio=event.audio, speech_end=speech_end, endpoint_detected=now))
        task.add_done_callback(self._collect)
        self._tasks.append(task)

    def _collect(self, task: asyncio.Task[TurnResult]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("turn failed: %s", exc)
            return
        self.results.append(task.result())
