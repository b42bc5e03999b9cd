"""Turn engine with in-memory fakes: pipelining, barge-in, failures, races, persistence units."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from synthbot_desktop.errors import ErrorKind
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.pipeline.events import AssistantDone, ErrorEvent, StateChanged, TurnState
from synthbot_desktop.pipeline.turn import UserInput
from tests.support.turn_fakes import AUDIO, REPLY, FakeChat, FakeSpeech, FakeSTT, make


def test_full_turn_is_pipelined_timed_and_stored_as_one_unit() -> None:
    engine, _out, rec, events = make(speech=FakeSpeech(delay=0.01), realtime=False)
    result = asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    assert result.transcript == "what is the plan"
    assert result.reply == REPLY and result.full_reply == REPLY and not result.interrupted
    t = result.timings
    order = ["speech_end", "transcript_ready", "first_token", "first_chunk", "first_audio_byte", "first_sample_played"]
    assert [t[k] for k in order] == sorted(t[k] for k in order)
    assert t["first_sample_played"] < t["llm_done"]  # speaking began long before the reply was complete
    assert len(rec.units) == 1
    unit = rec.units[0]
    assert [m.role for m in unit.messages] == ["user", "assistant"]
    user, assistant = unit.messages
    assert user.stt_model == "tiny.en" and user.audio_duration_s == 1.0 and assistant.tokens_out == len(REPLY.split())
    providers = [u.provider for u in unit.usage]
    # Each row is made when its call ends (the LLM's when its stream ends, before the last chunk is spoken).
    assert providers[0] == "local-whisper" and providers.count("fakechat") == 1 and "fakespeech" in providers
    assert unit.usage[0].audio_seconds == 1.0
    assert all(u.session_id == 7 for u in unit.usage)
    assert engine.conversation.history[-2:] == [ChatMessage("user", "what is the plan"), ChatMessage("assistant", REPLY)]
    states = [e.state for e in events if isinstance(e, StateChanged)]
    assert states[:3] == [TurnState.TRANSCRIBING, TurnState.THINKING, TurnState.SPEAKING] and states[-1] is TurnState.IDLE


def test_synthesis_overlaps_the_llm_stream() -> None:
    chat = FakeChat(per_token=0.02)
    engine, _out, _rec, _ = make(chat=chat, realtime=False)
    result = asyncio.run(engine.run_turn(UserInput(text="hi")))
    # the first TTS request was made while the LLM was still streaming
    assert result.timings["first_audio_byte"] < result.timings["llm_done"] - 200
    assert len(engine.speech.requests) >= 3  # type: ignore[union-attr]
    assert engine.speech.requests[1].previous_text == engine.speech.requests[0].text  # type: ignore[union-attr]


def test_barge_in_stops_playback_and_stores_the_spoken_prefix() -> None:
    engine, out, rec, events = make(chat=FakeChat(per_token=0.001))

    async def scenario() -> None:
        task = engine.start_turn(UserInput(text="tell me the plan"))
        while out.seconds_played() < 2.0:  # the first chunk is 1.7 s long: we are into the second
            await asyncio.sleep(0.01)
        assert engine.speaking
        engine.interrupt()
        result = await task
        assert result.interrupted
        assert out.stop_calls >= 1
        first = "Sure, here is the plan for today."
        assert result.reply.startswith(first) and len(result.reply) < len(REPLY)
        assert result.full_reply == REPLY
        assert REPLY.startswith(result.reply)

    asyncio.run(scenario())
    msg = rec.units[0].messages[1]
    assert msg.interrupted and msg.content != msg.full_content and msg.audio_duration_s is not None
    assert 2.0 <= msg.audio_duration_s < 2.5
    done = next(e for e in events if isinstance(e, AssistantDone))
    assert done.interrupted and done.text == msg.content


def test_llm_fails_mid_turn_answer_so_far_kept_and_session_continues() -> None:
    engine, _out, rec, events = make(chat=FakeChat(fail_after=10), realtime=False)
    result = asyncio.run(engine.run_turn(UserInput(text="plan?")))
    assert result.error and "overloaded" in result.error
    assert result.full_reply == " ".join(REPLY.split(" ")[:10]) + " "
    assert result.reply.startswith("Sure, here is the plan for today.")
    assert any(isinstance(e, ErrorEvent) and e.kind == "unavailable" for e in events)
    msg = rec.units[0].messages[1]
    assert msg.error and msg.content == result.reply
    llm_usage = next(u for u in rec.units[0].usage if u.endpoint == "chat")
    assert not llm_usage.success and llm_usage.error_kind == "unavailable" and llm_usage.status_code == 529
    engine.chat = FakeChat()  # the session goes on
    second = asyncio.run(engine.run_turn(UserInput(text="again")))
    assert second.reply == REPLY and len(rec.units) == 2


def test_tts_failure_keeps_text_shown_and_stored() -> None:
    engine, _out, rec, events = make(speech=FakeSpeech(fail_on=1), realtime=False)
    result = asyncio.run(engine.run_turn(UserInput(text="plan?")))
    assert result.tts_error and "quota" in result.tts_error
    assert result.reply == REPLY  # text-only from the failure on: still the full reply
    assert any(isinstance(e, ErrorEvent) and e.kind is ErrorKind.TTS for e in events)  # an enum member, not a free string
    failed = [u for u in rec.units[0].usage if u.provider == "fakespeech" and not u.success]
    assert len(failed) == 1 and failed[0].status_code == 401
    assert len(engine.speech.requests) == 2  # type: ignore[union-attr]  # no retries on every chunk


def test_silence_means_no_llm_call() -> None:
    chat = FakeChat()
    engine, _out, rec, _ = make(chat=chat, stt=FakeSTT(text="  "))
    result = asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    assert result.skipped and chat.calls == []
    assert len(rec.units) == 1 and rec.units[0].messages == [] and rec.units[0].usage[0].provider == "local-whisper"


def test_racing_turns_never_overlap() -> None:
    chat = FakeChat(per_token=0.01)
    engine, _out, rec, _ = make(chat=chat, realtime=False)

    async def scenario() -> None:
        first = engine.start_turn(UserInput(text="one"))
        await asyncio.sleep(0.15)
        second = engine.start_turn(UserInput(text="two"))
        r1, r2 = await asyncio.gather(first, second)
        assert r1.interrupted and not r2.interrupted

    asyncio.run(scenario())
    assert [u.messages[0].content for u in rec.units] == ["one", "two"]
    # the second request saw the first turn (as heard) in its context
    assert [m.content for m in chat.calls[1]][:1] == ["one"]


def test_app_closed_mid_turn_stores_whole_turn_and_cancels_streams() -> None:
    chat = FakeChat(per_token=0.05)
    engine, _out, rec, _ = make(chat=chat)

    async def scenario() -> None:
        engine.start_turn(UserInput(text="long one"))
        await asyncio.sleep(0.3)
        await engine.aclose()

    asyncio.run(scenario())
    assert chat.cancelled
    assert len(rec.units) == 1 and len(rec.units[0].messages) == 2
    assert rec.units[0].messages[1].interrupted


def test_outer_cancellation_still_writes_the_turn() -> None:
    engine, _out, rec, _ = make(chat=FakeChat(per_token=0.05))

    async def scenario() -> None:
        task = engine.start_turn(UserInput(text="x"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    assert len(rec.units) == 1 and rec.units[0].messages[1].interrupted


def test_context_prompt_and_history_feed_the_next_turn() -> None:
    stt = FakeSTT()
    engine, _, _, _ = make(stt=stt, realtime=False)
    engine.conversation.history += [ChatMessage("assistant", "orphan"), ChatMessage("user", "earlier"),
                                    ChatMessage("assistant", "answer")]
    asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    sent = engine.chat.calls[0]  # type: ignore[attr-defined]
    assert [m.content for m in sent] == ["earlier", "answer", "what is the plan"]


def test_usage_rows_carry_speech_model_and_costs() -> None:
    """Local STT is a known zero; ElevenLabs chunks are priced by characters with the model that spoke;
    a chunk the fallback spoke with Piper is a known zero too."""
    from decimal import Decimal

    from synthbot_desktop.pricing import load_prices

    class Options:
        model_id = "eleven_flash_v2_5"

    class ElevenLike(FakeSpeech):
        name = "elevenlabs"
        options = Options()

    speech = ElevenLike(delay=0.0)
    engine, _out, rec, _events = make(speech=speech, realtime=False)
    engine.config = dataclasses.replace(engine.config, prices=load_prices(None))
    asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    usage = rec.units[0].usage
    stt = usage[0]
    assert stt.provider == "local-whisper" and stt.cost_usd == Decimal(0)
    tts = [u for u in usage if u.provider == "elevenlabs"]
    assert tts and all(u.model == "eleven_flash_v2_5" for u in tts)
    expected = load_prices(None).characters_cost("elevenlabs", "eleven_flash_v2_5", tts[0].characters)
    assert expected is not None and expected > 0 and tts[0].cost_usd == expected

    class Piperish:
        class options:
            voice = "joe-us"

    speech.last_engine = "piper"  # type: ignore[attr-defined]  # what FallbackSpeech reports
    speech.secondary = Piperish()  # type: ignore[attr-defined]
    engine2, _o, rec2, _e = make(speech=speech, realtime=False)
    asyncio.run(engine2.run_turn(UserInput(audio=AUDIO)))
    piper_rows = [u for u in rec2.units[0].usage if u.endpoint == "text-to-speech"]
    assert piper_rows and all(u.provider == "piper" and u.model == "joe-us" and u.cost_usd == Decimal(0)
                              for u in piper_rows)
