"""The streaming engine shared by every HTTP chat provider.

Provider modules only describe their wire format (how to build the request, how to read the
stream, how to list models); this class owns everything that must behave the same for all of
them: timeouts (connect/read and time-to-first-token), bounded retries before the first
token, mapping failures to :class:`ProviderError`, measuring latency and time to first token,
usage (estimated and marked only when the provider gave none), and cancellation — closing the
async generator or cancelling its task leaves the ``async with`` block, which closes the HTTP
stream at once (what barge-in needs).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.http_retry import RetryPolicy
from synthbot_desktop.llm.base import ChatMessage, ChatUsage, StreamItem, TextDelta, ToolCall
from synthbot_desktop.llm.errors import ChatStreamError
from synthbot_desktop.llm.http_errors import error_from_response, error_from_transport
from synthbot_desktop.llm.tokens import estimate_messages_tokens, estimate_tokens
from synthbot_desktop.redaction import redact, register_secret

log = logging.getLogger(__name__)

ERROR_BODY_LIMIT = 64 * 1024


# What a provider's stream parser reports -------------------------------------------------------
@dataclass(frozen=True)
class WireDelta:
    text: str


@dataclass(frozen=True)
class WireUsage:
    """Token counts as the provider reports them; None = not in this event."""

    tokens_in: int | None = None
    tokens_out: int | None = None


@dataclass(frozen=True)
class WireFinish:
    reason: str | None


@dataclass(frozen=True)
class WireFailure:
    """An error event inside an HTTP 200 stream (e.g. Anthropic ``overloaded_error``)."""

    kind: ProviderErrorKind
    detail: str


@dataclass(frozen=True)
class WireMeta:
    """An id from the body (Gemini ``responseId``), used when no request-id header came."""

    request_id: str


@dataclass(frozen=True)
class WireToolCall:
    """A complete tool call assembled by the parser from the provider's pieces."""

    id: str
    name: str
    arguments: str


WireEvent = WireDelta | WireUsage | WireFinish | WireFailure | WireMeta | WireToolCall


@dataclass
class PreparedRequest:
    method: str
    url: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _CallState:
    started: float
    parts: list[str] = field(default_factory=list)
    ttft_ms: float | None = None
    status_code: int | None = None
    request_id: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    finish: str | None = None
    finished: bool = False
    tool_calls: int = 0
    #: wire events parsed and body bytes read: a 200 with none parsed is not the provider's format
    events: int = 0
    bytes_in: int = 0


