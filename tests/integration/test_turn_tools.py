"""Tools in spoken turns (the engine `talk` and the window build through services.conversation):
the real OpenAI provider against a scripted local server, the real database and recorder; speech
is an in-memory engine so the spoken filler and the words heard can be checked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.pipeline.events import Event, ToolDone, ToolRunning
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from synthbot_desktop.pipeline.turn import TurnEngine, UserInput
from synthbot_desktop.services.conversation import chat_for, open_conversation, plan_conversation
from synthbot_desktop.services.voice import VoiceChoice
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage
from synthbot_desktop.tools.registry import Tool, ToolRegistry
from synthbot_desktop.tts.base import AudioChunk, AudioFormat, SpeechRequest
from tests.support.fake_http import FakeServer
from tests.support.fake_tools_llm import install_script

FMT = AudioFormat(16000)
EMPTY = {"type": "object", "properties": {}, "additionalProperties": False}


class TextSpeech:
    """0.02 s of audio per character; remembers what it was asked to say."""

    name = "memspeech"

    def __init__(self) -> None:
        self.said: list[str] = []

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        self.said.append(request.text)
        await asyncio.sleep(0.005)
        yield AudioChunk(b"\x01\x00" * int(len(request.text) * 0.02 * FMT.sample_rate), FMT)

    async def aclose(self) -> None:
        return None


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def app(ctx: Any, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    ctx.keystore.set("openai", "sk-proj-TURNtoolsKEY0123456789abcdef")
    monkeypatch.setattr(ctx.settings, "provider_base_url", lambda _p: server.url + "/v1")
    return ctx


async def _engine(ctx: Any, events: list[Event], tools: list[Tool]) -> tuple[TurnEngine, TextSpeech, MemoryOutput]:
    plan = await asyncio.to_thread(plan_conversation, ctx, provider="openai", voice=VoiceChoice("piper", "joe-us"))
    speech, out = TextSpeech(), MemoryOutput(realtime=True)
    engine = await open_conversation(ctx, plan, chat=chat_for(ctx, plan), speech=speech, output=out, stt=None,
                                     sink=events.append)
    assert engine.tools is not None and "get_current_time" in engine.tools.tools  # built through the services
    engine.tools = ToolRegistry()
    engine.tools.extend(tools)
    engine.config.filler_after_s = 0.2
    engine.config.progress_interval_s = 0.01
    return engine, speech, out


def _rows(ctx: Any) -> tuple[list[ConversationMessage], list[ApiUsageLog]]:
    ctx.recorder.flush()
    with ctx.db.session() as s:
        return (list(s.scalars(select(ConversationMessage).order_by(ConversationMessage.id))),
                list(s.scalars(select(ApiUsageLog).order_by(ApiUsageLog.id))))


def test_slow_tool_gets_a_filler_and_a_running_event_and_a_hung_one_times_out(app: Any, server: FakeServer) -> None:
    install_script(server, [[("c1", "lookup", "{}"), ("c2", "hang", "{}")], "The lookup says forty two."])

    async def lookup() -> str:
        await asyncio.sleep(0.8)  # slower than the filler delay
        return "42"

    async def hang() -> str:
        await asyncio.sleep(60)
        return "never"

    events: list[Event] = []

    async def go() -> Any:
        engine, speech, _out = await _engine(app, events, [
            Tool("lookup", "Look it up.", EMPTY, lookup, timeout_s=5),
            Tool("hang", "Never returns.", EMPTY, hang, timeout_s=0.5)])
        try:
            return await engine.run_turn(UserInput(text="look it up")), speech
        finally:
            await engine.chat.aclose()

    result, speech = asyncio.run(go())
    assert result.reply == "The lookup says forty two." and not result.interrupted
    assert [(c["name"], c["is_error"]) for c in result.tool_calls] == [("lookup", False), ("hang", True)]
    running = [e.name for e in events if isinstance(e, ToolRunning)]
    assert running[:1] == ["lookup"]
    done = {e.name: e.is_error for e in events if isinstance(e, ToolDone)}
    assert done == {"lookup": False, "hang": True}
    assert speech.said[0] == "One moment." and "The lookup says forty two." in " ".join(speech.said)
    results = {m["tool_call_id"]: m["content"] for m in server.requests[1].json()["messages"] if m["role"] == "tool"}
    assert results["c1"] == "42" and "did not finish within 0.5 s" in results["c2"]

    messages, usage = _rows(app)
    assert [m.role for m in messages] == ["user", "tool", "tool", "assistant"]
    assert messages[-1].content == "The lookup says forty two."  # the filler is heard, not stored as the reply
    assert messages[2].error and "did not finish" in messages[2].error
    assert messages[1].timings["tool"]["duration_ms"] >= 700
    llm = [u for u in usage if u.endpoint == "chat"]
    assert len(llm) == 2 and [u.tokens_in for u in llm] == [50, 90] and all(u.success for u in llm)
    assert messages[-1].tokens_in == 140


def test_interrupting_a_turn_cancels_the_running_tool(app: Any, server: FakeServer) -> None:
    install_script(server, [[("c1", "long_job", "{}")], "unreachable"])
    cancelled = asyncio.Event()
    events: list[Event] = []

    async def long_job() -> str:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "finished"

    async def go() -> Any:
        engine, _speech, _out = await _engine(app, events, [Tool("long_job", "Slow.", EMPTY, long_job, timeout_s=60)])
        try:
            task = engine.start_turn(UserInput(text="start the long job"))
            for _ in range(500):  # wait for the running state, then interrupt
                if any(isinstance(e, ToolRunning) for e in events):
                    break
                await asyncio.sleep(0.01)
            assert engine.interrupt()
            result = await asyncio.wait_for(task, 10)
            await asyncio.wait_for(cancelled.wait(), 5)
            return result
        finally:
            await engine.chat.aclose()

    result = asyncio.run(go())
    assert result.interrupted
    assert len(server.requests) == 1  # no second LLM round after the interruption
    messages, usage = _rows(app)
    assert [m.role for m in messages] == ["user", "assistant"] and messages[-1].interrupted
    llm = [u for u in usage if u.endpoint == "chat"]
    assert len(llm) == 1 and llm[0].tokens_in == 50  # the round that ran is billed, no phantom round
    assert json.loads(server.requests[0].body)["tools"][0]["function"]["name"] == "long_job"
