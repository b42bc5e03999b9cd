"""Whisper repeating its prompt on a noise blip must not double a held turn's words."""

from __future__ import annotations

import asyncio

import numpy as np

from synthbot_desktop.pipeline.ports import Transcription
from synthbot_desktop.pipeline.prompt_echo import is_prompt_echo
from synthbot_desktop.pipeline.voice_loop import LoopConfig, VoiceLoop
from tests.support.loop_fakes import PushMic, ScriptedEndpointer, feed
from tests.support.turn_fakes import FakeChat, make


def test_whole_repetitions_of_the_prompt_tail_are_an_echo() -> None:
    assert is_prompt_echo("10 of close", "10 of close")
    assert is_prompt_echo("10 of close. 10 of close. 10 of close.", "What is it? 10 of close")
    assert is_prompt_echo("of close", "10 of close")


def test_new_words_a_single_word_or_no_prompt_are_not() -> None:
    assert not is_prompt_echo("10 of close, please", "10 of close")
    assert not is_prompt_echo("no", "no")  # a person repeating a word is a person
    assert not is_prompt_echo("10 of close", None)
    assert not is_prompt_echo("ten of spades", "10 of close")
    assert not is_prompt_echo("", "10 of close")


class EchoingSTT:
    """tiny.en's habit: the first piece is heard; a later blip comes back as the prompt's tail, twice."""

    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, audio: np.ndarray, *, language: str | None = None, prompt: str | None = None) -> Transcription:
        self.calls += 1
        text = "10 of close" if not prompt else "10 of close. 10 of close."
        return Transcription(text, "en", 0.9, len(audio) / 16000, "tiny.en")


def test_a_blip_during_the_end_of_turn_hold_does_not_double_the_turn() -> None:
    async def go() -> list[str]:
        engine, _out, rec, _events = make(chat=FakeChat(first_delay=0.01), stt=EchoingSTT())  # type: ignore[arg-type]
        mic = PushMic()
        # "10 of close" sounds unfinished (a verbless noun phrase) -> held; a blip arrives inside the hold
        script = {1: ["start"], 20: ["end:6400"], 25: ["start"], 28: ["end:960"]}
        cfg = LoopConfig(headphones=True, speculative=False, incomplete_hold_ms=400)
        loop = VoiceLoop(engine, mic, ScriptedEndpointer(script), config=cfg)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 28, until=lambda: bool(loop.results))
        loop.stop()
        await task
        return [m.content for u in rec.units for m in u.messages if getattr(m, "role", None) == "user"]

    assert asyncio.run(go()) == ["10 of close"]