class HttpChatProvider(abc.ABC):
    """Base for OpenAI, Anthropic, Gemini and Ollama clients (one module each)."""

    name: str = "http"
    #: response header holding the provider's request id
    request_id_header: str = "x-request-id"

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None = None,
        default_model: str = "",
        timeout_s: float = 30.0,
        first_token_timeout_s: float | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key or None
        register_secret(self.api_key)  # whatever path the key came from, it is never printed
        self.default_model = default_model
        self.timeout_s = timeout_s
        self.first_token_timeout_s = first_token_timeout_s if first_token_timeout_s is not None else timeout_s
        self.retry = retry or RetryPolicy()
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    # To implement per provider -----------------------------------------------------------------
    @abc.abstractmethod
    def auth_headers(self) -> dict[str, str]: ...

    @abc.abstractmethod
    def build_chat_request(self, messages: Sequence[ChatMessage], model: str, *, system: str | None,
                           temperature: float | None, max_tokens: int | None) -> PreparedRequest: ...

    @abc.abstractmethod
    def parse_stream(self, chunks: AsyncIterator[bytes]) -> AsyncGenerator[WireEvent, None]: ...

    @abc.abstractmethod
    def models_request(self) -> PreparedRequest: ...

    @abc.abstractmethod
    def parse_models(self, data: Any) -> list[str]: ...

    # Shared machinery ----------------------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                http2=self.base_url.startswith("https://") and self._transport is None,
                transport=self._transport,
                follow_redirects=False,
                headers={"user-agent": "synthbot-desktop"},
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def warm(self) -> None:
        """Open the connection (TCP + TLS, HTTP/2 where offered) before a turn needs it.

        Called by the voice loop when speech starts, so the request made at end of speech reuses a
        pooled keep-alive connection instead of paying the handshakes. It sends the provider's own
        model-list request (free, no tokens); any answer, even an error, leaves the connection
        open, and a failure is only logged: the turn itself reports real errors.
        """
        req = self.models_request()
        try:
            resp = await self.client.request(req.method, req.url, headers={**self.auth_headers(), **req.headers},
                                             timeout=httpx.Timeout(5.0))
            await resp.aread()
        except httpx.HTTPError as exc:
            log.debug("%s warm-up failed: %s", self.name, type(exc).__name__)

    def endpoint(self, url: str) -> str:
        """The request path without host or query, for the usage log."""
        return httpx.URL(url).path

    async def _send_json(self, req: PreparedRequest) -> Any:
        """One non-streaming request (model lists, key checks) with the same error mapping."""
        headers = {**self.auth_headers(), **req.headers}
        try:
            resp = await self.client.request(req.method, req.url, headers=headers, json=req.json)
        except httpx.HTTPError as exc:
            raise error_from_transport(self.name, exc, self.base_url) from None
        if resp.status_code >= 400:
            raise error_from_response(self.name, resp.status_code, resp.headers, resp.content[:ERROR_BODY_LIMIT],
                                      request_id=resp.headers.get(self.request_id_header))
        try:
            return resp.json()
        except ValueError:
            raise ProviderError(self.name, ProviderErrorKind.PROTOCOL, "the reply was not JSON",
                                status_code=resp.status_code,
                                hint=f"check that providers.{self.name}.base_url points at a {self.name} API") from None

    def add_tools(self, req: PreparedRequest, tools: list[dict[str, Any]]) -> None:
        """Offer ``tools`` in the request body, in this provider's shape."""
        raise ProviderError(self.name, ProviderErrorKind.PROTOCOL, "this provider does not support tools")

    async def list_models(self) -> list[str]:
        return sorted(set(self.parse_models(await self._send_json(self.models_request()))))

    async def validate_key(self) -> None:
        """Raise ProviderError(authentication) when the key is refused; cheap (lists models)."""
        await self.list_models()

    def stream(
        self,
        messages: Sequence[ChatMessage],
        model: str | None = None,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: Sequence[dict[str, Any]] | None = None,
    ) -> AsyncIterator[StreamItem]:
        """Stream :class:`TextDelta` (and, when ``tools`` are offered, :class:`ToolCall`) items,
        then one :class:`ChatUsage`. ``tools`` are neutral specs (name, description, parameters).

        Raises :class:`ChatStreamError` (a ProviderError) carrying the partial text and usage.
        """
        if not messages:
            raise ValueError("stream() needs at least one message")
        return self._run(list(messages), model or self.default_model, system, temperature, max_tokens, tools)

    async def _guarded(self, resp: httpx.Response, state: _CallState) -> AsyncIterator[bytes]:
        """The body's bytes, enforcing the time-to-first-token limit against slow drips, and,
        once text has come, ``timeout_s`` without another event (issue #14: keep-alive comments
        or blank lines after some text reset the read timeout, so a stuck stream held the turn
        for as long as the server kept sending them)."""
        deadline = time.perf_counter() + self.first_token_timeout_s
        progress = (state.events, len(state.parts), state.tool_calls)
        last_progress = time.perf_counter()
        async for chunk in resp.aiter_bytes():
            now = time.perf_counter()
            if not state.parts and now > deadline:
                raise ProviderError(self.name, ProviderErrorKind.TIMEOUT,
                                    f"no reply text within {self.first_token_timeout_s:g} s",
                                    status_code=state.status_code, request_id=state.request_id)
            seen = (state.events, len(state.parts), state.tool_calls)
            if seen != progress:
                progress, last_progress = seen, now
            elif state.parts and now - last_progress > self.timeout_s:
                raise ProviderError(self.name, ProviderErrorKind.TIMEOUT,
                                    f"no more reply text for {self.timeout_s:g} s (the server kept the "
                                    "connection open without sending any)",
                                    status_code=state.status_code, request_id=state.request_id)
            state.bytes_in += len(chunk)
            yield chunk

    async def _attempt(self, req: PreparedRequest, state: _CallState) -> AsyncGenerator[str | ToolCall, None]:
        headers = {**self.auth_headers(), **req.headers}
        async with self.client.stream(req.method, req.url, headers=headers, json=req.json) as resp:
            state.status_code = resp.status_code
            state.request_id = resp.headers.get(self.request_id_header) or state.request_id
            if resp.status_code >= 400:
                body = bytearray()
                async for chunk in resp.aiter_bytes():
                    body += chunk
                    if len(body) >= ERROR_BODY_LIMIT:
                        break
                raise error_from_response(self.name, resp.status_code, resp.headers, bytes(body),
                                          request_id=state.request_id)
            events = self.parse_stream(self._guarded(resp, state))
            async with contextlib.aclosing(events):
                async for ev in events:
                    state.events += 1
                    if isinstance(ev, WireDelta):
                        if ev.text:
                            yield ev.text
                    elif isinstance(ev, WireToolCall):
                        yield ToolCall(ev.id, ev.name, ev.arguments)
                    elif isinstance(ev, WireUsage):
                        state.tokens_in = ev.tokens_in if ev.tokens_in is not None else state.tokens_in
                        state.tokens_out = ev.tokens_out if ev.tokens_out is not None else state.tokens_out
                    elif isinstance(ev, WireFinish):
                        state.finished = True
                        state.finish = ev.reason or state.finish
                    elif isinstance(ev, WireMeta):
                        state.request_id = state.request_id or ev.request_id
                    elif isinstance(ev, WireFailure):
                        raise ProviderError(self.name, ev.kind, redact(ev.detail)[:400],
                                            status_code=resp.status_code, request_id=state.request_id)
            if not state.finished and state.events == 0:
                # The body ended cleanly (a cut raises in httpx) without one event we understand:
                # garbage, an empty body or some other API's JSON. Sending it again will not help.
                ctype = resp.headers.get("content-type", "no content type").split(";")[0]
                raise ProviderError(self.name, ProviderErrorKind.PROTOCOL,
                                    f"bad response: {state.bytes_in} bytes of {ctype} that are not a {self.name} stream",
                                    status_code=resp.status_code, request_id=state.request_id,
                                    hint=f"check that providers.{self.name}.base_url points at a {self.name} API")
            if not state.finished:
                raise ProviderError(self.name, ProviderErrorKind.CONNECTION,
                                    "the stream ended before the reply was complete",
                                    status_code=resp.status_code, request_id=state.request_id)

    async def _run(self, messages: list[ChatMessage], model: str, system: str | None,
                   temperature: float | None, max_tokens: int | None,
                   tools: Sequence[dict[str, Any]] | None = None) -> AsyncIterator[StreamItem]:
        req = self.build_chat_request(messages, model, system=system, temperature=temperature, max_tokens=max_tokens)
        if tools:
            self.add_tools(req, list(tools))
        prompt_texts = [m.content for m in messages] + ([system] if system else [])
        state = _CallState(started=time.perf_counter())
        retries = 0
        while True:
            try:
                # aclosing: when our consumer stops, the inner stream (and its HTTP response)
                # is closed now, not whenever the garbage collector finalizes it.
                async with contextlib.aclosing(self._attempt(req, state)) as texts:
                    async for text in texts:
                        if isinstance(text, ToolCall):
                            state.tool_calls += 1
                            yield text
                            continue
                        if state.ttft_ms is None:
                            state.ttft_ms = (time.perf_counter() - state.started) * 1000
                        state.parts.append(text)
                        yield TextDelta(text)
                break
            except (ProviderError, httpx.HTTPError) as exc:
                error = exc if isinstance(exc, ProviderError) else error_from_transport(self.name, exc, self.base_url)
                # A read timeout before any response headers already cost a whole timeout_s: the
                # server took the request and sat on it, so a retry would only multiply the wait.
                no_headers = isinstance(exc, httpx.ReadTimeout) and state.status_code is None
            delay = (None if state.parts or state.tool_calls or no_headers
                     else self.retry.delay_for(error, retries))
            if delay is None:
                raise ChatStreamError(error, partial_text="".join(state.parts),
                                      usage=self._usage(state, model, prompt_texts)) from None
            retries += 1
            log.info("%s: %s; retry %d in %.2f s", self.name, error.kind, retries, delay)
            state = _CallState(started=state.started, request_id=state.request_id)
            await asyncio.sleep(delay)
        yield self._usage(state, model, prompt_texts)

    def _usage(self, state: _CallState, model: str, prompt_texts: list[str]) -> ChatUsage:
        tokens_in, tokens_out, estimated = state.tokens_in, state.tokens_out, False
        if tokens_in is None:
            tokens_in, estimated = estimate_messages_tokens(prompt_texts), True
        if tokens_out is None:
            tokens_out, estimated = estimate_tokens("".join(state.parts)), True
        return ChatUsage(
            provider=self.name, model=model, tokens_in=tokens_in, tokens_out=tokens_out, estimated=estimated,
            request_id=state.request_id, finish_reason=state.finish, status_code=state.status_code,
            ttft_ms=state.ttft_ms, latency_ms=(time.perf_counter() - state.started) * 1000,
        )
