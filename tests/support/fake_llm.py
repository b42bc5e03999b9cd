"""Fake LLM provider servers speaking the real wire formats, for tests, the conversation loop
and benchmarks.

``start_fake_llm(kind, reply_text, first_token_delay, tokens_per_second)`` starts a
:class:`FakeServer` on 127.0.0.1 answering like OpenAI (SSE + usage chunk + ``[DONE]``),
Anthropic (named SSE events), Gemini (CRLF SSE, ``usageMetadata``) or Ollama (NDJSON), plus
each provider's model list. ``base_url(kind, server)`` is the URL to put in
``SYNTHBOT_<KIND>_BASE_URL`` (OpenAI's includes ``/v1``).

Standalone: ``python -m tests.support.fake_llm --kind openai --reply "Hi." --first-token-delay 0.3
--tps 40`` prints the base URL on stdout and serves until killed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import sys
import threading
from collections.abc import Iterable
from typing import Any

from tests.support.fake_http import Chunk, FakeServer, Request, Response

KINDS = ("openai", "anthropic", "gemini", "ollama")
REQUEST_IDS = {"openai": "req_fake00000000000000000000000001", "anthropic": "req_fakeAnthropic0000000001"}


def split_tokens(text: str) -> list[str]:
    """Word-sized pieces with their leading whitespace, like real token streams."""
    return re.findall(r"\s*\S+", text) or ([text] if text else [])


def _paced(frames: list[bytes], first_token_delay: float, tokens_per_second: float,
           head: Iterable[bytes] = (), tail: Iterable[bytes] = ()) -> list[Chunk]:
    out: list[Chunk] = list(head)
    gap = 1.0 / tokens_per_second if tokens_per_second > 0 else 0.0
    for i, frame in enumerate(frames):
        pause = first_token_delay if i == 0 else gap
        if pause > 0:
            out.append(float(pause))
        out.append(frame)
    if not frames and first_token_delay > 0:
        out.append(float(first_token_delay))
    out.extend(tail)
    return out


def _sse(data: Any, event: str | None = None, crlf: bool = False) -> bytes:
    nl = "\r\n" if crlf else "\n"
    payload = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}{nl}" if event else ""
    return f"{head}data: {payload}{nl}{nl}".encode()


def prompt_tokens(req: Request) -> int:
    """A deterministic, request-dependent prompt size (chars/4), so usage reflects the input."""
    return max(1, len(req.body) // 4)


def chat_response(kind: str, req: Request, reply_text: str, first_token_delay: float = 0.0,
                  tokens_per_second: float = 0.0, *, usage: bool = True, model: str | None = None) -> Response:
    """One streamed chat reply in ``kind``'s wire format."""
    tokens = split_tokens(reply_text)
    body = req.json() or {}
    model = model or body.get("model") or "fake-model"
    n_in, n_out = prompt_tokens(req), len(tokens)
    if kind == "openai":
        base = {"id": "chatcmpl-fake1", "object": "chat.completion.chunk", "created": 1736935200, "model": model}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            return _sse({**base, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]})

        head = [chunk({"role": "assistant", "content": ""})]
        tail = [chunk({}, "stop")]
        if usage and (body.get("stream_options") or {}).get("include_usage"):
            tail.append(_sse({**base, "choices": [], "usage": {"prompt_tokens": n_in, "completion_tokens": n_out,
                                                               "total_tokens": n_in + n_out}}))
        tail.append(_sse("[DONE]"))
        frames = [chunk({"content": t}) for t in tokens]
        headers = {"content-type": "text/event-stream; charset=utf-8", "x-request-id": REQUEST_IDS["openai"]}
    elif kind == "anthropic":
        start = {"type": "message_start", "message": {
            "id": "msg_fake1", "type": "message", "role": "assistant", "content": [], "model": model,
            "stop_reason": None, "stop_sequence": None,
            **({"usage": {"input_tokens": n_in, "output_tokens": 1}} if usage else {})}}
        head = [_sse(start, "message_start"),
                _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                     "content_block_start"),
                _sse({"type": "ping"}, "ping")]
        frames = [_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
                       "content_block_delta") for t in tokens]
        delta: dict[str, Any] = {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}}
        if usage:
            delta["usage"] = {"output_tokens": n_out}
        tail = [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
                _sse(delta, "message_delta"),
                _sse({"type": "message_stop"}, "message_stop")]
        headers = {"content-type": "text/event-stream; charset=utf-8", "request-id": REQUEST_IDS["anthropic"]}
    elif kind == "gemini":
        model = req.match.group("model") if req.match else model
        frames = []
        for i, t in enumerate(tokens):
            last = i == len(tokens) - 1
            meta: dict[str, Any] = {"promptTokenCount": n_in, "totalTokenCount": n_in}
            if last:
                meta = {"promptTokenCount": n_in, "candidatesTokenCount": n_out, "totalTokenCount": n_in + n_out}
            cand: dict[str, Any] = {"content": {"parts": [{"text": t}], "role": "model"}, "index": 0}
            if last:
                cand["finishReason"] = "STOP"
            ev: dict[str, Any] = {"candidates": [cand], "modelVersion": model, "responseId": "fakeResp1"}
            if usage:
                ev["usageMetadata"] = meta
            frames.append(_sse(ev, crlf=True))
        head, tail = [], []
        if not tokens:
            tail = [_sse({"candidates": [{"content": {"parts": [{"text": ""}], "role": "model"},
                                          "finishReason": "STOP", "index": 0}], "responseId": "fakeResp1"}, crlf=True)]
        headers = {"content-type": "text/event-stream", "content-disposition": "attachment"}
    elif kind == "ollama":
        def line(obj: dict[str, Any]) -> bytes:
            return (json.dumps(obj) + "\n").encode()

        stamp = "2025-01-15T10:00:00.000000001Z"
        frames = [line({"model": model, "created_at": stamp, "message": {"role": "assistant", "content": t},
                        "done": False}) for t in tokens]
        final: dict[str, Any] = {"model": model, "created_at": stamp, "message": {"role": "assistant", "content": ""},
                                 "done_reason": "stop", "done": True, "total_duration": 1000}
        if usage:
            final.update(prompt_eval_count=n_in, eval_count=n_out)
        head, tail = [], [line(final)]
        headers = {"content-type": "application/x-ndjson"}
    else:
        raise ValueError(f"unknown fake LLM kind {kind!r}; expected one of {KINDS}")
    return Response(200, headers, _paced(frames, first_token_delay, tokens_per_second, head, tail))


