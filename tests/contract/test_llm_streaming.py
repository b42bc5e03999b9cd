"""Provider clients under bad conditions: broken streams, retries, timeouts, cancellation,
odd bytes and huge replies, all against local servers speaking the real wire formats."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage, ChatUsage, TextDelta
from synthbot_desktop.llm.errors import ChatStreamError
from synthbot_desktop.llm.http_provider import HttpChatProvider
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.gemini import GeminiChatProvider
from synthbot_desktop.llm.providers.ollama import OllamaChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider
from synthbot_desktop.llm.retry import NO_RETRY, RetryPolicy
from synthbot_desktop.redaction import REDACTOR
from tests.support.fake_http import FakeServer, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response, install_fake_llm

KINDS = ["openai", "anthropic", "gemini", "ollama"]
CLASSES: dict[str, type[HttpChatProvider]] = {
    "openai": OpenAIChatProvider, "anthropic": AnthropicChatProvider,
    "gemini": GeminiChatProvider, "ollama": OllamaChatProvider,
}
FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture(scope="module")
def _shared() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def srv(_shared: FakeServer) -> FakeServer:
    _shared.routes.clear()
    _shared.requests.clear()
    return _shared


def make(kind: str, server: FakeServer | str, *, key: str | None = "sk-test-key-0123456789abcdef", **kw: object
         ) -> HttpChatProvider:
    url = server if isinstance(server, str) else base_url(kind, server)
    args: dict[str, object] = {"base_url": url, "api_key": key, "default_model": "m", "retry": NO_RETRY, "timeout_s": 5}
    args.update(kw)
    return CLASSES[kind](**args)  # type: ignore[arg-type]


async def collect(p: HttpChatProvider, text: str = "Hi") -> tuple[str, ChatUsage]:
    try:
        items = [x async for x in p.stream([ChatMessage("user", text)])]
    finally:
        await p.aclose()
    return "".join(x.text for x in items if isinstance(x, TextDelta)), items[-1]  # type: ignore[return-value]


def route(server: FakeServer, kind: str, handler) -> None:  # type: ignore[no-untyped-def]
    method, pattern = CHAT_ROUTES[kind]
    server.add(method, pattern, handler)


@pytest.mark.parametrize("kind", KINDS)
def test_fake_server_stream_and_real_usage(kind: str, srv: FakeServer) -> None:
    install_fake_llm(srv, kind, "One two three four five.", tokens_per_second=500)
    text, usage = asyncio.run(collect(make(kind, srv)))
    assert text == "One two three four five."
    assert usage.tokens_out == 5 and not usage.estimated
    assert usage.tokens_in == len(srv.requests[0].body) // 4  # what the server counted


@pytest.mark.parametrize("kind", KINDS)
def test_missing_usage_is_estimated_and_marked(kind: str, srv: FakeServer) -> None:
    install_fake_llm(srv, kind, "Some words here", usage=False)
    text, usage = asyncio.run(collect(make(kind, srv)))
    assert text == "Some words here"
    assert usage.estimated is True and usage.tokens_out == 4 and usage.tokens_in and usage.tokens_in > 0


@pytest.mark.parametrize("kind", KINDS)
def test_cut_mid_stream_keeps_partial_and_marks_it(kind: str, srv: FakeServer) -> None:
    def handler(req):  # type: ignore[no-untyped-def]
        full = chat_response(kind, req, "alpha beta gamma delta epsilon")
        chunks = [c for c in full.body if isinstance(c, bytes)]  # type: ignore[union-attr]
        return Response(200, full.headers, chunks[: len(chunks) // 2 + 1], cut=True)

    route(srv, kind, handler)
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make(kind, srv, retry=FAST_RETRY)))
    err = info.value
    assert err.kind is ProviderErrorKind.CONNECTION
    assert err.incomplete and "alpha" in err.partial_text and "epsilon" not in err.partial_text
    assert err.usage.ttft_ms is not None
    assert len(srv.requests) == 1  # text already shown: no retry


@pytest.mark.parametrize("kind", KINDS)
def test_empty_reply(kind: str, srv: FakeServer) -> None:
    install_fake_llm(srv, kind, "")
    text, usage = asyncio.run(collect(make(kind, srv)))
    assert text == "" and usage.tokens_out == 0 and usage.ttft_ms is None


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_malformed_line_skipped_and_unknown_events_ignored(kind: str, srv: FakeServer) -> None:
    def handler(req):  # type: ignore[no-untyped-def]
        full = chat_response(kind, req, "Good answer")
        chunks = [c for c in full.body if isinstance(c, bytes)]  # type: ignore[union-attr]
        junk = [b"data: {this is not json\n\n", b": keep-alive comment\n\n",
                b'event: brand_new_event\ndata: {"type":"brand_new_event","x":1}\n\n']
        return Response(200, full.headers, chunks[:2] + junk + chunks[2:])

    route(srv, kind, handler)
    text, usage = asyncio.run(collect(make(kind, srv)))
    assert text == "Good answer" and not usage.estimated


def test_non_utf8_bytes_are_replaced_not_fatal(srv: FakeServer) -> None:
    lines = [b'{"model":"m","message":{"role":"assistant","content":"caf\xc3', b'\xa9 ok \xff"},"done":false}\n',
             b'{"model":"m","message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":3,'
             b'"eval_count":2}\n']
    route(srv, "ollama", lambda r: Response(200, {"content-type": "application/x-ndjson"}, lines))
    text, usage = asyncio.run(collect(make("ollama", srv)))
    assert text == "café ok \ufffd"  # split multi-byte char rejoined; invalid byte replaced
    assert usage.tokens_out == 2


def test_ten_megabyte_reply(srv: FakeServer) -> None:
    piece = "x" * 1000
    n = 10_000

    def handler(req):  # type: ignore[no-untyped-def]
        def body() -> Iterator[bytes]:
            for _ in range(n):
                yield (json.dumps({"message": {"role": "assistant", "content": piece}, "done": False}) + "\n").encode()
            yield b'{"message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":1,"eval_count":9}\n'
        return Response(200, {"content-type": "application/x-ndjson"}, body())

    route(srv, "ollama", handler)
    started = time.perf_counter()
    text, usage = asyncio.run(collect(make("ollama", srv)))
    assert len(text) == n * len(piece) and usage.tokens_out == 9
    assert time.perf_counter() - started < 30


def test_one_giant_sse_line(srv: FakeServer) -> None:
    big = "y" * 3_000_000
    frame = ('data: {"choices":[{"index":0,"delta":{"content":"' + big + '"},"finish_reason":"stop"}]}\n\n').encode()
    chunks: list[bytes | float] = [frame[i:i + 65536] for i in range(0, len(frame), 65536)] + [b"data: [DONE]\n\n"]
    route(srv, "openai", lambda r: Response(200, {"content-type": "text/event-stream"}, chunks))
    text, _ = asyncio.run(collect(make("openai", srv)))
    assert text == big


def test_slow_drip_hits_first_token_timeout(srv: FakeServer) -> None:
    frame = b'data: {"choices":[{"index":0,"delta":{"content":"late"}}]}\n\n'
    drip: list[bytes | float] = []
    for b in frame:
        drip += [0.1, bytes([b])]
    route(srv, "openai", lambda r: Response(200, {"content-type": "text/event-stream"}, drip))
    started = time.perf_counter()
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv, first_token_timeout_s=0.5)))
    assert info.value.kind is ProviderErrorKind.TIMEOUT and "0.5" in str(info.value)
    assert time.perf_counter() - started < 3


def test_slow_drip_after_first_token_is_fine(srv: FakeServer) -> None:
    install_fake_llm(srv, "anthropic", "a b c d e", tokens_per_second=10)
    text, _ = asyncio.run(collect(make("anthropic", srv, first_token_timeout_s=0.3)))
    assert text == "a b c d e"


def test_429_retry_after_then_success(srv: FakeServer) -> None:
    calls: list[float] = []

    def handler(req):  # type: ignore[no-untyped-def]
        calls.append(time.perf_counter())
        if len(calls) == 1:
            return Response.json({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                                 429, {"retry-after": "0.3", "request-id": "req_rl"})
        return chat_response("anthropic", req, "Finally here")

    route(srv, "anthropic", handler)
    text, usage = asyncio.run(collect(make("anthropic", srv, retry=FAST_RETRY)))
    assert text == "Finally here"
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.3  # retry-after honoured
    assert usage.ttft_ms is not None and usage.ttft_ms >= 300  # measured from the first attempt


def test_retries_are_bounded_and_quota_is_not_retried(srv: FakeServer) -> None:
    route(srv, "openai", lambda r: Response.json({"error": {"message": "busy", "type": "server_error"}}, 503))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv, retry=FAST_RETRY)))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and len(srv.requests) == 3
    srv.requests.clear()
    route(srv, "openai", lambda r: Response.json({"error": {"message": "no money", "type": "insufficient_quota",
                                                            "code": "insufficient_quota"}}, 429))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv, retry=FAST_RETRY)))
    assert info.value.kind is ProviderErrorKind.QUOTA and len(srv.requests) == 1


def test_long_retry_after_is_reported_not_slept(srv: FakeServer) -> None:
    route(srv, "gemini", lambda r: Response.json({"error": {"code": 429, "message": "quota", "status":
                                                            "RESOURCE_EXHAUSTED"}}, 429, {"retry-after": "58"}))
    started = time.perf_counter()
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("gemini", srv, retry=FAST_RETRY)))
    assert info.value.info.retry_after == 58 and "58 s" in info.value.one_line()
    assert time.perf_counter() - started < 2 and len(srv.requests) == 1


def test_html_error_page_and_context_too_long(srv: FakeServer) -> None:
    route(srv, "openai", lambda r: Response(502, {"content-type": "text/html"}, b"<html><h1>502 Bad Gateway</h1></html>"))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv)))
    assert info.value.kind is ProviderErrorKind.UNAVAILABLE and "502 Bad Gateway" in str(info.value)
    route(srv, "openai", lambda r: Response.json({"error": {"message": "This model's maximum context length is 8192",
                                                            "type": "invalid_request_error",
                                                            "code": "context_length_exceeded"}}, 400))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv)))
    assert info.value.kind is ProviderErrorKind.CONTEXT_TOO_LONG and "new session" in info.value.one_line()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_and_wrong_base_url(srv: FakeServer) -> None:
    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("ollama", url, retry=FAST_RETRY)))
    assert info.value.kind is ProviderErrorKind.CONNECTION and url in str(info.value)
    assert "base URL" in info.value.one_line()
    # Right host, wrong path (e.g. OpenAI base URL without /v1): a clear not-found, not a crash.
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv.url)))
    assert info.value.kind is ProviderErrorKind.NOT_FOUND and info.value.info.status_code == 404


@pytest.mark.parametrize("kind", KINDS)
def test_cancellation_closes_the_stream_at_once(kind: str, srv: FakeServer) -> None:
    sent = {"n": 0}
    lock = threading.Lock()

    def handler(req):  # type: ignore[no-untyped-def]
        full = chat_response(kind, req, " ".join(f"w{i}" for i in range(400)), tokens_per_second=50)

        def counted() -> Iterator[bytes | float]:
            for c in full.body:  # type: ignore[union-attr]
                if isinstance(c, bytes):
                    with lock:
                        sent["n"] += 1
                yield c
        return Response(200, full.headers, counted())

    route(srv, kind, handler)

    async def run() -> str:
        p = make(kind, srv)
        got: list[str] = []

        async def consume() -> None:
            async for item in p.stream([ChatMessage("user", "talk")]):
                if isinstance(item, TextDelta):
                    got.append(item.text)

        task = asyncio.create_task(consume())
        while len(got) < 3:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await p.aclose()
        return "".join(got)

    started = time.perf_counter()
    partial = asyncio.run(run())
    assert partial.startswith(" w0 w1" if kind != "ollama" and kind != "gemini" else "w0 w1") or "w0" in partial
    time.sleep(0.3)  # the server notices the closed socket on its next writes
    with lock:
        after_close = sent["n"]
    time.sleep(0.4)
    with lock:
        assert sent["n"] == after_close, "server kept streaming: the HTTP stream was not closed"
    assert after_close < 60  # far from the 400 tokens of the full reply
    assert time.perf_counter() - started < 5


def test_closing_the_generator_closes_the_stream(srv: FakeServer) -> None:
    sent = {"n": 0}

    def handler(req):  # type: ignore[no-untyped-def]
        full = chat_response("openai", req, " ".join(["tok"] * 300), tokens_per_second=50)

        def counted() -> Iterator[bytes | float]:
            for c in full.body:  # type: ignore[union-attr]
                if isinstance(c, bytes):
                    sent["n"] += 1
                yield c
        return Response(200, full.headers, counted())

    route(srv, "openai", handler)

    async def run() -> tuple[int, int]:
        p = make("openai", srv)
        gen = p.stream([ChatMessage("user", "x")])
        assert isinstance(await gen.__anext__(), TextDelta)
        await gen.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.3)  # loop alive, client object alive: only an explicit close stops the server
        n1 = sent["n"]
        await asyncio.sleep(0.4)
        n2 = sent["n"]
        await p.aclose()
        return n1, n2

    n1, n2 = asyncio.run(run())
    assert n1 == n2 and n1 < 40


def test_api_key_never_in_errors_or_logs(srv: FakeServer, caplog: pytest.LogCaptureFixture) -> None:
    key = "sk-proj-SECRETsecret0123456789ABCDEFGH"
    REDACTOR.forget_all()

    def handler(req):  # type: ignore[no-untyped-def]
        sent_key = req.headers["authorization"].removeprefix("Bearer ")
        return Response.json({"error": {"message": f"Incorrect API key provided: {sent_key}. Bad.",
                                        "type": "invalid_request_error", "code": "invalid_api_key"}}, 401)

    route(srv, "openai", handler)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("openai", srv, key=key, retry=FAST_RETRY)))
    err = info.value
    assert err.kind is ProviderErrorKind.AUTHENTICATION
    for text in (str(err), repr(err), err.one_line(), str(err.info), caplog.text):
        assert key not in text
    assert "Incorrect API key provided" in str(err)
    srv.requests.clear()
    with pytest.raises(ChatStreamError):
        asyncio.run(collect(make("openai", f"http://127.0.0.1:{_free_port()}", key=key, retry=FAST_RETRY)))
    assert key not in caplog.text
