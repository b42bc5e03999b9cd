"""ElevenLabs client against the local fake speaking the real wire format (shared/fixtures)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import numpy as np
import pytest

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.http_retry import NO_RETRY, RetryPolicy
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.storage.records import UsageRecord
from synthbot_desktop.tts.base import AudioChunk, SpeechRequest, VoiceSettings
from synthbot_desktop.tts.elevenlabs_api import ElevenLabsApi, ElevenLabsConfig
from synthbot_desktop.tts.elevenlabs_errors import StreamInterruptedError, ValidationFailedError
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsOptions, ElevenLabsSpeech
from synthbot_desktop.tts.fallback import FallbackSpeech
from synthbot_desktop.tts.voice_settings import VoiceSettingsError
from tests.support.fake_elevenlabs import DEFAULT_VOICE_ID, FAKE_API_KEY, FakeElevenLabs, start_fake_elevenlabs


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    server = start_fake_elevenlabs()
    yield server
    server.stop()


FAST_RETRY = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=0.05)


def make(fake: FakeElevenLabs, key: str = FAKE_API_KEY, **opts: Any) -> tuple[ElevenLabsSpeech, list[Any], list[Any]]:
    usage: list[UsageRecord] = []
    events: list[Any] = []
    opts.setdefault("retry", FAST_RETRY)
    provider = ElevenLabsSpeech(ElevenLabsConfig(key, fake.url, timeout_s=5), ElevenLabsOptions(**opts),
                                usage_sink=usage.append, events=events.append)
    return provider, usage, events


async def collect(stream: AsyncIterator[AudioChunk]) -> list[AudioChunk]:
    return [c async for c in stream]


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_stream_sends_the_documented_request_and_returns_aligned_pcm(fake: FakeElevenLabs) -> None:
    fake.state.chunk_bytes = 1001  # odd HTTP chunks: samples must still come out whole
    provider, usage, _ = make(fake, optimize_streaming_latency=3)
    settings = VoiceSettings(stability=0.4, similarity_boost=0.8, style=0.1, use_speaker_boost=False, speed=1.1)
    req = SpeechRequest("Hello there! How can I help you today?", settings=settings,
                        previous_text="Good morning.", next_text="Ask me anything.")
    chunks = run(collect(provider.stream(req)))
    assert all(len(c.pcm) % 2 == 0 for c in chunks)
    assert {c.format.sample_rate for c in chunks} == {24000}
    pcm = b"".join(c.pcm for c in chunks)
    expected = int(len(req.text) * 0.06 * 24000) * 2
    assert len(pcm) == expected
    samples = np.frombuffer(pcm, dtype=np.int16)
    assert np.abs(samples).max() > 1000  # real signal, byte order intact
    log = fake.state.streams[-1]
    assert log.voice_id == DEFAULT_VOICE_ID
    assert log.query["output_format"] == ["pcm_24000"]
    assert log.query["optimize_streaming_latency"] == ["3"]
    assert log.body["model_id"] == "eleven_flash_v2_5"
    assert log.body["voice_settings"] == {"stability": 0.4, "similarity_boost": 0.8, "style": 0.1,
                                          "use_speaker_boost": False, "speed": 1.1}
    assert log.body["previous_text"] == "Good morning." and log.body["next_text"] == "Ask me anything."
    [row] = usage
    assert row.success and row.characters == len(req.text) and row.request_id == "req_fake_000001"
    assert row.status_code == 200 and row.ttfb_ms is not None and row.ttfb_ms > 0
    assert row.cost_usd is not None and row.cost_usd > 0
    run(provider.aclose())


def test_time_to_first_byte_reflects_server_delay(fake: FakeElevenLabs) -> None:
    fake.state.first_byte_delay = 0.2
    provider, usage, _ = make(fake)
    run(collect(provider.stream(SpeechRequest("One sentence."))))
    assert provider.last_metrics is not None
    assert 190 <= usage[0].ttfb_ms <= 1500
    assert provider.last_metrics.request_sent is not None


def test_mp3_output_is_decoded_to_pcm(fake: FakeElevenLabs) -> None:
    provider, _, _ = make(fake, output_format="mp3_22050_32")
    chunks = run(collect(provider.stream(SpeechRequest("Decode this compressed audio please."))))
    pcm = b"".join(c.pcm for c in chunks)
    seconds = len(pcm) / 2 / 22050
    assert chunks[0].format.sample_rate == 22050
    assert abs(seconds - len("Decode this compressed audio please.") * 0.06) < 0.15
    assert np.abs(np.frombuffer(pcm, dtype=np.int16)).max() > 1000


def test_long_text_is_split_at_sentences_with_context(fake: FakeElevenLabs) -> None:
    provider, usage, _ = make(fake, max_chars=60)
    sentences = [f"This is sentence number {w} of the story." for w in ("one", "two", "three", "four")]
    run(collect(provider.stream(SpeechRequest(" ".join(sentences)))))
    bodies = [s.body for s in fake.state.streams]
    assert [b["text"] for b in bodies] == sentences
    assert all(len(b["text"]) <= 60 for b in bodies)
    assert bodies[1]["previous_text"] == sentences[0] and bodies[1]["next_text"] == sentences[2]
    assert len(usage) == 4


def test_blank_text_sends_nothing(fake: FakeElevenLabs) -> None:
    provider, usage, _ = make(fake)
    assert run(collect(provider.stream(SpeechRequest("   \n ")))) == []
    assert fake.state.streams == [] and usage == []


def test_invalid_key_is_an_authentication_error(fake: FakeElevenLabs) -> None:
    provider, usage, _ = make(fake, key="sk_wrong")
    with pytest.raises(ProviderError) as err:
        run(collect(provider.stream(SpeechRequest("Hi."))))
    assert err.value.kind is ProviderErrorKind.AUTHENTICATION and err.value.info.status_code == 401
    assert "keys set elevenlabs" in err.value.one_line()
    assert "sk_wrong" not in err.value.one_line()
    assert usage[0].success is False and usage[0].error_kind == "authentication"
    assert len(fake.state.streams) == 1  # never retried


def test_quota_exceeded_names_the_reset_date(fake: FakeElevenLabs) -> None:
    fake.state.fail_next.append((401, "elevenlabs_error_401_quota_exceeded.json", {}))
    provider, _, _ = make(fake)
    with pytest.raises(ProviderError) as err:
        run(collect(provider.stream(SpeechRequest("Hi."))))
    assert err.value.kind is ProviderErrorKind.QUOTA
    line = err.value.one_line()
    assert "0 credits remaining" in line and "2025-02-01" in line


@pytest.mark.parametrize("fixture_name", ["elevenlabs_error_429_too_many_concurrent.json",
                                          "elevenlabs_error_429_system_busy.json"])
def test_429_is_retried_then_succeeds(fake: FakeElevenLabs, fixture_name: str) -> None:
    fake.state.fail_next += [(429, fixture_name, {}), (429, fixture_name, {"retry-after": "0.05"})]
    provider, usage, _ = make(fake)
    t0 = time.perf_counter()
    chunks = run(collect(provider.stream(SpeechRequest("Retry me."))))
    assert chunks and len(fake.state.streams) == 3
    assert time.perf_counter() - t0 >= 0.055  # backoff >= 0.005 (jittered 0.01) then retry-after 0.05
    assert [u.success for u in usage] == [False, False, True]
    assert usage[0].error_kind == "rate_limit"


def test_429_gives_up_after_max_attempts(fake: FakeElevenLabs) -> None:
    fake.state.fail_next += [(429, "elevenlabs_error_429_system_busy.json", {})] * 5
    provider, _, _ = make(fake, retry=RetryPolicy(max_retries=1, base_delay_s=0.01, max_delay_s=0.02))
    with pytest.raises(ProviderError) as err:
        run(collect(provider.stream(SpeechRequest("Busy."))))
    assert err.value.kind is ProviderErrorKind.RATE_LIMIT and "system_busy" in err.value.message
    assert len(fake.state.streams) == 2


@pytest.mark.parametrize("status", [400, 404])
def test_unknown_voice_falls_back_to_default_and_says_so(fake: FakeElevenLabs, status: int) -> None:
    fake.state.voice_missing_status = status
    provider, usage, events = make(fake)
    chunks = run(collect(provider.stream(SpeechRequest("Where is my voice?", voice_id="FAKEvoiceMISSING0000"))))
    assert chunks
    assert [s.voice_id for s in fake.state.streams] == ["FAKEvoiceMISSING0000", DEFAULT_VOICE_ID]
    assert isinstance(events[0], ErrorEvent) and events[0].kind == "voice_fallback"
    assert "FAKEvoiceMISSING0000" in events[0].message
    # the next request goes straight to the default voice
    run(collect(provider.stream(SpeechRequest("Again.", voice_id="FAKEvoiceMISSING0000"))))
    assert fake.state.streams[-1].voice_id == DEFAULT_VOICE_ID and len(fake.state.streams) == 3
    assert usage[0].error_kind == "not_found"


def test_422_reports_each_field(fake: FakeElevenLabs) -> None:
    fake.state.fail_next.append((422, "elevenlabs_error_422_validation.json", {}))
    provider, _, _ = make(fake)
    with pytest.raises(ValidationFailedError) as err:
        run(collect(provider.stream(SpeechRequest("Hi."))))
    assert err.value.fields == {"text": "field required"}
    assert "text: field required" in err.value.one_line()


def test_out_of_range_settings_are_refused_before_any_request(fake: FakeElevenLabs) -> None:
    provider, _, _ = make(fake)
    with pytest.raises(VoiceSettingsError) as err:
        run(collect(provider.stream(SpeechRequest("Hi.", settings=VoiceSettings(stability=1.5, speed=2.0)))))
    assert set(err.value.fields) == {"stability", "speed"}
    assert fake.state.streams == []


def test_server_side_validation_of_speed_is_mapped_per_field(fake: FakeElevenLabs) -> None:
    # bypass local validation to prove the 422 mapping of the real shape with a nested loc
    provider, _, _ = make(fake)
    body = provider._body("Hi.", "eleven_flash_v2_5", VoiceSettings(speed=1.5), None, None)
    import httpx

    resp = httpx.post(f"{fake.url}/v1/text-to-speech/{DEFAULT_VOICE_ID}/stream", json=body,
                      headers={"xi-api-key": FAKE_API_KEY})
    from synthbot_desktop.tts.elevenlabs_errors import error_from_response

    err = error_from_response(resp.status_code, resp.headers, resp.content)
    assert isinstance(err, ValidationFailedError) and "voice_settings.speed" in err.fields


def test_stream_cut_keeps_what_arrived(fake: FakeElevenLabs) -> None:
    fake.state.cut_after_bytes = 9600
    fake.state.chunk_bytes = 4800
    provider, usage, _ = make(fake)
    got: list[AudioChunk] = []

    async def go() -> None:
        async for c in provider.stream(SpeechRequest("A long sentence that will be cut in the middle.")):
            got.append(c)

    with pytest.raises(StreamInterruptedError) as err:
        run(go())
    assert sum(len(c.pcm) for c in got) == 9600 == err.value.bytes_received
    assert usage[-1].success is False and len(fake.state.streams) == 1  # not re-requested


def test_read_timeout_after_audio_is_a_cut_not_a_retry(fake: FakeElevenLabs) -> None:
    """A stall mid-audio must not re-request the sentence: the user would hear it twice."""
    fake.state.chunk_bytes = 4800
    fake.state.chunk_delay = 1.0  # the second chunk comes after the client's read timeout
    usage: list[UsageRecord] = []
    provider = ElevenLabsSpeech(ElevenLabsConfig(FAKE_API_KEY, fake.url, timeout_s=0.3),
                                ElevenLabsOptions(retry=FAST_RETRY), usage_sink=usage.append)
    got: list[AudioChunk] = []

    async def go() -> None:
        async for c in provider.stream(SpeechRequest("A sentence whose audio stalls halfway.")):
            got.append(c)

    with pytest.raises(StreamInterruptedError) as err:
        run(go())
    assert sum(len(c.pcm) for c in got) == 4800 == err.value.bytes_received
    assert len(fake.state.streams) == 1 and usage[-1].success is False


def test_one_provider_serves_a_second_event_loop_under_contention(fake: FakeElevenLabs) -> None:
    """The GUI and CLI may drive one provider from a fresh loop: its concurrency limit must follow."""
    fake.state.chunk_delay = 0.02
    provider, _, _ = make(fake, concurrency=1)

    async def two_at_once() -> list[int]:
        async def one(text: str) -> int:
            return sum(len(c.pcm) for c in await collect(provider.stream(SpeechRequest(text))))

        return list(await asyncio.gather(one("First sentence."), one("Second sentence.")))

    assert all(run(two_at_once()))
    assert all(run(two_at_once()))  # a new loop: the old one's semaphore must not be reused
    assert len(fake.state.streams) == 4


def test_cancellation_closes_the_stream_at_once(fake: FakeElevenLabs) -> None:
    fake.state.chunk_bytes = 2400
    fake.state.chunk_delay = 0.05  # 20 chunks -> ~1 s if read to the end
    provider, usage, _ = make(fake)

    async def go() -> float:
        gen = provider.stream(SpeechRequest("x" * 20))
        first = await gen.__anext__()
        assert first.pcm
        t0 = time.perf_counter()
        await gen.aclose()
        return time.perf_counter() - t0

    assert run(go()) < 0.1
    assert usage[-1].error_kind == "cancelled"


def test_connection_refused_is_a_connection_error() -> None:
    provider = ElevenLabsSpeech(ElevenLabsConfig(FAKE_API_KEY, "http://127.0.0.1:9", timeout_s=2),
                                ElevenLabsOptions(retry=NO_RETRY))
    with pytest.raises(ProviderError) as err:
        run(collect(provider.stream(SpeechRequest("Hi."))))
    assert err.value.kind is ProviderErrorKind.CONNECTION


def test_quota_falls_back_to_piper_and_announces_it(fake: FakeElevenLabs) -> None:
    fake.state.fail_next.append((401, "elevenlabs_error_401_quota_exceeded.json", {}))
    primary, _, _ = make(fake)
    events: list[Any] = []

    class Secondary:
        name = "piper"

        async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
            from synthbot_desktop.tts.piper_engine import PiperSpeech

            async for c in PiperSpeech().stream(request):
                yield c

        async def aclose(self) -> None:
            pass

    speech = FallbackSpeech(primary, Secondary, events=events.append)
    chunks = run(collect(speech.stream(SpeechRequest("Fallback voice."))))
    assert chunks and chunks[0].format.sample_rate == 22050 and speech.last_engine == "piper"
    assert events and events[0].kind == "engine_fallback" and "quota" in events[0].message
    run(collect(speech.stream(SpeechRequest("Still offline voice."))))
    assert len(fake.state.streams) == 1  # quota is sticky: ElevenLabs not asked again


def test_catalog_calls(fake: FakeElevenLabs) -> None:
    api = ElevenLabsApi(ElevenLabsConfig(FAKE_API_KEY, fake.url))

    async def go() -> tuple[Any, ...]:
        try:
            return (await api.voices(), await api.models(), await api.voice_settings("FAKEvoice000000000002"),
                    await api.default_settings(), await api.subscription())
        finally:
            await api.aclose()

    voices, models, vs, default, sub = run(go())
    assert [v.voice_id for v in voices] == ["FAKEvoice000000000001", "FAKEvoice000000000002"]  # two v2 pages
    assert voices[0].labels["accent"] == "american" and voices[1].settings is not None
    assert {m.model_id: m.max_characters for m in models}["eleven_multilingual_v2"] == 10000
    assert vs == default and vs.speed == 1.0 and vs.similarity_boost == 0.75
    assert sub.remaining == sub.character_limit - sub.character_count and sub.next_reset is not None


def test_catalog_falls_back_to_v1_when_v2_is_absent(fake: FakeElevenLabs) -> None:
    from tests.support.fake_http import Response

    fake.add("GET", r"/v2/voices", lambda r: Response.json({"detail": "Not Found"}, 404))
    api = ElevenLabsApi(ElevenLabsConfig(FAKE_API_KEY, fake.url))
    voices = run(api.voices())
    assert len(voices) == 2


def test_a_long_retry_after_gives_up_at_once_so_speech_can_fall_back(fake: FakeElevenLabs) -> None:
    """Same policy as the LLM clients: a wait longer than a voice turn can bear is reported, not slept."""
    fake.state.fail_next += [(429, "elevenlabs_error_429_system_busy.json", {"retry-after": "30"})]
    provider, _, _ = make(fake, retry=RetryPolicy(max_retries=3, max_retry_after_s=8.0))
    t0 = time.perf_counter()
    with pytest.raises(ProviderError) as err:
        run(collect(provider.stream(SpeechRequest("Busy."))))
    assert err.value.kind is ProviderErrorKind.RATE_LIMIT and len(fake.state.streams) == 1
    assert time.perf_counter() - t0 < 5