def models_response(kind: str, names: Iterable[str]) -> Response:
    names = list(names)
    if kind == "openai":
        return Response.json({"object": "list", "data": [
            {"id": n, "object": "model", "created": 1721172741, "owned_by": "system"} for n in names]})
    if kind == "anthropic":
        return Response.json({"data": [{"type": "model", "id": n, "display_name": n, "created_at": "2025-09-29T00:00:00Z"}
                                       for n in names], "has_more": False})
    if kind == "gemini":
        return Response.json({"models": [{"name": f"models/{n}", "displayName": n,
                                          "supportedGenerationMethods": ["generateContent", "countTokens"]}
                                         for n in names] + [
            {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]}]})
    return Response.json({"models": [{"name": n, "model": n, "size": 1, "details": {"family": "llama"}} for n in names]})


CHAT_ROUTES = {
    "openai": ("POST", r"/v1/chat/completions"),
    "anthropic": ("POST", r"/v1/messages"),
    "gemini": ("POST", r"/v1beta/models/(?P<model>[^:/]+):streamGenerateContent"),
    "ollama": ("POST", r"/api/chat"),
}
MODEL_ROUTES = {"openai": r"/v1/models", "anthropic": r"/v1/models", "gemini": r"/v1beta/models", "ollama": r"/api/tags"}
DEFAULT_MODELS = {
    "openai": ["gpt-4o-mini", "gpt-4o"],
    "anthropic": ["claude-3-5-haiku-latest", "claude-sonnet-4-5-20250929"],
    "gemini": ["gemini-2.0-flash", "gemini-2.5-flash"],
    "ollama": ["llama3.2:latest", "qwen2.5:7b"],
}


def base_url(kind: str, server: FakeServer) -> str:
    """The provider base URL as the app expects it (OpenAI's includes /v1)."""
    return server.url + "/v1" if kind == "openai" else server.url


def install_fake_llm(server: FakeServer, kind: str, reply_text: str = "Hello there!", first_token_delay: float = 0.0,
                     tokens_per_second: float = 0.0, *, usage: bool = True,
                     models: Iterable[str] | None = None) -> FakeServer:
    """Add ``kind``'s chat and model-list routes to an existing server."""
    method, pattern = CHAT_ROUTES[kind]
    server.add(method, pattern, lambda req: chat_response(kind, req, reply_text, first_token_delay,
                                                          tokens_per_second, usage=usage))
    names = list(models or DEFAULT_MODELS[kind])
    server.add("GET", MODEL_ROUTES[kind], lambda req: models_response(kind, names))
    if kind == "ollama":
        server.add("GET", r"/", lambda req: Response(200, {"content-type": "text/plain"}, b"Ollama is running"))
    return server


def start_fake_llm(kind: str, reply_text: str = "Hello there!", first_token_delay: float = 0.0,
                   tokens_per_second: float = 0.0, *, usage: bool = True,
                   models: Iterable[str] | None = None) -> FakeServer:
    """A started fake ``kind`` server (call ``.stop()`` when done, or use it as a context manager)."""
    if kind not in KINDS:
        raise ValueError(f"unknown fake LLM kind {kind!r}; expected one of {KINDS}")
    server = FakeServer()
    install_fake_llm(server, kind, reply_text, first_token_delay, tokens_per_second, usage=usage, models=models)
    return server.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kind", choices=KINDS, default="openai")
    parser.add_argument("--reply", default="Hello there! This is a fake reply.")
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--tps", type=float, default=0.0, help="tokens per second (0 = as fast as possible)")
    parser.add_argument("--no-usage", action="store_true", help="send no usage fields")
    args = parser.parse_args(argv)
    server = start_fake_llm(args.kind, args.reply, args.first_token_delay, args.tps, usage=not args.no_usage)
    print(base_url(args.kind, server), flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
