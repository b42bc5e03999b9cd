"""TTS speed: Piper time-to-first-audio and real-time factor; ElevenLabs client overhead.

Client overhead is measured against the in-process fake ElevenLabs server on the same clock:
  * sentence ready -> request received by the server (what the client adds before the wire),
  * first audio byte written by the server -> first AudioChunk handed to the consumer
    (HTTP parsing, sample alignment, chunk building; target < 10 ms),
reported next to the server's configured first-byte delay so the ratio is visible in one run.

    .venv/bin/python -m benchmarks.bench_tts [--runs N]
writes benchmarks/reports/tts.json and tts.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from synthbot_desktop.tts.base import SpeechRequest
from synthbot_desktop.tts.elevenlabs_api import ElevenLabsConfig
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsOptions, ElevenLabsSpeech
from synthbot_desktop.tts.piper_engine import PiperSpeech, load_voice
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs

REPORTS = Path(__file__).resolve().parent / "reports"
SENTENCES = [
    "Sure, I can help with that.",
    "The weather tomorrow looks mild, with a light breeze in the afternoon.",
    "Here is a longer answer that runs over a couple of clauses, so the synthesis takes a little more time.",
]


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 3), "min": round(ordered[0], 3),
            "max": round(ordered[-1], 3), "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3)}


async def bench_piper(runs: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    load_voice()
    load_s = time.perf_counter() - t0
    speech = PiperSpeech()
    ttfa, rtf = [], []
    for _ in range(runs):
        for text in SENTENCES:
            start = time.perf_counter()
            first = None
            total = 0
            async for chunk in speech.stream(SpeechRequest(text)):
                first = first or time.perf_counter()
                total += len(chunk.pcm)
            elapsed = time.perf_counter() - start
            assert first is not None
            ttfa.append((first - start) * 1000)
            rtf.append(elapsed / (total / 2 / chunk.format.sample_rate))
    return {"load_s": round(load_s, 3), "time_to_first_audio_ms": stats(ttfa), "rtf": stats(rtf),
            "samples": len(ttfa)}


async def bench_client(runs: int, delay: float) -> dict[str, Any]:
    server = start_fake_elevenlabs(first_byte_delay=delay)
    speech = ElevenLabsSpeech(ElevenLabsConfig(FAKE_API_KEY, server.url), ElevenLabsOptions())
    before_wire, after_byte, ttfa = [], [], []
    try:
        async for _ in speech.stream(SpeechRequest("Warm up the connection.")):  # TCP connect not counted
            pass
        for _ in range(runs):
            for text in SENTENCES:
                ready = time.perf_counter()
                first_out = None
                async for _chunk in speech.stream(SpeechRequest(text)):
                    first_out = first_out or time.perf_counter()
                log = server.state.streams[-1]
                assert first_out is not None and log.first_byte_sent is not None
                before_wire.append((log.received - ready) * 1000)
                after_byte.append((first_out - log.first_byte_sent) * 1000)
                ttfa.append((first_out - ready) * 1000)
    finally:
        await speech.aclose()
        server.stop()
    overhead = [a + b for a, b in zip(before_wire, after_byte, strict=True)]
    return {"server_first_byte_delay_ms": delay * 1000,
            "sentence_ready_to_request_received_ms": stats(before_wire),
            "first_byte_to_first_chunk_ms": stats(after_byte),
            "client_overhead_total_ms": stats(overhead),
            "time_to_first_audio_ms": stats(ttfa),
            "overhead_share_of_ttfa": round(statistics.median(overhead) / statistics.median(ttfa), 4),
            "target_ms": 10.0, "meets_target": statistics.median(after_byte) < 10.0, "samples": len(ttfa)}


def markdown(report: dict[str, Any]) -> str:
    p, c = report["piper"], report["elevenlabs_client"]
    lines = [
        "# TTS benchmark", "", f"{report['machine']} · {report['date']} · runs={report['runs']}", "",
        "## Piper (joe-us medium, CPU)", "", "| metric | median | min | p90 | max |", "|---|---|---|---|---|",
        f"| time to first audio (ms) | {p['time_to_first_audio_ms']['median']} | {p['time_to_first_audio_ms']['min']} "
        f"| {p['time_to_first_audio_ms']['p90']} | {p['time_to_first_audio_ms']['max']} |",
        f"| real-time factor | {p['rtf']['median']} | {p['rtf']['min']} | {p['rtf']['p90']} | {p['rtf']['max']} |",
        "", f"Voice load: {p['load_s']} s (once per process).", "",
        f"## ElevenLabs client overhead (fake server, first-byte delay {c['server_first_byte_delay_ms']:.0f} ms)", "",
        "| stage | median ms | min | p90 | max |", "|---|---|---|---|---|",
    ]
    for key, label in (("sentence_ready_to_request_received_ms", "sentence ready → request at server"),
                       ("first_byte_to_first_chunk_ms", "first byte sent → first chunk to playback"),
                       ("client_overhead_total_ms", "client overhead (sum)"),
                       ("time_to_first_audio_ms", "time to first audio (incl. server delay)")):
        s = c[key]
        lines.append(f"| {label} | {s['median']} | {s['min']} | {s['p90']} | {s['max']} |")
    lines += ["", f"Overhead share of time to first audio: {c['overhead_share_of_ttfa'] * 100:.1f} %. "
              f"Target first byte → playback < 10 ms: {'met' if c['meets_target'] else 'NOT met'}.", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.15, help="fake server first-byte delay (s)")
    args = parser.parse_args()
    report = {"date": time.strftime("%Y-%m-%d %H:%M"), "runs": args.runs,
              "machine": f"{platform.processor() or platform.machine()} · Python {platform.python_version()}",
              "piper": asyncio.run(bench_piper(args.runs)),
              "elevenlabs_client": asyncio.run(bench_client(args.runs, args.delay))}
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / "tts.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (REPORTS / "tts.md").write_text(markdown(report), encoding="utf-8")
    print(markdown(report))


if __name__ == "__main__":
    main()
