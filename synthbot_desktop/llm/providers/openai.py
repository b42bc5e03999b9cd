"""OpenAI Chat Completions over SSE, also serving every OpenAI-compatible server.

``POST {base}/chat/completions`` with ``stream: true`` and ``stream_options.include_usage``
(the base URL includes ``/v1``, as the OpenAI SDK spells it), so the same client talks to
LM Studio, llama.cpp's server, vLLM, OpenRouter or Ollama's ``/v1``. Compatible servers may
skip the usage chunk, send ``choices: null`` or omit ``[DONE]``: all tolerated.
"""

from __future__ import annotations

import re
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
    WireMeta,
    WireToolCall,
    WireUsage,
)
from synthbot_desktop.llm.lines import iter_sse
from synthbot_desktop.llm.providers._json import as_int, loads_event

DEFAULT_BASE_URL = "https://api.openai.com/v1"

# OpenAI's reasoning models (o1, o3, o4-mini, gpt-5 ...) reject ``max_tokens`` ("use
# max_completion_tokens instead") and any temperature but the default. Matched by name, also
# behind a router prefix such as ``openai/o3-mini``.
_REASONING_MODEL = re.compile(r"^(?:[\w.-]+/)?(?:o\d|gpt-5)", re.IGNORECASE)


def is_reasoning_model(model: str) -> bool:
    return bool(_REASONING_MODEL.match(model))


def _wire_message(m: ChatMessage) -> dict[str, Any]:
    """Tool rounds: the assistant's ``tool_calls`` then one ``role: "tool"`` message per result."""
    if m.role == "tool":
        return {"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                             for c in m.tool_calls]
    return out


class OpenAIChatProvider(HttpChatProvider):
    name = "openai"
    request_id_header = "x-request-id"

    def __init__(self, *, organization: str | None = None, project: str | None = None,
                 provider_name: str = "openai", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = provider_name
        self.organization = organization
        self.project = project

    def auth_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.api_key:  # local compatible servers need none
            headers["authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["openai-organization"] = self.organization
        if self.project:
            headers["openai-project"] = self.project
        return headers

    def build_chat_request(self, messages: Sequence[ChatMessage], model: str, *, system: str | None,
                           temperature: float | None, max_tokens: int | None) -> PreparedRequest:
        wire: list[dict[str, Any]] = []
        if system:
            wire.append({"role": "system", "content": system})
        wire += [_wire_message(m) for m in messages]
        body: dict[str, Any] = {"model": model, "messages": wire, "stream": True,
                                "stream_options": {"include_usage": True}}
        reasoning = is_reasoning_model(model)
        if temperature is not None and not reasoning:
            body["temperature"] = temperature
        if max_tokens is not None:
            # max_tokens is what compatible servers understand; OpenAI still accepts it for chat
            # models, but its reasoning models only take max_completion_tokens.
            body["max_completion_tokens" if reasoning else "max_tokens"] = max_tokens
        if getattr(self, "sampling_seed", None) is not None:  # enhanced mode (issue #20)
            body["seed"] = self.sampling_seed  # type: ignore[attr-defined]
        return PreparedRequest("POST", f"{self.base_url}/chat/completions", body)

    async def parse_stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[WireEvent, None]:
        # tool_calls deltas: the first piece of each call (by ``index``) carries id and name, the
        # following ones only more ``function.arguments`` text; complete calls go out at finish.
        pending: dict[int, list[str]] = {}

        def flush() -> list[WireToolCall]:
            calls = [WireToolCall(v[0] or f"call_{i}", v[1], v[2]) for i, v in sorted(pending.items())]
            pending.clear()
            return calls

        async for ev in iter_sse(chunks):
            data_text = ev.data.strip()
            if not data_text:
                continue
            if data_text == "[DONE]":
                for call in flush():
                    yield call
                yield WireFinish(None)
                return
            data = loads_event(self.name, data_text)
            if data is None:
                continue
            err = data.get("error")
            if err is not None:
                message = err.get("message") if isinstance(err, dict) else str(err)
                code = str(err.get("code") or err.get("type") or "").lower() if isinstance(err, dict) else ""
                yield WireFailure(CODE_KINDS.get(code, ProviderErrorKind.UNAVAILABLE), str(message or "stream error"))
                return
            if isinstance(data.get("id"), str) and data["id"]:
                yield WireMeta(data["id"])
            usage = data.get("usage")
            if isinstance(usage, dict):
                yield WireUsage(as_int(usage.get("prompt_tokens")), as_int(usage.get("completion_tokens")))
            choices = data.get("choices")
            if not isinstance(choices, list):
                continue
            for choice in choices:
                if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                    continue
                delta = choice.get("delta")
                if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                    yield WireDelta(delta["content"])
                tool_calls = delta.get("tool_calls") if isinstance(delta, dict) else None
                for piece in tool_calls if isinstance(tool_calls, list) else []:
                    if not isinstance(piece, dict):
                        continue
                    slot = pending.setdefault(as_int(piece.get("index")) or 0, ["", "", ""])
                    raw_fn = piece.get("function")
                    fn: dict[str, Any] = raw_fn if isinstance(raw_fn, dict) else {}
                    if isinstance(piece.get("id"), str):
                        slot[0] = piece["id"]
                    if isinstance(fn.get("name"), str):
                        slot[1] += fn["name"]
                    if isinstance(fn.get("arguments"), str):
                        slot[2] += fn["arguments"]
                if choice.get("finish_reason"):
                    for call in flush():
                        yield call
                    yield WireFinish(str(choice["finish_reason"]))

    def add_tools(self, req: PreparedRequest, tools: list[dict[str, Any]]) -> None:
        req.json["tools"] = [{"type": "function", "function": t} for t in tools]

    def models_request(self) -> PreparedRequest:
        return PreparedRequest("GET", f"{self.base_url}/models")

    def parse_models(self, data: Any) -> list[str]:
        items = data.get("data") if isinstance(data, dict) else None
        return [m["id"] for m in items or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
