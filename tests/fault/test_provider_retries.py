"""Issue #14 item 11: a provider that never sends headers, or sends a 200 that is not its wire
format, must fail once, quickly and in the right words, instead of being retried 3 x 30 s."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.errors import ChatStreamError
from synthbot_desktop.llm.http_provider import HttpChatProvider
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.gemini import GeminiChatProvider
from synthbot_desktop.llm.providers.ollama import OllamaChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider
from synthbot_desktop.llm.retry import RetryPolicy
from tests.support.fake_http import FakeServer, Request, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url

KINDS = ["openai", "anthropic", "gemini", "ollama"]
CLASSES: dict[str, type[HttpChatProvider]] = {
    "openai": OpenAIChatProvider, "anthropic": AnthropicChatProvider,
    "gemini": GeminiChatProvider, "ollama": OllamaChatProvider,
}
FAST_RETRY = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture
def srv() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def _stream_error(kind: str, server: FakeServer, **kw: object) -> ChatStreamError:
    args: dict[str, object] = {"base_url": base_url(kind, server), "api_key": "sk-test-key-0123456789abcdef",
                               "default_model": "m", "retry": FAST_RETRY, "timeout_s": 5}
    args.update(kw)
    provider = CLASSES[kind](**args)  # type: ignore[arg-type]

    async def go() -> None:
        try:
            async for _ in provider.stream([ChatMessage("user", "Hi")]):
                pass
        finally:
            await provider.aclose()

    with pytest.raises(ChatStreamError) as info:
        asyncio.run(go())
    return info.value


@pytest.mark.parametrize("kind", KINDS)
def test_no_response_headers_is_not_retried(kind: str, srv: FakeServer) -> None:
    release = threading.Event()

    def stall(req: Request) -> Response:
        release.wait(10)  # accepted, never answered (until the test ends)
        return Response.json({})

    method, pattern = CHAT_ROUTES[kind]
    srv.add(method, pattern, stall)
    started = time.perf_counter()
    try:
        err = _stream_error(kind, srv, timeout_s=0.5)
    finally:
        release.set()
    elapsed = time.perf_counter() - started
    assert err.kind is ProviderErrorKind.TIMEOUT
    assert len(srv.requests) == 1, "a request that got no headers was sent again"
    assert elapsed < 3, f"took {elapsed:.1f} s"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("body", [b"{not json", b"", b'{"unexpected": true}', b"<html>hello</html>"])
def test_malformed_200_body_is_a_bad_response_not_retried(kind: str, body: bytes, srv: FakeServer) -> None:
    method, pattern = CHAT_ROUTES[kind]
    srv.add(method, pattern, lambda req: Response.raw_json(body))
    err = _stream_error(kind, srv)
    assert err.kind is ProviderErrorKind.PROTOCOL, err.one_line()
    line = err.one_line()
    assert "could not be reached" not in line and "check the network" not in line
    assert len(srv.requests) == 1, "a malformed reply was retried"
