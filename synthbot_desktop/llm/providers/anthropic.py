"""Anthropic Messages API over SSE (``x-api-key``, ``anthropic-version: 2023-06-01``).

The stream is a sequence of named events: ``message_start`` (input tokens) →
``content_block_delta`` (text) … → ``message_delta`` (stop reason, cumulative output tokens)
→ ``message_stop``. ``ping`` and unknown event types are ignored, as Anthropic asks; an
``error`` event after HTTP 200 (e.g. ``overloaded_error``) becomes a ProviderError that keeps
the text already received. The API wants alternating user/assistant turns starting with a
user turn and the system prompt as a separate field, so history is normalised here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.http_errors import CODE_KINDS
from synthbot_desktop.llm.http_provider import (
    HttpChatProvider,
    PreparedRequest,
    WireDelta,
    WireEvent,
    WireFailure,
    WireFinish,
    WireToolCall,
    WireUsage,
)
from synthbot_desktop.llm.lines import iter_sse
from synthbot_desktop.llm.providers._json import arguments_object, as_int, loads_event

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024  # required by the API


def _blocks(m: ChatMessage) -> list[dict[str, Any]]:
    """Content blocks: tool calls are assistant ``tool_use`` blocks, results user ``tool_result``."""
    if m.role == "tool":
        return [{"type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content, "is_error": m.is_error}]
    blocks: list[dict[str, Any]] = [{"type": "text", "text": m.content}] if m.content else []
    for c in m.tool_calls:
        blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": arguments_object(c.arguments)})
    return blocks


def alternate(messages: Sequence[ChatMessage], system: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Merge same-role neighbours, lift system messages out, and start with a user turn."""
    systems = [system] if system else []
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "system":
            systems.append(m.content)
            continue
        role = "user" if m.role == "tool" else m.role
        if m.role == "tool" or m.tool_calls or (out and not isinstance(out[-1]["content"], str)):
            blocks = _blocks(m)
            if out and out[-1]["role"] == role:
                prev = out[-1]["content"]
                prev_blocks = [{"type": "text", "text": prev}] if isinstance(prev, str) else prev
                out[-1]["content"] = prev_blocks + blocks
            else:
                out.append({"role": role, "content": blocks})
        elif out and out[-1]["role"] == role:
            out[-1]["content"] += "\n\n" + m.content
        else:
            out.append({"role": role, "content": m.content})
    while out and out[0]["role"] != "user":
        out.pop(0)  # a history trimmed mid-turn may start with the assistant
    return out, ("\n\n".join(s for s in systems if s) or None)


class AnthropicChatProvider(HttpChatProvider):
    name = "anthropic"
    request_id_header = "request-id"

    def auth_headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self.api_key:
            headers["x-api-key"] = self.api_key
        return headers

    def build_chat_request(self, messages: Sequence[ChatMessage], model: str, *, system: str | None,
                           temperature: float | None, max_tokens: int | None) -> PreparedRequest:
        wire, system_text = alternate(messages, system)
        body: dict[str, Any] = {"model": model, "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
                                "messages": wire, "stream": True}
        if system_text:
            body["system"] = system_text
        if temperature is not None:
            body["temperature"] = min(1.0, temperature)  # Anthropic's range is 0..1
        return PreparedRequest("POST", f"{self.base_url}/v1/messages", body)

    async def parse_stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[WireEvent, None]:
        # tool_use blocks: content_block_start names the tool, input_json_delta pieces carry the
        # input's JSON text, content_block_stop completes the call.
        blocks: dict[int, list[str]] = {}
        async for ev in iter_sse(chunks):
            if not ev.data.strip():
                continue
            data = loads_event(self.name, ev.data)
            if data is None:
                continue
            kind = data.get("type") or ev.event
            if kind == "content_block_delta":
                delta = data.get("delta")
                if isinstance(delta, dict) and delta.get("type") == "text_delta" and isinstance(delta.get("text"), str):
                    yield WireDelta(delta["text"])
                elif isinstance(delta, dict) and delta.get("type") == "input_json_delta":
                    slot = blocks.get(as_int(data.get("index")) or 0)
                    if slot is not None and isinstance(delta.get("partial_json"), str):
                        slot[2] += delta["partial_json"]
            elif kind == "content_block_start":
                block = data.get("content_block")
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    blocks[as_int(data.get("index")) or 0] = [str(block.get("id") or ""), str(block.get("name") or ""), ""]
            elif kind == "content_block_stop":
                slot = blocks.pop(as_int(data.get("index")) or 0, None)
                if slot is not None:
                    # a tool with no parameters streams no input pieces at all: that means {}
                    yield WireToolCall(slot[0], slot[1], slot[2] or "{}")
            elif kind == "message_start":
                usage = (data.get("message") or {}).get("usage") if isinstance(data.get("message"), dict) else None
                if isinstance(usage, dict):
                    yield WireUsage(self._input_tokens(usage), as_int(usage.get("output_tokens")))
            elif kind == "message_delta":
                usage = data.get("usage")
                if isinstance(usage, dict):
                    tokens_in = self._input_tokens(usage) if "input_tokens" in usage else None
                    yield WireUsage(tokens_in, as_int(usage.get("output_tokens")))
                delta = data.get("delta")
                if isinstance(delta, dict) and delta.get("stop_reason"):
                    yield WireFinish(str(delta["stop_reason"]))
            elif kind == "message_stop":
                yield WireFinish(None)
                return
            elif kind == "error":
                raw = data.get("error")
                err: dict[str, Any] = raw if isinstance(raw, dict) else {}
                etype = str(err.get("type") or "").lower()
                yield WireFailure(CODE_KINDS.get(etype, ProviderErrorKind.UNAVAILABLE),
                                  str(err.get("message") or etype or "stream error"))
                return
            # ping, text block start/stop, thinking deltas and future event types: ignored

    @staticmethod
    def _input_tokens(usage: dict[str, Any]) -> int | None:
        """Billed input = fresh + cache writes + cache reads (each reported separately)."""
        base = as_int(usage.get("input_tokens"))
        if base is None:
            return None
        return base + (as_int(usage.get("cache_creation_input_tokens")) or 0) + (
            as_int(usage.get("cache_read_input_tokens")) or 0)

    def add_tools(self, req: PreparedRequest, tools: list[dict[str, Any]]) -> None:
        req.json["tools"] = [{"name": t["name"], "description": t.get("description", ""),
                              "input_schema": t.get("parameters") or {"type": "object"}} for t in tools]

    def models_request(self) -> PreparedRequest:
        return PreparedRequest("GET", f"{self.base_url}/v1/models?limit=1000")

    def parse_models(self, data: Any) -> list[str]:
        items = data.get("data") if isinstance(data, dict) else None
        return [m["id"] for m in items or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
