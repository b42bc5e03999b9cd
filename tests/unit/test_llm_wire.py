"""Stream decoding and error mapping, byte by byte."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator

import httpx

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.llm.http_errors import error_from_response, error_from_transport, parse_retry_after
from synthbot_desktop.llm.lines import LineSplitter, iter_sse
from synthbot_desktop.llm.retry import RetryPolicy


def test_line_splitter_handles_every_terminator_across_chunks() -> None:
    data = b"a\r\nb\nc\rd\r\n\r\ne"
    for size in range(1, len(data) + 1):
        sp = LineSplitter()
        lines: list[str] = []
        for i in range(0, len(data), size):
            lines += sp.feed(data[i:i + size])
        lines += sp.finish()
        assert lines == ["a", "b", "c", "d", "", "e"], size


def test_multibyte_split_and_invalid_bytes() -> None:
    sp = LineSplitter()
    assert sp.feed(b"caf" + b"\xc3") == []
    assert sp.feed(b"\xa9 \xff\n") == ["café \ufffd"]


async def _chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for p in parts:
        yield p


def test_sse_events_multiline_comments_and_crlf() -> None:
    raw = b": hello\r\n\r\nevent: x\r\ndata: 1\r\ndata: 2\r\n\r\ndata:3\n\ndata: tail-without-blank"
    async def run() -> list[tuple[str | None, str]]:
        return [(e.event, e.data) async for e in iter_sse(_chunks([raw[i:i + 3] for i in range(0, len(raw), 3)]))]
    assert asyncio.run(run()) == [("x", "1\n2"), (None, "3"), (None, "tail-without-blank")]


def test_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    now = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2025 12:00:30 GMT"}, now) == 30
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


def test_status_mapping_without_body() -> None:
    cases = {401: ProviderErrorKind.AUTHENTICATION, 402: ProviderErrorKind.QUOTA, 403: ProviderErrorKind.PERMISSION,
             404: ProviderErrorKind.NOT_FOUND, 408: ProviderErrorKind.TIMEOUT, 413: ProviderErrorKind.CONTEXT_TOO_LONG,
             429: ProviderErrorKind.RATE_LIMIT, 500: ProviderErrorKind.UNAVAILABLE, 529: ProviderErrorKind.UNAVAILABLE,
             400: ProviderErrorKind.BAD_REQUEST}
    for status, kind in cases.items():
        assert error_from_response("openai", status, {}, b"").kind is kind, status


def test_ollama_string_error_and_anthropic_spend_cap() -> None:
    e = error_from_response("ollama", 404, {}, b'{"error":"model \\"foo\\" not found, try pulling it first"}')
    assert e.kind is ProviderErrorKind.NOT_FOUND and "try pulling it" in str(e)
    cap = (b'{"type":"error","error":{"type":"rate_limit_error","message":"cap",'
           b'"details":{"error_code":"enforced_spend_limit_reached"}},"request_id":"req_9"}')
    e = error_from_response("anthropic", 429, {}, cap)
    assert e.kind is ProviderErrorKind.QUOTA and not e.retryable and e.info.request_id == "req_9"


def test_transport_errors_name_the_url() -> None:
    e = error_from_transport("openai", httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] bad cert"), "https://x.test/v1")
    assert e.kind is ProviderErrorKind.CONNECTION and "TLS" in str(e) and "https://x.test/v1" in str(e)
    e = error_from_transport("openai", httpx.ReadTimeout("slow"), "http://h")
    assert e.kind is ProviderErrorKind.TIMEOUT


def test_retry_policy_backoff_jitter_and_bounds() -> None:
    policy = RetryPolicy(max_retries=3, base_delay_s=0.5, max_delay_s=2.0, max_retry_after_s=10, rng=random.Random(1))
    busy = ProviderError("x", ProviderErrorKind.UNAVAILABLE)
    delays = [policy.delay_for(busy, n) for n in range(4)]
    assert delays[3] is None
    for n, d in enumerate(delays[:3]):
        cap = min(2.0, 0.5 * 2 ** n)
        assert d is not None and cap / 2 <= d <= cap
    assert policy.delay_for(ProviderError("x", ProviderErrorKind.AUTHENTICATION), 0) is None
    assert policy.delay_for(ProviderError("x", ProviderErrorKind.QUOTA), 0) is None
    limited = ProviderError("x", ProviderErrorKind.RATE_LIMIT, retry_after=3)
    d = policy.delay_for(limited, 0)
    assert d is not None and 3 <= d <= 3.25
    assert policy.delay_for(ProviderError("x", ProviderErrorKind.RATE_LIMIT, retry_after=60), 0) is None


def test_openai_reasoning_models_get_max_completion_tokens_and_no_temperature() -> None:
    from synthbot_desktop.llm.base import ChatMessage
    from synthbot_desktop.llm.providers.openai import OpenAIChatProvider, is_reasoning_model

    assert [is_reasoning_model(m) for m in ("o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5", "openai/o3-mini",
                                            "gpt-4o-mini", "gpt-4.1", "llama3.2", "qwen2.5-7b")] == [
        True, True, True, True, True, False, False, False, False]
    provider = OpenAIChatProvider(base_url="http://127.0.0.1:9/v1", api_key="sk-test-abcdefghijklmnop")
    msgs = [ChatMessage("user", "hi")]
    chat = provider.build_chat_request(msgs, "gpt-4o-mini", system="s", temperature=0.7, max_tokens=50).json
    assert chat["max_tokens"] == 50 and chat["temperature"] == 0.7 and "max_completion_tokens" not in chat
    reasoning = provider.build_chat_request(msgs, "o3-mini", system="s", temperature=0.7, max_tokens=50).json
    assert reasoning["max_completion_tokens"] == 50
    assert "max_tokens" not in reasoning and "temperature" not in reasoning


def test_gemini_tool_schema_keeps_only_what_gemini_accepts() -> None:
    """MCP servers send full JSON schema; Gemini rejects unknown Schema fields, so they are dropped."""
    from synthbot_desktop.llm.providers.gemini import gemini_schema

    mcp_style = {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                 "additionalProperties": False, "title": "addArguments", "required": ["a"],
                 "properties": {"a": {"type": "integer", "title": "A"},
                                "tags": {"type": "array", "items": {"type": "string", "$comment": "x"}},
                                "mode": {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "null"}],
                                         "default": None}}}
    assert gemini_schema(mcp_style) == {
        "type": "object", "title": "addArguments", "required": ["a"],
        "properties": {"a": {"type": "integer", "title": "A"}, "tags": {"type": "array", "items": {"type": "string"}},
                       "mode": {"anyOf": [{"type": "string", "enum": ["x"]}, {"type": "null"}], "default": None}}}
