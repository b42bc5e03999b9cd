"""Each provider client against a local server replaying the recorded wire fixtures verbatim."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage, ChatUsage, TextDelta
from synthbot_desktop.llm.errors import ChatStreamError
from synthbot_desktop.llm.http_provider import HttpChatProvider
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.gemini import GeminiChatProvider
from synthbot_desktop.llm.providers.ollama import OllamaChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider
from synthbot_desktop.llm.retry import NO_RETRY
from tests.conftest import FIXTURES
from tests.support.fake_http import FakeServer, Response

KEY = "sk-fixture-key-0123456789abcdef"
STREAMS = {
    "openai": ("POST", r"/v1/chat/completions", "openai_chat_stream.sse", "text/event-stream; charset=utf-8",
               (14, 3, "stop")),
    "anthropic": ("POST", r"/v1/messages", "anthropic_messages_stream.sse", "text/event-stream; charset=utf-8",
                  (21, 6, "end_turn")),
    "gemini": ("POST", r"/v1beta/models/[^/]+:streamGenerateContent", "gemini_stream.sse", "text/event-stream",
               (12, 3, "STOP")),
    "ollama": ("POST", r"/api/chat", "ollama_chat_stream.ndjson", "application/x-ndjson", (26, 3, "stop")),
}
CLASSES: dict[str, type[HttpChatProvider]] = {
    "openai": OpenAIChatProvider, "anthropic": AnthropicChatProvider,
    "gemini": GeminiChatProvider, "ollama": OllamaChatProvider,
}


@pytest.fixture(scope="module")
def _shared_server() -> Iterator[FakeServer]:
    with FakeServer() as server:  # one server per module: stopping one costs 0.5 s
        yield server


@pytest.fixture
def fake_server(_shared_server: FakeServer) -> FakeServer:
    _shared_server.routes.clear()
    _shared_server.requests.clear()
    return _shared_server


def make(kind: str, server: FakeServer) -> HttpChatProvider:
    url = server.url + ("/v1" if kind == "openai" else "")
    return CLASSES[kind](base_url=url, api_key=None if kind == "ollama" else KEY, default_model="m",
                        retry=NO_RETRY, timeout_s=5)


async def collect(p: HttpChatProvider, text: str = "Hi") -> tuple[str, ChatUsage]:
    items = [x async for x in p.stream([ChatMessage("user", text)], system="Be brief.")]
    await p.aclose()
    assert isinstance(items[-1], ChatUsage)
    assert all(isinstance(x, TextDelta) for x in items[:-1])
    return "".join(x.text for x in items[:-1] if isinstance(x, TextDelta)), items[-1]


def chunked(data: bytes, size: int = 7) -> list[bytes | float]:
    """Split a fixture into small network writes, so frames straddle reads (as on the wire)."""
    return [data[i:i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("kind", list(STREAMS))
def test_fixture_stream_gives_text_and_provider_usage(kind: str, fake_server: FakeServer) -> None:
    method, path, fixture, ctype, (n_in, n_out, finish) = STREAMS[kind]
    body = (FIXTURES / fixture).read_bytes()
    fake_server.add(method, path, lambda r: Response(200, {"content-type": ctype, "request-id": "req_X1",
                                                           "x-request-id": "req_X1"}, chunked(body)))
    text, usage = asyncio.run(collect(make(kind, fake_server)))
    assert text == "Hello there!"
    assert (usage.tokens_in, usage.tokens_out, usage.estimated) == (n_in, n_out, False)
    assert usage.finish_reason == finish
    assert usage.status_code == 200
    assert usage.ttft_ms is not None and usage.latency_ms is not None and usage.latency_ms >= usage.ttft_ms
    if kind != "ollama":
        assert usage.request_id == "req_X1"


def test_request_wire_shapes(fake_server: FakeServer) -> None:
    for method, path, fixture, ctype, _ in STREAMS.values():
        body = (FIXTURES / fixture).read_bytes()
        fake_server.add(method, path, lambda r, b=body, c=ctype: Response(200, {"content-type": c}, [b]))
    for kind in STREAMS:
        asyncio.run(collect(make(kind, fake_server), "What is up?"))
    reqs = {r.path: r for r in fake_server.requests}
    oa = reqs["/v1/chat/completions"]
    assert oa.headers["authorization"] == f"Bearer {KEY}"
    assert oa.json()["stream"] is True and oa.json()["stream_options"] == {"include_usage": True}
    assert oa.json()["messages"][0] == {"role": "system", "content": "Be brief."}
    an = reqs["/v1/messages"]
    assert an.headers["x-api-key"] == KEY and an.headers["anthropic-version"] == "2023-06-01"
    assert "authorization" not in an.headers
    assert an.json()["system"] == "Be brief." and an.json()["max_tokens"] > 0
    assert an.json()["messages"] == [{"role": "user", "content": "What is up?"}]
    ge = reqs["/v1beta/models/m:streamGenerateContent"]
    assert ge.query == {"alt": ["sse"]} and ge.headers["x-goog-api-key"] == KEY
    assert ge.json()["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert ge.json()["contents"] == [{"role": "user", "parts": [{"text": "What is up?"}]}]
    ol = reqs["/api/chat"]
    assert "authorization" not in ol.headers and ol.json()["stream"] is True


ERRORS = [
    ("openai", "openai_error_401_invalid_api_key.json", 401, ProviderErrorKind.AUTHENTICATION),
    ("openai", "openai_error_429_insufficient_quota.json", 429, ProviderErrorKind.QUOTA),
    ("openai", "openai_error_429_rate_limit.json", 429, ProviderErrorKind.RATE_LIMIT),
    ("anthropic", "anthropic_error_401_authentication.json", 401, ProviderErrorKind.AUTHENTICATION),
    ("anthropic", "anthropic_error_429_rate_limit.json", 429, ProviderErrorKind.RATE_LIMIT),
    ("anthropic", "anthropic_error_529_overloaded.json", 529, ProviderErrorKind.UNAVAILABLE),
    ("gemini", "gemini_error_400_api_key_invalid.json", 400, ProviderErrorKind.AUTHENTICATION),
    ("gemini", "gemini_error_429_resource_exhausted.json", 429, ProviderErrorKind.RATE_LIMIT),
    ("gemini", "gemini_error_503_unavailable.json", 503, ProviderErrorKind.UNAVAILABLE),
]


@pytest.mark.parametrize(("kind", "fixture", "status", "expected"), ERRORS)
def test_fixture_errors_map_to_kinds(kind: str, fixture: str, status: int, expected: ProviderErrorKind,
                                     fake_server: FakeServer) -> None:
    method, path, *_ = STREAMS[kind]
    body = Path(FIXTURES / fixture).read_bytes()
    fake_server.add(method, path, lambda r: Response.raw_json(body, status, {"request-id": "req_E1",
                                                                              "x-request-id": "req_E1"}))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make(kind, fake_server)))
    err = info.value
    assert err.kind is expected
    assert err.info.status_code == status
    assert err.partial_text == "" and not err.incomplete
    assert err.usage.latency_ms is not None
    assert "req_E1" in str(err) or (err.info.request_id or "").startswith("req_")
    if fixture == "gemini_error_429_resource_exhausted.json":
        assert err.info.retry_after == 58.0  # RetryInfo.retryDelay
    if expected is ProviderErrorKind.AUTHENTICATION:
        assert "keys set" in err.one_line()


def test_anthropic_midstream_overloaded_keeps_partial(fake_server: FakeServer) -> None:
    body = (FIXTURES / "anthropic_messages_stream_overloaded_midstream.sse").read_bytes()
    fake_server.add("POST", r"/v1/messages", lambda r: Response(200, {"content-type": "text/event-stream",
                                                                      "request-id": "req_M1"}, [body]))
    with pytest.raises(ChatStreamError) as info:
        asyncio.run(collect(make("anthropic", fake_server)))
    err = info.value
    assert err.kind is ProviderErrorKind.UNAVAILABLE and "Overloaded" in str(err)
    assert err.partial_text == "Hello" and err.incomplete
    assert err.usage.tokens_in == 21 and err.usage.request_id == "req_M1"
    assert len(fake_server.requests) == 1  # text was shown: never retried


@pytest.mark.parametrize(("kind", "fixture"), [("openai", "openai_models_list.json"), ("ollama", "ollama_tags.json")])
def test_model_lists_from_fixtures(kind: str, fixture: str, fake_server: FakeServer) -> None:
    body = (FIXTURES / fixture).read_bytes()
    fake_server.add("GET", r"/v1/models" if kind == "openai" else r"/api/tags", lambda r: Response.raw_json(body))
    p = make(kind, fake_server)
    models = asyncio.run(p.list_models())
    expected = {"openai": ["gpt-4.1-mini", "gpt-4o", "gpt-4o-mini"], "ollama": ["llama3.2:latest", "qwen2.5:7b"]}
    assert models == expected[kind]
