"""Speculative turn start: at a short pause the turn already asks the model, but nothing is heard or
stored until the silence confirms the end of the utterance; if the user goes on, it is withdrawn.

A scripted endpointer (the events a real one sends, at chosen blocks) and in-memory fakes make the
order of events exact, so these checks do not depend on the machine's speed."""

from __future__ import annotations

import asyncio
from typing import Any

from synthbot_desktop.pipeline.events import AssistantDone, TurnRetracted
from synthbot_desktop.pipeline.voice_loop import LoopConfig, VoiceLoop
from tests.support.loop_fakes import PushMic, ScriptedEndpointer, feed
from tests.support.turn_fakes import FakeChat, FakeSTT, make


def _setup(script: dict[int, list[str]], text: str = "What is the plan for today?") -> tuple[Any, ...]:
    chat = FakeChat(reply="Walk to the park. Then lunch.", first_delay=0.02)
    engine, out, rec, events = make(chat=chat, stt=FakeSTT(text, delay=0.01))
    mic = PushMic()
    loop = VoiceLoop(engine, mic, ScriptedEndpointer(script), config=LoopConfig(headphones=True), sink=events.append)
    return loop, engine, chat, out, rec, events, mic


def test_confirmed_speculative_turn_asked_the_model_before_the_end_and_plays_after_it() -> None:
    async def go() -> None:
        loop, engine, chat, out, rec, events, mic = _setup({1: ["start"], 3: ["pause:960"], 40: ["end:960"]})
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 39, until=lambda: bool(chat.calls))
        # The model was asked during the pause, yet nothing is played or stored before the end.
        assert len(chat.calls) == 1 and engine.busy
        await asyncio.sleep(0.2)
        assert out.pcm() == b"" and rec.units == [] and not any(isinstance(e, AssistantDone) for e in events)
        await feed(loop, mic, 1, until=lambda: bool(loop.results))
        loop.stop()
        await task
        result = loop.results[0]
        assert result.transcript == "What is the plan for today?" and result.reply and not result.interrupted
        assert out.pcm() != b""
        assert (loop.speculative_turns_used, loop.speculative_turns_dropped) == (1, 0)
        assert len(chat.calls) == 1  # no second request at the end of speech
        assert [m.role for m in rec.units[0].messages] == ["user", "assistant"]
        t = result.timings
        assert t["first_token"] < t["endpoint_detected"] <= t["first_sample_played"], t
    asyncio.run(go())


def test_user_goes_on_the_speculative_turn_is_withdrawn_unheard_usage_kept() -> None:
    async def go() -> None:
        loop, _engine, chat, _out, rec, events, mic = _setup(
            {1: ["start"], 3: ["pause:960"], 30: ["start"], 33: ["pause:10560"], 60: ["end:10560"]})
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 29, until=lambda: bool(chat.calls))
        await feed(loop, mic, 31, until=lambda: bool(loop.results))
        loop.stop()
        await task
        assert loop.speculative_turns_dropped == 1 and len(loop.retracted) == 1
        assert any(isinstance(e, TurnRetracted) for e in events)
        # one answered turn, with the transcript once (not the withdrawn words repeated)
        assert [r.transcript for r in loop.results] == ["What is the plan for today?"]
        stored = [m for u in rec.units for m in u.messages]
        assert [m.role for m in stored] == ["user", "assistant"]
        withdrawn_usage = [u for unit in rec.units if not unit.messages for u in unit.usage]
        assert any(u.provider == "fakechat" for u in withdrawn_usage)  # the tokens it spent are still usage
    asyncio.run(go())


def test_unfinished_sounding_words_do_not_start_a_turn_at_the_pause() -> None:
    async def go() -> None:
        loop, _engine, chat, _out, _rec, _events, mic = _setup({1: ["start"], 3: ["pause:960"]}, text="Tell me about the")
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 30)
        assert chat.calls == [] and loop.speculative_turns_used == 0
        loop.stop()
        await task
    asyncio.run(go())


def test_setting_off_means_no_request_before_the_end() -> None:
    async def go() -> None:
        loop, _engine, chat, _out, _rec, _events, mic = _setup({1: ["start"], 3: ["pause:960"], 30: ["end:960"]})
        loop.config.speculative_turn = False
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 29)
        assert chat.calls == []
        await feed(loop, mic, 1, until=lambda: bool(loop.results))
        loop.stop()
        await task
        assert len(chat.calls) == 1 and loop.speculative_hits == 1
    asyncio.run(go())


class SequenceSTT:
    """Returns the given transcripts in order (the last one again after that)."""

    def __init__(self, *texts: str) -> None:
        self.texts, self.calls = list(texts), 0

    def transcribe(self, audio: Any, *, language: str | None = None, prompt: str | None = None) -> Any:
        from synthbot_desktop.pipeline.ports import Transcription

        text = self.texts[min(self.calls, len(self.texts) - 1)]
        self.calls += 1
        return Transcription(text, "en", 0.9, len(audio) / 16000, "tiny.en")


