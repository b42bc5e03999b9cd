"""Ollama's native ``/api/chat`` (NDJSON), default ``http://127.0.0.1:11434``, no key.

Each line is a JSON object with ``message.content``; the last has ``done: true`` with
``prompt_eval_count``/``eval_count`` as token usage. An error during generation arrives as a
final ``{"error": "..."}`` line. The native API is used rather than ``/v1`` because it reports
usage on every version and lets ``keep_alive`` hold the model in memory between voice turns.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage
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
from synthbot_desktop.llm.lines import iter_ndjson_lines
from synthbot_desktop.llm.providers._json import arguments_object, as_int, loads_event, object_arguments

DEFAULT_BASE_URL = "http://127.0.0.1:11434"


def _wire_message(m: ChatMessage) -> dict[str, Any]:
    """Ollama takes tool calls with object arguments and results as ``role: "tool"`` by tool name."""
    if m.role == "tool":
        return {"role": "tool", "content": m.content, "tool_name": m.name or ""}
    out: dict[str, Any] = {"role": m.role, "content": m.content}
    if m.tool_calls:
        out["tool_calls"] = [{"function": {"name": c.name, "arguments": arguments_object(c.arguments)}}
                             for c in m.tool_calls]
    return out


class OllamaChatProvider(HttpChatProvider):
    name = "ollama"
    request_id_header = "x-request-id"

    def __init__(self, *, keep_alive: str = "10m", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.keep_alive = keep_alive

    def add_tools(self, req: PreparedRequest, tools: list[dict[str, Any]]) -> None:
        req.json["tools"] = [{"type": "function", "function": t} for t in tools]

    def auth_headers(self) -> dict[str, str]:
        # A reverse proxy in front of Ollama may want a bearer token; plain Ollama ignores it.
        return {"authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def build_chat_request(self, messages: Sequence[ChatMessage], model: str, *, system: str | None,
                           temperature: float | None, max_tokens: int | None) -> PreparedRequest:
        wire: list[dict[str, Any]] = []
        if system:
            wire.append({"role": "system", "content": system})
        wire += [_wire_message(m) for m in messages]
        options: dict[str, Any] = {}
        if temperature is not None:
            options["temperature"] = temperature
        if max_tokens is not None:
            options["num_predict"] = max_tokens
        if getattr(self, "sampling_seed", None) is not None:  # enhanced mode (issue #20)
            options["seed"] = self.sampling_seed  # type: ignore[attr-defined]
        body: dict[str, Any] = {"model": model, "messages": wire, "stream": True, "keep_alive": self.keep_alive}
        if options:
            body["options"] = options
        return PreparedRequest("POST", f"{self.base_url}/api/chat", body)

    async def parse_stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[WireEvent, None]:
        calls = 0
        async for line in iter_ndjson_lines(chunks):
            data = loads_event(self.name, line)
            if data is None:
                continue
            if data.get("error"):
                yield WireFailure(ProviderErrorKind.UNAVAILABLE, str(data["error"]))
                return
            message = data.get("message")
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                yield WireDelta(message["content"])
            tool_calls = message.get("tool_calls") if isinstance(message, dict) else None
            for tc in tool_calls if isinstance(tool_calls, list) else []:
                fn = tc.get("function") if isinstance(tc, dict) else None
                if isinstance(fn, dict):  # whole calls, arguments as an object, no ids
                    calls += 1
                    yield WireToolCall(str(tc.get("id") or f"call_{calls}"), str(fn.get("name") or ""),
                                       object_arguments(fn.get("arguments")))
            if data.get("done"):
                yield WireUsage(as_int(data.get("prompt_eval_count")), as_int(data.get("eval_count")))
                yield WireFinish(str(data.get("done_reason") or "stop"))
                return

    def models_request(self) -> PreparedRequest:
        return PreparedRequest("GET", f"{self.base_url}/api/tags")

    def parse_models(self, data: Any) -> list[str]:
        items = data.get("models") if isinstance(data, dict) else None
        return [str(m.get("model") or m.get("name")) for m in items or []
                if isinstance(m, dict) and (m.get("model") or m.get("name"))]
