"""Each provider's tool-call stream (documented shapes, tests/fixtures/tools/) parsed into whole calls.

The body is fed split at every byte offset (and byte by byte), so a piece of a call's arguments,
a multi-byte character or an SSE line cut anywhere must still give the same two calls.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synthbot_desktop.llm.http_provider import HttpChatProvider, WireDelta, WireEvent, WireFinish, WireToolCall
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.gemini import GeminiChatProvider
from synthbot_desktop.llm.providers.ollama import OllamaChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tools"
CASES: dict[str, tuple[type[HttpChatProvider], str, str]] = {
    "openai": (OpenAIChatProvider, "openai_tool_calls_stream.sse", "tool_calls"),
    "anthropic": (AnthropicChatProvider, "anthropic_tool_use_stream.sse", "tool_use"),
    "gemini": (GeminiChatProvider, "gemini_function_call_stream.sse", "STOP"),
    "ollama": (OllamaChatProvider, "ollama_tool_calls_stream.ndjson", "stop"),
}


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


def _parse(provider: HttpChatProvider, parts: list[bytes]) -> list[WireEvent]:
    async def go() -> list[WireEvent]:
        return [ev async for ev in provider.parse_stream(_chunks(parts))]
    return asyncio.run(go())


def _summary(events: list[WireEvent]) -> tuple[list[tuple[str, str, object]], str, list[str]]:
    calls = [(e.id, e.name, json.loads(e.arguments)) for e in events if isinstance(e, WireToolCall)]
    finishes = [e.reason for e in events if isinstance(e, WireFinish) and e.reason]
    text = "".join(e.text for e in events if isinstance(e, WireDelta))
    return calls, text, finishes


@pytest.mark.parametrize("kind", sorted(CASES))
def test_two_tool_calls_at_every_split(kind: str) -> None:
    cls, name, finish = CASES[kind]
    provider = cls(base_url="http://127.0.0.1:9", api_key="k", default_model="m")
    body = (FIXTURES / name).read_bytes()
    whole = _summary(_parse(provider, [body]))
    calls, _text, finishes = whole
    assert [(c[1], c[2]) for c in calls] == [("get_time", {"zone": "local"}),
                                           ("set_timer", {"seconds": 60, "label": "tea ☕"})]
    assert len({c[0] for c in calls}) == 2 and all(c[0] for c in calls)  # distinct, non-empty ids
    assert finish in finishes
    for i in range(1, len(body)):
        assert _summary(_parse(provider, [body[:i], body[i:]])) == whole, f"split at byte {i}"
    assert _summary(_parse(provider, [body[i:i + 1] for i in range(len(body))])) == whole


def test_ids_from_the_wire_are_kept() -> None:
    openai = OpenAIChatProvider(base_url="http://127.0.0.1:9", api_key="k", default_model="m")
    calls, _, _ = _summary(_parse(openai, [(FIXTURES / "openai_tool_calls_stream.sse").read_bytes()]))
    assert [c[0] for c in calls] == ["call_abc", "call_def"]
    anthropic = AnthropicChatProvider(base_url="http://127.0.0.1:9", api_key="k", default_model="m")
    calls, text, _ = _summary(_parse(anthropic, [(FIXTURES / "anthropic_tool_use_stream.sse").read_bytes()]))
    assert [c[0] for c in calls] == ["toolu_01A", "toolu_01B"] and text == "Let me check."


def test_tool_rounds_in_each_providers_request_shape() -> None:
    """Offered tools and the call/result messages sent back, as each provider documents them."""
    from synthbot_desktop.llm.base import ChatMessage, ToolCall

    spec = {"name": "get_time", "description": "now", "parameters": {"type": "object", "properties": {}}}
    msgs = [ChatMessage("user", "time?"),
            ChatMessage("assistant", "", tool_calls=(ToolCall("c1", "get_time", '{"zone": "local"}'),)),
            ChatMessage("tool", "12:00", tool_call_id="c1", name="get_time")]
    bodies = {}
    for kind, (cls, _, _) in CASES.items():
        p = cls(base_url="http://127.0.0.1:9", api_key="k", default_model="m")
        req = p.build_chat_request(msgs, "m", system=None, temperature=None, max_tokens=None)
        p.add_tools(req, [spec])
        bodies[kind] = req.json
    assert bodies["openai"]["tools"] == [{"type": "function", "function": spec}]
    assert bodies["openai"]["messages"][1]["tool_calls"][0]["function"] == {"name": "get_time",
                                                                            "arguments": '{"zone": "local"}'}
    assert bodies["openai"]["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": "12:00"}
    assert bodies["anthropic"]["messages"][1]["content"] == [
        {"type": "tool_use", "id": "c1", "name": "get_time", "input": {"zone": "local"}}]
    assert bodies["anthropic"]["messages"][2]["content"][0]["tool_use_id"] == "c1"
    gem = bodies["gemini"]
    assert gem["tools"][0]["functionDeclarations"][0]["name"] == "get_time"
    assert gem["contents"][1] == {"role": "model", "parts": [{"functionCall": {"name": "get_time",
                                                                               "args": {"zone": "local"}}}]}
    assert gem["contents"][2]["parts"][0]["functionResponse"] == {"name": "get_time",
                                                                  "response": {"result": "12:00"}}
    oll = bodies["ollama"]["messages"]
    assert oll[1]["tool_calls"] == [{"function": {"name": "get_time", "arguments": {"zone": "local"}}}]
    assert oll[2] == {"role": "tool", "content": "12:00", "tool_name": "get_time"}