def _maybe_setup(script: dict[int, list[str]], stt: Any, hold_ms: int) -> tuple[Any, ...]:
    chat = FakeChat(reply="The ten of clubs it is.", first_delay=0.01)
    engine, out, rec, events = make(chat=chat, stt=stt)
    mic = PushMic()
    cfg = LoopConfig(headphones=True, maybe_hold_ms=hold_ms, incomplete_hold_ms=5000)
    loop = VoiceLoop(engine, mic, ScriptedEndpointer(script), config=cfg, sink=events.append)
    return loop, chat, out, rec, mic


def test_a_maybe_finished_answer_is_prepared_at_the_pause_and_played_after_the_short_hold() -> None:
    """'Ten of clubs' (a verbless phrase) waits the short hold, not the 5 s one, and the model was
    already asked at the pause, so the reply is ready when the hold ends."""
    async def go() -> None:
        loop, chat, out, rec, mic = _maybe_setup({1: ["start"], 3: ["pause:960"], 6: ["end:960"]},
                                                 SequenceSTT("Ten of clubs."), hold_ms=400)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 6, until=lambda: bool(chat.calls))
        assert len(chat.calls) == 1 and out.pcm() == b""  # asked already; the utterance ended; still held
        spec = loop._spec_turn
        assert spec is not None and spec.confirmed
        await feed(loop, mic, 1, until=lambda: bool(loop.results))
        loop.stop()
        await task
        result = loop.results[0]
        assert result.transcript == "Ten of clubs." and out.pcm() != b"" and len(chat.calls) == 1
        assert result.timings["first_sample_played"] >= 399.0  # ms after the last word: never before the hold
        assert (loop.speculative_turns_used, loop.speculative_turns_dropped) == (1, 0)
        assert [m.role for m in rec.units[0].messages] == ["user", "assistant"]
    asyncio.run(go())


def test_speaking_again_during_the_short_hold_withdraws_it_and_keeps_the_first_words() -> None:
    async def go() -> None:
        script = {1: ["start"], 3: ["pause:960"], 6: ["end:960"], 12: ["start"], 15: ["pause:4800"],
                  22: ["end:4800"]}
        stt = SequenceSTT("Ten of clubs", "Actually, make it the queen of hearts.")
        loop, _chat, _out, rec, mic = _maybe_setup(script, stt, hold_ms=3000)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 22, until=lambda: bool(loop.results))
        loop.stop()
        await task
        assert loop.speculative_turns_dropped == 1
        assert [r.transcript for r in loop.results] == ["Ten of clubs Actually, make it the queen of hearts."]
        users = [m.content for u in rec.units for m in u.messages if m.role == "user"]
        assert users == ["Ten of clubs Actually, make it the queen of hearts."]
    asyncio.run(go())


def test_a_breath_during_the_short_hold_releases_the_prepared_reply_without_asking_again() -> None:
    """Seen in the v2v benchmark: a breath a second after "Ten of clubs" (no pause event before the
    end, so the turn was not prepared at a pause) withdrew nothing yet cost the breath, the silence
    after it and a fresh LLM request. Now the reply is prepared when the hold starts; the breath,
    which Whisper hears as nothing, leaves it to be released when the hold ends, asked once."""
    async def go() -> None:
        script = {1: ["start"], 6: ["end:960"], 9: ["start"], 12: ["end:1920"]}
        stt = SequenceSTT("Ten of clubs", "")
        loop, chat, out, rec, mic = _maybe_setup(script, stt, hold_ms=3000)
        task = asyncio.create_task(loop.run())
        await feed(loop, mic, 8, until=lambda: bool(chat.calls))
        assert len(chat.calls) == 1 and out.pcm() == b""  # asked during the hold, nothing heard yet
        await feed(loop, mic, 4, until=lambda: bool(loop.results))
        loop.stop()
        await task
        assert [r.transcript for r in loop.results] == ["Ten of clubs"] and out.pcm() != b""
        assert len(chat.calls) == 1 and loop.speculative_turns_dropped == 0
        # a breath is not words: the hold still counts from the last word, and ends as planned
        assert 2999.0 <= loop.results[0].timings["first_sample_played"] < 4000
        assert [m.role for m in rec.units[0].messages] == ["user", "assistant"]
    asyncio.run(go())


def test_reconfigure_takes_new_holds_and_keeps_what_the_loop_found_out() -> None:
    loop, *_ = _setup({})
    loop.config.echo_cancelled, loop.config.max_turns = True, 3
    loop.reconfigure(LoopConfig(maybe_hold_ms=900, incomplete_hold_ms=2000, barge_in=False))
    assert (loop.config.maybe_hold_ms, loop.config.incomplete_hold_ms, loop.config.barge_in) == (900, 2000, False)
    assert loop.config.echo_cancelled and loop.config.max_turns == 3
