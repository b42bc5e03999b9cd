"""The fake ElevenLabs server's `/stream/with-timestamps` (used by the Pipecat reference bot in the
side-by-side latency benchmark) frames the same audio as `/stream`, as NDJSON lines with base64 audio."""

from __future__ import annotations

import base64
import json

import httpx

from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs


def test_with_timestamps_is_ndjson_of_the_same_audio() -> None:
    server = start_fake_elevenlabs(chunk_bytes=4800)
    try:
        voice = sorted(server.state.voice_ids())[0]
        body = {"text": "Hello there, friend.", "model_id": "eleven_flash_v2_5"}
        headers = {"xi-api-key": FAKE_API_KEY}
        params = {"output_format": "pcm_24000"}
        plain = httpx.post(f"{server.url}/v1/text-to-speech/{voice}/stream", json=body, headers=headers,
                           params=params, timeout=10)
        framed = httpx.post(f"{server.url}/v1/text-to-speech/{voice}/stream/with-timestamps", json=body,
                            headers=headers, params=params, timeout=10)
    finally:
        server.stop()
    assert plain.status_code == framed.status_code == 200
    lines = [json.loads(line) for line in framed.text.splitlines() if line.strip()]
    assert len(lines) > 1 and framed.headers["content-type"] == "application/json"
    assert b"".join(base64.b64decode(x["audio_base64"]) for x in lines) == plain.content
    first = lines[0]["alignment"]
    assert "".join(first["characters"]) == body["text"]
    assert first["character_end_times_seconds"][-1] > first["character_start_times_seconds"][0]
    assert all(x["alignment"] is None for x in lines[1:])
