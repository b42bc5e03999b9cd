"""Hypothesis fuzzing of what the app reads from outside (issue #14): each provider's stream parser
(SSE for OpenAI/Anthropic/Gemini, NDJSON for Ollama), the settings file, and audio file headers
given to the transcribe decoder. The only exceptions allowed are the app's own one-line errors
(``SynthbotError`` and its kinds); anything else (KeyError, TypeError, AttributeError,
IndexError, RecursionError, ...) is an unhandled exception the person would see as a crash.
"""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.config import REGISTRY, Settings
from synthbot_desktop.errors import AudioError, ConfigError, SynthbotError
from synthbot_desktop.llm.http_provider import HttpChatProvider
from synthbot_desktop.llm.providers.anthropic import AnthropicChatProvider
from synthbot_desktop.llm.providers.gemini import GeminiChatProvider
from synthbot_desktop.llm.providers.ollama import OllamaChatProvider
from synthbot_desktop.llm.providers.openai import OpenAIChatProvider

PROVIDERS: dict[str, type[HttpChatProvider]] = {
    "openai": OpenAIChatProvider, "anthropic": AnthropicChatProvider,
    "gemini": GeminiChatProvider, "ollama": OllamaChatProvider,
}
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])

# Field names the four wire formats use, so generated JSON reaches deep into the parsers.
WIRE_KEYS = ["choices", "delta", "content", "text", "role", "message", "done", "done_reason", "usage",
             "prompt_tokens", "completion_tokens", "input_tokens", "output_tokens", "error", "type", "index",
             "candidates", "parts", "finishReason", "usageMetadata", "promptTokenCount", "candidatesTokenCount",
             "tool_calls", "function", "arguments", "name", "id", "finish_reason", "content_block", "stop_reason",
             "eval_count", "prompt_eval_count", "code", "status", "functionCall", "args", "input", "partial_json"]
EVENT_TYPES = ["message_start", "content_block_start", "content_block_delta", "content_block_stop",
               "message_delta", "message_stop", "ping", "error", "text_delta", "input_json_delta", "tool_use"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=20), st.sampled_from(EVENT_TYPES))
json_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(WIRE_KEYS), inner, max_size=5)), max_leaves=25)


def _frame(kind: str, value: Any, event: str | None) -> bytes:
    text = json.dumps(value)
    if kind == "ollama":
        return text.encode() + b"\n"
    head = f"event: {event}\n" if event and kind == "anthropic" else ""
    return f"{head}data: {text}\n\n".encode()


