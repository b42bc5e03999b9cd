"""Google Gemini (Generative Language API) ``streamGenerateContent?alt=sse``.

The key travels in the ``x-goog-api-key`` header (never in the URL, where proxies log it).
Each SSE event is a whole ``GenerateContentResponse`` separated by CRLF blank lines, with no
end marker: the chunk carrying ``finishReason`` ends the reply, and the last ``usageMetadata``
holds the final counts (thinking tokens are billed as output). The assistant role is
``model`` and the system prompt is ``systemInstruction``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any
from urllib.parse import quote

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage
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
from synthbot_desktop.llm.providers._json import arguments_object, as_int, loads_event, object_arguments

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"
_BLOCKED = {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII"}


def model_path(model: str) -> str:
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def _parts(m: ChatMessage) -> list[dict[str, Any]]:
    """Tool calls are model ``functionCall`` parts, results user ``functionResponse`` parts (by name)."""
    if m.role == "tool":
        key = "error" if m.is_error else "result"
        return [{"functionResponse": {"name": m.name or "", "response": {key: m.content}}}]
    parts: list[dict[str, Any]] = [{"text": m.content}] if m.content or not m.tool_calls else []
    for c in m.tool_calls:
        parts.append({"functionCall": {"name": c.name, "args": arguments_object(c.arguments)}})
    return parts


# The OpenAPI-style Schema fields functionDeclarations accept; others ($schema, additionalProperties,
# $defs...) make Gemini reject the whole request, and MCP servers send them.
GEMINI_SCHEMA_KEYS = frozenset({"type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems",
                                "properties", "required", "minProperties", "maxProperties", "minLength",
                                "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items",
                                "minimum", "maximum"})


def gemini_schema(schema: Any) -> Any:
    """A JSON schema reduced to what Gemini's function declarations accept (recursively)."""
    if isinstance(schema, list):
        return [gemini_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in GEMINI_SCHEMA_KEYS:
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: gemini_schema(v) for name, v in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = gemini_schema(value)
        else:
            out[key] = value
    return out


class GeminiChatProvider(HttpChatProvider):
    name = "gemini"
    request_id_header = "x-request-id"  # Google sends none reliably; responseId is used instead

    def add_tools(self, req: PreparedRequest, tools: list[dict[str, Any]]) -> None:
        req.json["tools"] = [{"functionDeclarations": [
            {"name": t["name"], "description": t.get("description", ""),
             "parameters": gemini_schema(t.get("parameters") or {"type": "object"})}
            for t in tools]}]

    def auth_headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.api_key} if self.api_key else {}

    def build_chat_request(self, messages: Sequence[ChatMessage], model: str, *, system: str | None,
                           temperature: float | None, max_tokens: int | None) -> PreparedRequest:
        systems = [system] if system else []
        contents: list[dict[str, Any]] = []
        for m in messages:
            if m.role == "system":
                systems.append(m.content)
                continue
            role = "model" if m.role == "assistant" else "user"
            parts = _parts(m)
            if contents and contents[-1]["role"] == role:
                contents[-1]["parts"] += parts
            else:
                contents.append({"role": role, "parts": parts})
        body: dict[str, Any] = {"contents": contents}
        if systems:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(systems)}]}
        config: dict[str, Any] = {}
        if temperature is not None:
            config["temperature"] = temperature
        if max_tokens is not None:
            config["maxOutputTokens"] = max_tokens
        if getattr(self, "sampling_seed", None) is not None:  # enhanced mode (issue #20)
            config["seed"] = self.sampling_seed  # type: ignore[attr-defined]
        if config:
            body["generationConfig"] = config
        path = quote(model_path(model), safe="/")
        return PreparedRequest("POST", f"{self.base_url}/{API_VERSION}/{path}:streamGenerateContent?alt=sse", body)

    async def parse_stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[WireEvent, None]:
        calls = 0
        async for ev in iter_sse(chunks):
            if not ev.data.strip():
                continue
            data = loads_event(self.name, ev.data)
            if data is None:
                continue
            if isinstance(data.get("error"), dict):
                err = data["error"]
                yield WireFailure(ProviderErrorKind.UNAVAILABLE, str(err.get("message") or err.get("status")))
                return
            if isinstance(data.get("responseId"), str):
                yield WireMeta(data["responseId"])
            usage = data.get("usageMetadata")
            if isinstance(usage, dict):
                out = as_int(usage.get("candidatesTokenCount"))
                thoughts = as_int(usage.get("thoughtsTokenCount"))
                if out is not None or thoughts is not None:
                    out = (out or 0) + (thoughts or 0)
                yield WireUsage(as_int(usage.get("promptTokenCount")), out)
            feedback = data.get("promptFeedback")
            if isinstance(feedback, dict) and feedback.get("blockReason"):
                yield WireFailure(ProviderErrorKind.BAD_REQUEST, f"the prompt was blocked ({feedback['blockReason']})")
                return
            candidates = data.get("candidates")
            if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
                continue
            cand = candidates[0]
            content = cand.get("content")
            parts = content.get("parts") if isinstance(content, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if isinstance(part, dict) and isinstance(part.get("text"), str) and not part.get("thought"):
                    yield WireDelta(part["text"])
                elif isinstance(part, dict) and isinstance(part.get("functionCall"), dict):
                    # Gemini sends each functionCall whole, args as an object; ids are optional
                    fc = part["functionCall"]
                    calls += 1
                    yield WireToolCall(str(fc.get("id") or f"call_{calls}"), str(fc.get("name") or ""),
                                       object_arguments(fc.get("args")))
            reason = cand.get("finishReason")
            if reason:
                yield WireFinish(str(reason))
                if reason in _BLOCKED:
                    yield WireFailure(ProviderErrorKind.BAD_REQUEST, f"the reply was stopped ({reason})")
                    return

    def models_request(self) -> PreparedRequest:
        return PreparedRequest("GET", f"{self.base_url}/{API_VERSION}/models?pageSize=1000")

    def parse_models(self, data: Any) -> list[str]:
        items = data.get("models") if isinstance(data, dict) else None
        out = []
        for m in items or []:
            if not isinstance(m, dict) or not isinstance(m.get("name"), str):
                continue
            methods = m.get("supportedGenerationMethods")
            if isinstance(methods, list) and "generateContent" not in methods:
                continue  # embedding models and the like cannot chat
            out.append(m["name"].removeprefix("models/"))
        return out
