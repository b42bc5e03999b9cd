"""ElevenLabs streaming text-to-speech: ``POST /v1/text-to-speech/{voice_id}/stream``.

Audio is asked for as raw PCM (``pcm_24000`` by default) so the first bytes can be played as
they arrive; MP3 is decoded incrementally when chosen. Long text is split at sentence
boundaries under the per-request limit, and neighbouring pieces are sent as previous/next text
so the prosody flows across requests. Errors are mapped to ProviderError; 429s are retried with
backoff (only before any audio was handed on); an unknown voice falls back to the default voice
and says so; a stream cut mid-audio keeps what arrived and then raises StreamInterruptedError.
Breaking out of the iteration (or cancelling the task) closes the HTTP stream at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from synthbot_desktop.errors import ErrorKind, ProviderError, ProviderErrorKind
from synthbot_desktop.http_retry import RetryPolicy
from synthbot_desktop.pipeline.events import ErrorEvent, EventSink
from synthbot_desktop.redaction import redact
from synthbot_desktop.tts.base import AudioChunk, AudioFormat, SpeechRequest, VoiceSettings
from synthbot_desktop.tts.elevenlabs_api import (
    DEFAULT_MODEL_ID,
    DEFAULT_VOICE_ID,
    ElevenLabsApi,
    ElevenLabsConfig,
    make_client,
)
from synthbot_desktop.tts.elevenlabs_errors import (
    PROVIDER,
    StreamInterruptedError,
    VoiceNotFoundError,
    error_from_response,
)
from synthbot_desktop.tts.metrics import MetricsSink, SpeechMetrics
from synthbot_desktop.tts.mp3_decoder import Mp3Decoder, format_rate
from synthbot_desktop.tts.pcm import SampleAligner, duration_s
from synthbot_desktop.tts.text_split import split_for_requests
from synthbot_desktop.tts.usage import UsageSink, usage_from_metrics
from synthbot_desktop.tts.voice_settings import merge, to_json, validate, validate_output_format

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ElevenLabsOptions:
    """Request defaults; a SpeechRequest's own voice/model/settings win over these."""

    voice_id: str = DEFAULT_VOICE_ID
    model_id: str = DEFAULT_MODEL_ID
    output_format: str = "pcm_24000"
    settings: VoiceSettings = dataclasses.field(default_factory=VoiceSettings)
    optimize_streaming_latency: int = 0
    max_chars: int = 2500  # free-tier per-request limit: safe for every plan and model
    #: the same policy as the LLM clients; a Retry-After beyond 8 s gives up, so the turn falls
    #: back to the offline voice instead of sitting silent
    retry: RetryPolicy = dataclasses.field(default_factory=lambda: RetryPolicy(max_retries=3, max_retry_after_s=8.0))
    concurrency: int = 2  # the smallest plan's concurrent-request limit
    default_voice_id: str = DEFAULT_VOICE_ID


