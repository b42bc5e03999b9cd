"""STT window study: encoder-window floor vs WER vs decode time on the English corpus clips.

Every floor runs the live path (``transcribe(live=True)``) on the same clips in one run, so the
ratios hold on this noisy shared machine; 30 s is the full window (the adaptive path off).
WER is shown two ways: plain (lower-case, no punctuation) and number-aware (tests/support/wer.py:
"ten" = "10", "twenty-five" = "25", "3:45" = "three forty five"), since Whisper writes "1, 2, 3" or
"one, two, three" depending on context and the references use words.
"""

from __future__ import annotations

import csv
import statistics
import sys
from pathlib import Path
from typing import Any

import jiwer

from benchmarks.common import machine, write_report
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.stt.engine import FULL_WINDOW_S, EngineOptions, WhisperEngine
from tests.support.wer import normalise

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "audio" / "corpus"


def _words(text: str, numbers: bool) -> str:
    return normalise(text, numbers=numbers) or "<empty>"


def run(floors: list[float]) -> dict[str, Any]:
    with open(CORPUS / "transcripts.tsv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["language"] == "en"]
    clips = [(r["file"], load_audio_file(CORPUS / r["file"]), r["reference transcript"]) for r in rows]
    results = []
    for floor in floors:
        engine = WhisperEngine(EngineOptions(beam_size=1, live_window_floor_s=floor))
        engine.load()
        hyps, times, short_times = [], [], []
        for _, audio, _ in clips:
            t = engine.transcribe(audio, live=True)
            hyps.append(t.text)
            times.append(t.elapsed_seconds)
            if t.audio_seconds <= 5.0:
                short_times.append(t.elapsed_seconds)
        refs = [c[2] for c in clips]
        results.append({
            "floor_s": floor, "clips": len(clips), "retries": engine.window_retries,
            "wer_plain": 100 * jiwer.wer([_words(r, False) for r in refs], [_words(h, False) for h in hyps]),
            "wer_numbers": 100 * jiwer.wer([_words(r, True) for r in refs], [_words(h, True) for h in hyps]),
            "mean_ms": 1000 * statistics.mean(times), "median_ms_le5s": 1000 * statistics.median(short_times),
            "texts": dict(zip([c[0] for c in clips], hyps, strict=True)),
        })
        engine.close()
    return {"machine": machine(), "results": results}


def main() -> None:
    floors = [float(a) for a in sys.argv[1:]] or [6.0, 8.0, 10.0, 12.0, 15.0, FULL_WINDOW_S]
    data = run(floors)
    table: list[tuple[str, ...]] = [("floor (s)", "WER plain %", "WER number-aware %", "mean decode ms",
                                     "median ms (<=5 s clips)", "guard retries")]
    for r in data["results"]:
        table.append((f"{r['floor_s']:.0f}" + (" (full)" if r["floor_s"] >= FULL_WINDOW_S else ""),
                      f"{r['wer_plain']:.2f}", f"{r['wer_numbers']:.2f}", f"{r['mean_ms']:.0f}",
                      f"{r['median_ms_le5s']:.0f}", str(r["retries"])))
    path = write_report("stt_window", data, table, notes=__doc__ or "")
    print(path)


if __name__ == "__main__":
    main()