async def _aiter(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for c in chunks:
        yield c


def _parse(kind: str, chunks: list[bytes]) -> None:
    provider = PROVIDERS[kind](base_url="http://127.0.0.1:9", api_key="sk-fuzz-0123456789", default_model="m")

    async def go() -> None:
        try:
            async for _ in provider.parse_stream(_aiter(chunks)):
                pass
        except SynthbotError:
            pass  # a typed, one-line protocol error is the right answer to garbage
        finally:
            await provider.aclose()

    asyncio.run(go())


def _rechunk(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    out, prev = [], 0
    for p in [*points, len(data)]:
        out.append(data[prev:p])
        prev = p
    return [c for c in out if c]


@pytest.mark.parametrize("kind", list(PROVIDERS))
@FUZZ
@given(frames=st.lists(st.tuples(json_values, st.none() | st.sampled_from(EVENT_TYPES)), max_size=8),
       cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_stream_parsers_take_any_json_frames(kind: str, frames: list[tuple[Any, str | None]], cuts: list[int]) -> None:
    body = b"".join(_frame(kind, v, e) for v, e in frames)
    _parse(kind, _rechunk(body, cuts))


@pytest.mark.parametrize("kind", list(PROVIDERS))
@FUZZ
@given(chunks=st.lists(st.one_of(
    st.binary(max_size=120),
    st.sampled_from([b"data: ", b"data: [DONE]\n\n", b"event: error\n", b"\r\n", b"\n\n", b"\r", b":",
                     b"data: {\"choices\": [{\"delta\": {\"content\": \"hi\"}}]}\n\n", b"{\"done\": true}\n",
                     b"\xff\xfe", b"data: {\"error\": 5}\n\n", b"{\"error\": {}}\n", b"[" * 500, b"{" * 2000])),
    max_size=12))
def test_stream_parsers_take_any_bytes(kind: str, chunks: list[bytes]) -> None:
    _parse(kind, chunks)


# Settings file ------------------------------------------------------------------------------------
def _toml_scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    return str(v)


toml_values = st.one_of(
    st.booleans(), st.integers(-2**63, 2**63 - 1), st.text(max_size=30),
    st.sampled_from(["nan", "inf", "-inf", "1e309", "-0.0", "0x10", "1979-05-27T07:32:00Z", "[]", "{}", "[1, \"a\"]",
                     "{ a = 1 }", '"mysql+pymysql://u:secret@h/db"', '"sqlite:///:memory:"', '"  "']),
    st.floats(allow_nan=False, allow_infinity=False))


@FUZZ
@given(entries=st.lists(st.tuples(st.sampled_from(sorted(REGISTRY)), toml_values), max_size=6),
       junk=st.sampled_from(["", "\n[llm\n", "\nllm = 3\n", "\n\x00\n", "\n[audio]\n[audio]\n", "\nk = \n"]))
def test_settings_files_with_any_key_and_value(tmp_path_factory: pytest.TempPathFactory,
                                               entries: list[tuple[str, Any]], junk: str) -> None:
    home = tmp_path_factory.mktemp("cfg")
    lines = []
    for key, value in entries:
        section, _, name = key.rpartition(".")
        raw = value if isinstance(value, str) and value in toml_values_raw else _toml_scalar(value)
        lines.append(f"[{section}]\n{name} = {raw}\n")
    (home / "settings.toml").write_text("".join(lines) + junk, encoding="utf-8")
    env = {"SYNTHBOT_CONFIG_DIR": str(home), "SYNTHBOT_DATA_DIR": str(home / "data")}
    try:
        s = Settings.load(env)
        for key in REGISTRY:
            s.get(key)
    except ConfigError:
        pass


toml_values_raw = {"nan", "inf", "-inf", "1e309", "-0.0", "0x10", "1979-05-27T07:32:00Z", "[]", "{}", "[1, \"a\"]",
                   "{ a = 1 }", '"mysql+pymysql://u:secret@h/db"', '"sqlite:///:memory:"', '"  "'}


# Audio headers ------------------------------------------------------------------------------------
def _wav(fmt: int, channels: int, rate: int, bits: int, data_len: int, payload: bytes, riff_len: int | None) -> bytes:
    block = max(1, channels * bits // 8) & 0xFFFF
    fmt_chunk = struct.pack("<HHIIHH", fmt, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt_chunk + b"data" + struct.pack("<I", data_len) + payload
    size = len(body) if riff_len is None else riff_len
    return b"RIFF" + struct.pack("<I", size & 0xFFFFFFFF) + body


wav_files = st.builds(
    _wav, st.sampled_from([0, 1, 3, 6, 7, 0xFFFE, 0xFFFF]), st.integers(0, 70),
    st.sampled_from([0, 1, 8000, 16000, 44100, 2**31, 2**32 - 1]), st.sampled_from([0, 1, 8, 12, 16, 24, 32, 64, 65535]),
    st.sampled_from([0, 1, 100, 2**31, 2**32 - 1]), st.binary(max_size=400), st.none() | st.integers(0, 2**32 - 1))


def _flac(block_type: int, length: int, payload: bytes) -> bytes:
    return b"fLaC" + bytes([block_type]) + length.to_bytes(3, "big") + payload


flac_files = st.builds(_flac, st.integers(0, 255), st.integers(0, 2**24 - 1), st.binary(max_size=300))


@FUZZ
@given(data=st.one_of(wav_files, flac_files, st.binary(min_size=1, max_size=300)),
       suffix=st.sampled_from([".wav", ".flac", ".mp3", ".ogg", ".bin"]))
def test_audio_headers_are_decoded_or_refused_in_one_line(tmp_path_factory: pytest.TempPathFactory,
                                                         data: bytes, suffix: str) -> None:
    path: Path = tmp_path_factory.mktemp("audio") / f"clip{suffix}"
    path.write_bytes(data)
    try:
        samples = load_audio_file(path)
    except AudioError as exc:
        assert "\n" not in exc.message
        return
    assert samples.ndim == 1 and samples.size > 0