class ElevenLabsSpeech:
    """A SpeechProvider speaking through ElevenLabs' HTTP streaming endpoint."""

    name = PROVIDER

    def __init__(
        self,
        config: ElevenLabsConfig,
        options: ElevenLabsOptions | None = None,
        *,
        usage_sink: UsageSink | None = None,
        metrics_sink: MetricsSink | None = None,
        events: EventSink | None = None,
        client: httpx.AsyncClient | None = None,
        pricing_dir: Path | None = None,
    ) -> None:
        self.config = config
        self.options = options or ElevenLabsOptions()
        validate_output_format(self.options.output_format)
        self.usage_sink = usage_sink
        self.metrics_sink = metrics_sink
        self.events = events
        self.pricing_dir = pricing_dir  # where the user's pricing.toml overrides live
        self._given_client = client
        self._loop: asyncio.AbstractEventLoop | None = None
        self._http: httpx.AsyncClient | None = None
        self._limit: asyncio.Semaphore | None = None
        self.last_metrics: SpeechMetrics | None = None
        self.voice_fallbacks: set[str] = set()  # voices found missing this session

    @property
    def audio_format(self) -> AudioFormat:
        return AudioFormat(format_rate(self.options.output_format))

    def _bound(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        """The pooled client and concurrency limit, bound to the loop that uses them.

        Both front ends now run every provider call on one loop for the life of the process (the
        GUI's engine loop, the CLI's one ``asyncio.run``), so this is created once. Pooled
        connections and a semaphore cannot cross loops, though: if a different loop ever shows up
        (the old one closed), the pair is rebuilt rather than failing with "loop is closed".
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._http is None or self._limit is None:
            self._loop = loop
            self._http = self._given_client or make_client(self.config, event_hooks={"request": [self._on_request]})
            self._limit = asyncio.Semaphore(max(1, self.options.concurrency))
        return self._http, self._limit

    @property
    def _client(self) -> httpx.AsyncClient:
        return self._bound()[0]

    async def aclose(self) -> None:
        client, self._http = self._http, None
        if client is not None and client is not self._given_client and self._loop is asyncio.get_running_loop():
            await client.aclose()

    async def warm(self) -> None:
        """Open the keep-alive connection before the turn needs it (issue #12), with a free GET of
        the model list on the same pooled client the TTS request will use. Never raises: a warm-up
        is an optimisation, the turn reports real errors."""
        try:
            resp = await self._client.get("/v1/models")
            await resp.aread()
        except (httpx.HTTPError, OSError) as exc:
            log.debug("ElevenLabs warm-up failed: %s", type(exc).__name__)

    @staticmethod
    async def _on_request(request: httpx.Request) -> None:
        metrics = request.extensions.get("synthbot_metrics")
        if isinstance(metrics, SpeechMetrics):
            metrics.request_sent = time.perf_counter()

    def _notice(self, message: str, kind: ErrorKind) -> None:
        log.warning("%s", message)
        if self.events is not None:
            try:
                self.events(ErrorEvent(message=message, kind=kind, recoverable=True))
            except Exception:  # a sink must never break speech
                log.exception("event sink failed")

    def _semaphore(self) -> asyncio.Semaphore:
        return self._bound()[1]

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        """Audio for ``request`` as PCM chunks; nothing (and no request) for blank text."""
        settings = validate(merge(self.options.settings, request.settings))
        voice_id = request.voice_id or self.options.voice_id
        if voice_id in self.voice_fallbacks:
            voice_id = self.options.default_voice_id
        model_id = request.model_id or self.options.model_id
        pieces = split_for_requests(request.text, self.options.max_chars)
        for i, piece in enumerate(pieces):
            previous = request.previous_text if i == 0 else pieces[i - 1]
            following = request.next_text if i == len(pieces) - 1 else pieces[i + 1]
            async for chunk in self._stream_piece(piece, voice_id, model_id, settings, previous, following):
                yield chunk
            if voice_id in self.voice_fallbacks:
                voice_id = self.options.default_voice_id

    def _body(self, text: str, model_id: str, settings: VoiceSettings,
              previous: str | None, following: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, "model_id": model_id}
        vs = to_json(settings)
        if vs:
            body["voice_settings"] = vs
        if previous:
            body["previous_text"] = previous[-1000:]
        if following:
            body["next_text"] = following[:1000]
        return body

    async def _stream_piece(self, text: str, voice_id: str, model_id: str, settings: VoiceSettings,
                            previous: str | None, following: str | None) -> AsyncIterator[AudioChunk]:
        fmt = self.audio_format
        params: dict[str, Any] = {"output_format": self.options.output_format}
        if self.options.optimize_streaming_latency:
            params["optimize_streaming_latency"] = self.options.optimize_streaming_latency
        attempt = 0
        while True:
            attempt += 1
            m = SpeechMetrics(PROVIDER, len(text), voice_id, model_id, started=time.perf_counter(), attempts=attempt)
            endpoint = f"/v1/text-to-speech/{voice_id}/stream"
            error: ProviderError | None = None
            retry_with: str | None = None  # a voice id to retry with, after a missing voice
            try:
                async with self._semaphore():
                    req = self._client.build_request(
                        "POST", endpoint, params=params,
                        json=self._body(text, model_id, settings, previous, following),
                        extensions={"synthbot_metrics": m},
                    )
                    resp = await self._client.send(req, stream=True)
                    try:
                        m.status_code = resp.status_code
                        m.request_id = resp.headers.get("request-id") or resp.headers.get("x-trace-id")
                        if resp.status_code != 200:
                            error = error_from_response(resp.status_code, resp.headers, await resp.aread(),
                                                        voice_id=voice_id)
                        else:
                            cost = resp.headers.get("character-cost")
                            m.character_cost = int(cost) if cost and cost.isdigit() else None
                            async for chunk in self._audio(resp, m, fmt):
                                yield chunk
                    finally:
                        await resp.aclose()
            except (GeneratorExit, asyncio.CancelledError):
                m.error_kind = ProviderErrorKind.CANCELLED.value
                self._finish(m, endpoint, "cancelled by the caller")
                raise
            except (httpx.TransportError, httpx.StreamError) as exc:
                # Once audio was handed on, a retry would speak it twice: a read timeout
                # mid-stream is a cut like any other broken connection.
                if m.audio_bytes:
                    cut = StreamInterruptedError(m.audio_bytes, type(exc).__name__,
                                                 status_code=m.status_code, request_id=m.request_id)
                    m.error_kind = cut.kind.value
                    self._finish(m, endpoint, cut.message)
                    raise cut from None
                if isinstance(exc, httpx.TimeoutException):
                    error = ProviderError(PROVIDER, ProviderErrorKind.TIMEOUT,
                                          f"no answer within {self.config.timeout_s:g} s")
                else:
                    error = ProviderError(PROVIDER, ProviderErrorKind.CONNECTION,
                                          redact(str(exc)) or type(exc).__name__)
            if error is None:
                self._finish(m, endpoint, None)
                return
            m.error_kind = error.kind.value
            self._finish(m, endpoint, error.message)
            if isinstance(error, VoiceNotFoundError) and voice_id != self.options.default_voice_id:
                retry_with = self.options.default_voice_id
                self.voice_fallbacks.add(voice_id)
                self._notice(f"ElevenLabs voice {voice_id} was not found; speaking with the default voice "
                             f"{retry_with} instead", ErrorKind.VOICE_FALLBACK)
                voice_id = retry_with
                continue
            delay = self.options.retry.delay_for(error, attempt - 1)
            if delay is not None:
                log.info("ElevenLabs: %s; retrying in %.2f s (attempt %d)", error.kind, delay, attempt + 1)
                await asyncio.sleep(delay)
                continue
            if error.kind is ProviderErrorKind.QUOTA:
                error = await self._with_reset_date(error)
            raise error

    async def _audio(self, resp: httpx.Response, m: SpeechMetrics, fmt: AudioFormat) -> AsyncIterator[AudioChunk]:
        aligner = SampleAligner(fmt)
        decoder = Mp3Decoder(fmt.sample_rate) if self.options.output_format.startswith("mp3") else None
        async for raw in resp.aiter_raw():
            if not raw:
                continue
            if m.first_byte is None:
                m.first_byte = time.perf_counter()
            pcm = aligner.feed(decoder.feed(raw) if decoder else raw)
            if pcm:
                m.audio_bytes += len(pcm)
                if m.first_chunk_out is None:
                    m.first_chunk_out = time.perf_counter()
                yield AudioChunk(pcm, fmt)
        if decoder is not None:
            pcm = aligner.feed(decoder.flush())
            if pcm:
                m.audio_bytes += len(pcm)
                yield AudioChunk(pcm, fmt)

    def _finish(self, m: SpeechMetrics, endpoint: str, error_message: str | None) -> None:
        m.finished = time.perf_counter()
        m.audio_seconds = duration_s(m.audio_bytes, self.audio_format)
        self.last_metrics = m
        if self.metrics_sink is not None:
            self.metrics_sink(m)
        if self.usage_sink is not None:
            try:
                self.usage_sink(usage_from_metrics(m, endpoint, error_message=error_message,
                                                   config_dir=self.pricing_dir))
            except Exception:  # recording must never break speech
                log.exception("could not record ElevenLabs usage")

    async def _with_reset_date(self, error: ProviderError) -> ProviderError:
        """Quota errors tell the user when the quota resets (from /v1/user/subscription)."""
        api = ElevenLabsApi(self.config, client=self._client)
        try:
            sub = await asyncio.wait_for(api.subscription(), timeout=5.0)
        except (ProviderError, TimeoutError):
            return error
        if sub.next_reset is None:
            return error
        hint = (f"{sub.character_count}/{sub.character_limit} characters used; the quota resets on "
                f"{sub.next_reset:%Y-%m-%d %H:%M} UTC — upgrade the plan or let the app fall back to Piper")
        return ProviderError(PROVIDER, ProviderErrorKind.QUOTA, error.info.detail, status_code=error.info.status_code,
                             request_id=error.info.request_id, hint=hint)
