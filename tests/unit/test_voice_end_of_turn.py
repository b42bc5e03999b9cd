"""The voice shortens a MAYBE hold (issue #12): "Ten of clubs" that *sounds* finished is released
when the silence confirms it, not ``maybe_hold_ms`` later; one that does not keeps the hold.

Scripted endpointer and in-memory fakes as in test_speculative_turn; the end-of-turn model is a
stand-in with a fixed answer (tests/unit/test_turn_model.py runs the real one on real speech).
"""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from synthbot_desktop.pipeline.voice_loop import LoopConfig, VoiceLoop
from tests.support.loop_fakes import PushMic, ScriptedEndpointer, feed
from tests.support.turn_fakes import FakeChat, FakeSTT, make

HOLD_MS = 2000


class FixedVoice:
    """An end-of-turn model that always gives the same verdict (or fails), and counts its calls."""

    def __init__(self, complete: bool | None) -> None:
        self.complete, self.calls = complete, 0

    def is_complete(self, audio: np.ndarray) -> bool:
        self.calls += 1
        if self.complete is None:
            raise RuntimeError("onnxruntime went away")
        return self.complete


def _run(script: dict[int, list[str]], blocks: int, voice: FixedVoice | None, text: str = "Ten of clubs.",
         wait_s: float = 4.0) -> Any:
    async def go() -> Any:
        chat = FakeChat(reply="The ten of clubs it is.", first_delay=0.01)
        engine, out, rec, events = make(chat=chat, stt=FakeSTT(text, delay=0.01))
        mic = PushMic()
        cfg = LoopConfig(headphones=True, maybe_hold_ms=HOLD_MS, incomplete_hold_ms=5000)
        loop = VoiceLoop(engine, mic, ScriptedEndpointer(script), config=cfg, sink=events.append)
        loop.turn_model = voice
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, blocks, until=lambda: bool(loop.results))
        for _ in range(int(wait_s * 100)):  # the hold, when it stands, is real time
            if loop.results:
                break
            await asyncio.sleep(0.01)
        loop.stop()
        await task
        return loop, chat, out, rec
    return asyncio.run(go())


def test_a_finished_sounding_phrase_prepared_at_the_pause_plays_at_the_end_of_the_utterance() -> None:
    voice = FixedVoice(True)
    loop, chat, out, rec = _run({1: ["start"], 3: ["pause:960"], 6: ["end:960"]}, 7, voice)
    result = loop.results[0]
    assert result.transcript == "Ten of clubs." and out.pcm() != b"" and len(chat.calls) == 1
    assert voice.calls == 1 and loop.voice_said_complete == 1
    assert result.timings["first_sample_played"] < HOLD_MS / 2, result.timings  # before: >= 2000 ms
    assert [m.role for m in rec.units[0].messages] == ["user", "assistant"]


def test_a_finished_sounding_phrase_already_waiting_out_its_hold_is_released_at_once() -> None:
    """No pause event: the turn was prepared when the hold began (the confirmed path)."""
    voice = FixedVoice(True)
    loop, chat, out, _rec = _run({1: ["start"], 6: ["end:960"]}, 7, voice)
    assert loop.results[0].timings["first_sample_played"] < HOLD_MS / 2
    assert voice.calls == 1 and len(chat.calls) == 1 and out.pcm() != b""


def test_a_phrase_that_does_not_sound_finished_keeps_the_hold() -> None:
    voice = FixedVoice(False)
    loop, chat, _out, _rec = _run({1: ["start"], 3: ["pause:960"], 6: ["end:960"]}, 7, voice)
    assert voice.calls == 1 and loop.voice_said_incomplete == 1 and loop.voice_said_complete == 0
    assert loop.results[0].timings["first_sample_played"] >= HOLD_MS - 1
    assert len(chat.calls) == 1


def test_a_failing_model_costs_the_hold_never_the_turn() -> None:
    voice = FixedVoice(None)
    loop, _chat, out, _rec = _run({1: ["start"], 6: ["end:960"]}, 7, voice)
    assert voice.calls == 1 and out.pcm() != b""
    assert loop.results[0].timings["first_sample_played"] >= HOLD_MS - 1


def test_words_that_are_complete_or_surely_go_on_are_not_put_to_the_voice() -> None:
    complete = FixedVoice(True)
    loop, _c, _o, _r = _run({1: ["start"], 6: ["end:960"]}, 7, complete, text="What is the plan for today?")
    assert complete.calls == 0 and loop.results[0].timings["first_sample_played"] < HOLD_MS / 2
    dangling = FixedVoice(True)  # "... and the": UNFINISHED waits its own hold whatever the voice says
    _loop, _chat, _o, _r = _run({1: ["start"], 6: ["end:960"]}, 7, dangling, text="Put it on the", wait_s=0.5)
    assert dangling.calls == 0  # (stopping the loop then sends the held words: nothing is lost)
