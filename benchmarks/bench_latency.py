"""Turn latency from the inside: per-stage breakdown, the app's own overhead, and the pipelined turn
against a naive sequential one (whole reply, then whole synthesis, then play), side by side.

Same run, same fakes for both: OpenAI-style server (first token after 0.3 s, ~40 tokens/s) and
ElevenLabs-style server (first byte after 0.15 s), the real bundled Whisper on jfk.flac, a
100-word reply, and a real-time simulated speaker (``MemoryOutput``) so no sound card is needed.
Writes reports/turn_latency.{json,md}.

    .venv/bin/python -m benchmarks.bench_latency [-n 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_report
from synthbot_desktop.app import AppContext
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.llm.base import ChatMessage, TextDelta
from synthbot_desktop.llm.registry import create_chat_provider
from synthbot_desktop.pipeline.adapters import WhisperTranscriber
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from synthbot_desktop.pipeline.session import ConversationState
from synthbot_desktop.pipeline.turn import TurnConfig, TurnEngine, UserInput
from synthbot_desktop.stt.engine import WhisperEngine
from synthbot_desktop.tts.base import SpeechRequest
from synthbot_desktop.tts.registry import create_speech_provider
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

ROOT = Path(__file__).resolve().parents[1]
JFK = ROOT.parent / "shared" / "audio" / "jfk.flac"
FIRST_TOKEN_S, TPS, TTS_FIRST_BYTE_S = 0.3, 40.0, 0.15
REPLY = (
    "Those words come from the inaugural address of John F. Kennedy, given on a cold January day in 1961. "
    "He was asking a whole generation to think about what they could give rather than what they could take. "
    "The speech was short, only about fourteen minutes, and it was written to be remembered. "
    "Many people who heard it went on to join the Peace Corps or other kinds of public service. "
    "Today the line is quoted in classrooms, in graduation speeches and in political campaigns."
)


def context(work: Path, llm_url: str, tts_url: str) -> AppContext:
    env = {"SYNTHBOT_CONFIG_DIR": str(work / "config"), "SYNTHBOT_DATA_DIR": str(work / "data"),
           "SYNTHBOT_OPENAI_BASE_URL": llm_url, "SYNTHBOT_OPENAI_API_KEY": "sk-bench",
           "SYNTHBOT_ELEVENLABS_BASE_URL": tts_url, "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY}
    return AppContext(env={**{k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}, **env})


async def pipelined(engine: TurnEngine, samples: Any) -> dict[str, float]:
    engine.conversation.history.clear()
    result = await engine.run_turn(UserInput(audio=samples, speech_end=time.monotonic()))
    return result.timings


async def sequential(engine: TurnEngine, samples: Any) -> dict[str, float]:
    """The naive turn: transcribe, wait for the whole reply, synthesise it whole, then play."""
    t0 = time.monotonic()
    stt = engine.stt
    assert stt is not None and engine.speech is not None
    text = (await asyncio.to_thread(stt.transcribe, samples)).text  # same adapter and STT settings as pipelined
    t_stt = time.monotonic()
    reply = ""
    async for item in engine.chat.stream([ChatMessage("user", text)], engine.conversation.model):
        if isinstance(item, TextDelta):
            reply += item.text
    t_llm = time.monotonic()
    pcm = b""
    async for chunk in engine.speech.stream(SpeechRequest(reply)):
        pcm += chunk.pcm
    t_tts = time.monotonic()
    return {"transcript_ready": (t_stt - t0) * 1000, "llm_done": (t_llm - t0) * 1000,
            "tts_done": (t_tts - t0) * 1000, "first_sample_played": (t_tts - t0) * 1000}


async def run(n: int) -> dict[str, Any]:
    llm = start_fake_llm("openai", REPLY, first_token_delay=FIRST_TOKEN_S, tokens_per_second=TPS)
    tts = start_fake_elevenlabs(first_byte_delay=TTS_FIRST_BYTE_S)
    work = Path(tempfile.mkdtemp(prefix="synthbot-bench-"))
    ctx = context(work, base_url("openai", llm), tts.url)
    whisper = WhisperEngine.from_settings(ctx.settings)
    whisper.load()
    samples = load_audio_file(JFK)
    chat = create_chat_provider("openai", ctx)
    speech = create_speech_provider("elevenlabs", ctx, record_usage=False)
    engine = TurnEngine(conversation=ConversationState(0, "openai", "gpt-4o-mini"), chat=chat,
                        stt=WhisperTranscriber(whisper), speech=speech, output=MemoryOutput(realtime=True),
                        recorder=None, config=TurnConfig(
                            use_context_prompt=False,
                            first_chunk_min_chars=int(ctx.settings.get("pipeline.first_chunk_min_chars")),
                            first_chunk_max_words=int(ctx.settings.get("pipeline.first_chunk_max_words"))))
    pipe: list[dict[str, float]] = []
    naive: list[dict[str, float]] = []
    try:
        await pipelined(engine, samples)  # warm-up: connections, model caches
        for _ in range(n):  # interleaved, so both see the same machine state
            pipe.append(await pipelined(engine, samples))
            naive.append(await sequential(engine, samples))
    finally:
        await chat.aclose()
        await speech.aclose()
        llm.stop()
        tts.stop()
        whisper.close()
        ctx.close()
    return {"pipelined": pipe, "sequential": naive}


def whisper_beam() -> int:
    from synthbot_desktop.config import REGISTRY

    return int(REGISTRY["stt.beam_size"].default)


def med(rows: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(r[key] for r in rows), 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args(argv)
    data = asyncio.run(run(args.n))
    pipe, naive = data["pipelined"], data["sequential"]
    fake_ms = (FIRST_TOKEN_S + TTS_FIRST_BYTE_S) * 1000
    overheads = [r["first_sample_played"] - r["transcript_ready"] - (r["first_chunk"] - r["first_token"]) - fake_ms
                 for r in pipe]
    stages = {
        "stt_ms": med(pipe, "transcript_ready"),
        "llm_first_token_ms": round(statistics.median(r["first_token"] - r["transcript_ready"] for r in pipe), 1),
        "first_speakable_chunk_ms": round(statistics.median(r["first_chunk"] - r["first_token"] for r in pipe), 1),
        "tts_first_byte_ms": round(statistics.median(r["first_audio_byte"] - r["first_chunk"] for r in pipe), 1),
        "playback_start_ms": round(statistics.median(r["first_sample_played"] - r["first_audio_byte"] for r in pipe), 1),
        "first_sample_ms": med(pipe, "first_sample_played"),
    }
    overhead = round(statistics.median(overheads), 1)
    naive_first = med(naive, "first_sample_played")
    ratio = round(naive_first / stages["first_sample_ms"], 2)
    ratio_after_stt = round((naive_first - med(naive, "transcript_ready")) /
                            (stages["first_sample_ms"] - stages["stt_ms"]), 2)
    table = [(f"stage (median of {len(pipe)} turns)", "ms"),
             *[(k, str(v)) for k, v in stages.items()],
             ("app overhead (first sample − STT − first-chunk token time − 450 ms fake delays); target < 150",
              str(overhead)),
             ("naive sequential turn: first sample", str(naive_first)),
             ("speed-up to first audio, incl. STT (target ≥ 3×)", f"{ratio}×"),
             ("speed-up to first audio, after STT", f"{ratio_after_stt}×")]
    write_report("turn_latency", {"stages_ms": stages, "overhead_ms": overhead, "overheads_ms": overheads,
                                  "naive_first_sample_ms": naive_first, "speedup": ratio,
                                  "speedup_after_stt": ratio_after_stt, "reply_words": len(REPLY.split()),
                                  "raw": data}, table,
                 notes="Fakes: first token after 0.3 s then ~40 tokens/s; TTS first byte after 0.15 s. "
                       "Times are from the end of speech (the recording handed over whole, no speculative "
                       "transcription: both turns pay the full STT). Both turns use the same WhisperTranscriber "
                       f"(beam {whisper_beam()}, live decode options).")
    print("\n".join(" | ".join(r) for r in table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
