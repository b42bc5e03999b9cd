"""A scripted OpenAI-wire server for tool turns: round N of a turn answers with script[N].

A round is known from the request itself (how many ``role: "tool"`` messages it carries), so the
server needs no state; each scripted round is either text or a list of tool calls, streamed the
way OpenAI does it (the call's id and name first, then the arguments in pieces, then
``finish_reason: "tool_calls"`` and a usage chunk).
"""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_http import FakeServer, Request, Response

SSE = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": "req_tools"}
Call = tuple[str, str, str]  # (id, name, raw arguments text)


def _sse(obj: Any) -> bytes:
    return f"data: {json.dumps(obj)}\n\n".encode()


def tool_calls_body(calls: list[Call], text: str = "", prompt_tokens: int = 50) -> bytes:
    out = []
    base = {"id": "chatcmpl-t", "object": "chat.completion.chunk", "model": "gpt-4o-mini"}
    if text:
        out.append(_sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": text},
                                              "finish_reason": None}]}))
    for i, (cid, name, args) in enumerate(calls):
        out.append(_sse({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
            {"index": i, "id": cid, "type": "function", "function": {"name": name, "arguments": ""}}]},
            "finish_reason": None}]}))
        for piece in (args[: len(args) // 2], args[len(args) // 2:]):  # arguments arrive in pieces
            out.append(_sse({**base, "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": i, "function": {"arguments": piece}}]}, "finish_reason": None}]}))
    out.append(_sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}))
    out.append(_sse({**base, "choices": [], "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 20}}))
    return b"".join(out) + b"data: [DONE]\n\n"


def text_body(text: str, prompt_tokens: int = 90) -> bytes:
    base = {"id": "chatcmpl-x", "object": "chat.completion.chunk", "model": "gpt-4o-mini"}
    words = text.split(" ")
    out = [_sse({**base, "choices": [{"index": 0, "delta": {"content": w + (" " if i < len(words) - 1 else "")},
                                      "finish_reason": None}]}) for i, w in enumerate(words)]
    out.append(_sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    out.append(_sse({**base, "choices": [], "usage": {"prompt_tokens": prompt_tokens,
                                                      "completion_tokens": len(words)}}))
    return b"".join(out) + b"data: [DONE]\n\n"


def install_script(server: FakeServer, rounds: list[list[Call] | str]) -> FakeServer:
    """Answer ``/v1/chat/completions`` by the round the request is in (tool-call rounds so far)."""

    def answer(req: Request) -> Response:
        body = req.json() or {}
        done = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant" and m.get("tool_calls"))
        step = rounds[min(done, len(rounds) - 1)]
        if isinstance(step, str):
            return Response(200, SSE, text_body(step))
        return Response(200, SSE, tool_calls_body(step))

    server.add("POST", r"/v1/chat/completions", answer)
    return server
