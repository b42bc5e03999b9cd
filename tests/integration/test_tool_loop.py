"""The tool loop against a local server speaking OpenAI's and Anthropic's streamed wire formats.

Round 1 replays the documented two-call stream (tests/fixtures/tools/); once the request carries
the tool results the server answers in text. What goes back on the wire (assistant tool_calls,
role "tool" messages by tool_call_id / tool_result blocks) is checked from the recorded requests.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthbot_desktop.llm.base import ChatMessage, ToolCall
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider
from synthbot_desktop.llm.retry import NO_RETRY
from synthbot_desktop.tools.loop import ToolEvent, ToolFiller, ToolFinished, ToolStarted, run_tool_loop
from synthbot_desktop.tools.registry import Tool, ToolRegistry
from tests.support.fake_http import FakeServer, Request, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tools"
SSE = {"content-type": "text/event-stream; charset=utf-8"}
TIME_SCHEMA = {"type": "object", "properties": {"zone": {"type": "string"}}, "additionalProperties": False}
TIMER_SCHEMA = {"type": "object", "properties": {"seconds": {"type": "integer"}, "label": {"type": "string"}},
                "required": ["seconds"]}


def _openai_text(text: str) -> bytes:
    chunks = [{"id": "c2", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
              {"id": "c2", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
              {"id": "c2", "choices": [], "usage": {"prompt_tokens": 150, "completion_tokens": 9}}]
    return b"".join(f"data: {json.dumps(c)}\n\n".encode() for c in chunks) + b"data: [DONE]\n\n"


def _anthropic_text(text: str) -> bytes:
    events = [("message_start", {"type": "message_start", "message": {"usage": {"input_tokens": 600, "output_tokens": 1}}}),
              ("content_block_delta", {"type": "content_block_delta", "index": 0,
                                       "delta": {"type": "text_delta", "text": text}}),
              ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                                 "usage": {"output_tokens": 9}}),
              ("message_stop", {"type": "message_stop"})]
    return b"".join(f"event: {k}\ndata: {json.dumps(v)}\n\n".encode() for k, v in events)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        def openai(req: Request) -> Response:
            if any(m.get("role") == "tool" for m in req.json()["messages"]):
                return Response(200, SSE, _openai_text("It is noon; the tea timer is set."))
            return Response(200, SSE, (FIXTURES / "openai_tool_calls_stream.sse").read_bytes())

        def anthropic(req: Request) -> Response:
            last = req.json()["messages"][-1]
            if isinstance(last["content"], list) and any(b.get("type") == "tool_result" for b in last["content"]):
                return Response(200, SSE, _anthropic_text("Done."))
            return Response(200, SSE, (FIXTURES / "anthropic_tool_use_stream.sse").read_bytes())

        s.add("POST", r"/v1/chat/completions", openai)
        s.add("POST", r"/v1/messages", anthropic)
        yield s


def _registry(timer: Any) -> ToolRegistry:
    reg = ToolRegistry()
    reg.add(Tool("get_time", "Current local time.", TIME_SCHEMA, lambda zone="local": "12:00"))
    reg.add(Tool("set_timer", "Start a timer.", TIMER_SCHEMA, timer, timeout_s=0.5))
    return reg


def _run(provider: Any, reg: ToolRegistry, events: list[ToolEvent] | None = None, **kw: Any) -> Any:
    async def go() -> Any:
        try:
            return await run_tool_loop(provider, [ChatMessage("user", "time? and a tea timer")], "m", reg,
                                       on_event=(events.append if events is not None else None), **kw)
        finally:
            await provider.aclose()
    return asyncio.run(go())


def _openai(server: FakeServer) -> OpenAIChatProvider:
    return OpenAIChatProvider(base_url=server.url + "/v1", api_key="sk-test-0123456789", default_model="m",
                              retry=NO_RETRY, timeout_s=5)


def test_openai_two_tools_in_one_reply(server: FakeServer) -> None:
    timers: list[tuple[int, str]] = []

    async def set_timer(seconds: int, label: str = "") -> str:
        timers.append((seconds, label))
        return f"timer set for {seconds} s"

    spoken: list[str] = []
    out = _run(_openai(server), _registry(set_timer), on_delta=spoken.append)
    assert out.text == "It is noon; the tea timer is set." and "".join(spoken) == out.text
    assert timers == [(60, "tea ☕")] and out.rounds == 1 and len(out.usages) == 2
    first, second = (r.json() for r in server.requests)
    assert [t["function"]["name"] for t in first["tools"]] == ["get_time", "set_timer"]
    assert first["tools"][0]["type"] == "function"
    wire = second["messages"]
    assert [c["id"] for c in wire[1]["tool_calls"]] == ["call_abc", "call_def"]
    assert [(m["role"], m["tool_call_id"], m["content"]) for m in wire[2:]] == [
        ("tool", "call_abc", "12:00"), ("tool", "call_def", "timer set for 60 s")]
    assert [m.role for m in out.new_messages] == ["assistant", "tool", "tool"]


def test_raising_tool_gives_the_model_an_error_and_the_turn_continues(server: FakeServer) -> None:
    def set_timer(seconds: int, label: str = "") -> str:
        raise RuntimeError("timer service down")

    out = _run(_openai(server), _registry(set_timer))
    assert out.final.complete and out.text.startswith("It is noon")
    tool_msgs = [m for m in server.requests[1].json()["messages"] if m["role"] == "tool"]
    assert tool_msgs[1]["content"] == "error: set_timer failed: timer service down"
    assert out.new_messages[2].is_error and not out.new_messages[1].is_error


def test_hanging_tool_times_out_with_filler_and_turn_continues(server: FakeServer) -> None:
    async def set_timer(seconds: int, label: str = "") -> str:
        await asyncio.Event().wait()  # never returns
        return "unreachable"

    events: list[ToolEvent] = []
    out = _run(_openai(server), _registry(set_timer), events, filler_after_s=0.05)
    assert out.final.complete
    assert "did not finish within 0.5 s" in out.new_messages[2].content
    assert ToolFiller("set_timer") in events and ToolFiller("get_time") not in events
    assert ToolStarted("set_timer", "call_def") in events and ToolFinished("set_timer", "call_def", True) in events


def test_anthropic_round_trip_uses_tool_use_and_tool_result_blocks(server: FakeServer) -> None:
    provider = AnthropicChatProvider(base_url=server.url, api_key="sk-ant-test-0123456789", default_model="m",
                                     retry=NO_RETRY, timeout_s=5)
    out = _run(provider, _registry(lambda seconds, label="": "ok"))
    assert out.text == "Done."
    first, second = (r.json() for r in server.requests)
    assert [t["name"] for t in first["tools"]] == ["get_time", "set_timer"] and "input_schema" in first["tools"][0]
    assistant, results = second["messages"][1], second["messages"][2]
    assert assistant["role"] == "assistant"
    assert [b["type"] for b in assistant["content"]] == ["text", "tool_use", "tool_use"]
    assert assistant["content"][2]["input"] == {"seconds": 60, "label": "tea ☕"}
    assert results["role"] == "user"
    assert [(b["tool_use_id"], b["content"]) for b in results["content"]] == [("toolu_01A", "12:00"),
                                                                             ("toolu_01B", "ok")]


def test_bounded_rounds_end_in_text(server: FakeServer) -> None:
    """A model that keeps calling tools is asked without tools after max_rounds."""
    server.add("POST", r"/v1/chat/completions", lambda req: Response(
        200, SSE, (FIXTURES / "openai_tool_calls_stream.sse").read_bytes() if "tools" in req.json()
        else _openai_text("Enough.")))
    out = _run(_openai(server), _registry(lambda seconds, label="": "ok"), max_rounds=2)
    assert out.text == "Enough." and out.rounds == 2 and len(server.requests) == 3
    assert "tools" not in server.requests[2].json()


def _call(name: str, args: str) -> ToolCall:
    return ToolCall("id1", name, args)


@pytest.mark.parametrize(("name", "args", "expected"), [
    ("get_time", "{\"zone\": ", "error: arguments are not valid JSON"),
    ("get_time", "[1]", "error: arguments must be a JSON object"),
    ("set_timer", "{\"seconds\": \"sixty\"}", "error: arguments.seconds must be of type integer, got str"),
    ("set_timer", "{\"seconds\": true}", "error: arguments.seconds must be of type integer, got bool"),
    ("set_timer", "{}", "error: arguments.seconds is required"),
    ("get_time", "{\"tz\": \"x\"}", "error: arguments.tz is not a known parameter"),
    ("launch_rockets", "{}", "error: unknown tool 'launch_rockets'; available: get_time, set_timer"),
])
def test_malformed_arguments_and_unknown_tools_are_error_results(name: str, args: str, expected: str) -> None:
    res = asyncio.run(_registry(lambda seconds, label="": "ok").execute(_call(name, args)))
    assert res.is_error and res.content.startswith(expected)


def test_side_effect_tool_refused_unless_confirmed() -> None:
    ran: list[str] = []
    reg = ToolRegistry()
    reg.add(Tool("open_url", "Open a URL.", {"type": "object", "properties": {"url": {"type": "string"}}},
                 lambda url: ran.append(url) or "opened", side_effect=True))
    call = _call("open_url", "{\"url\": \"https://example.org\"}")
    refused = asyncio.run(reg.execute(call))
    assert refused.is_error and "did not allow" in refused.content and ran == []
    asked: list[dict[str, Any]] = []
    reg.confirm = lambda tool, args: asked.append(args) is None and False
    assert asyncio.run(reg.execute(call)).is_error and ran == [] and asked == [{"url": "https://example.org"}]
    reg.confirm = lambda tool, args: True
    assert asyncio.run(reg.execute(call)).content == "opened" and ran == ["https://example.org"]
    reg.disabled.add("open_url")  # policy: disabled tools are neither offered nor run
    assert reg.available() == [] and asyncio.run(reg.execute(call)).is_error


def test_interruption_cancels_the_running_tool() -> None:
    started, cancelled = asyncio.Event(), []

    async def slow(seconds: int, label: str = "") -> str:
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "no"

    from synthbot_desktop.tools.loop import _run_one

    async def go() -> None:
        task = asyncio.ensure_future(_run_one(_registry(slow), _call("set_timer", "{\"seconds\": 1}"), None, 1.0))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    asyncio.run(go())
    assert cancelled == [True]
