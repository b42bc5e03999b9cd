"""Second-turn STT: the live decode with the last turns as Whisper's prompt, old retry order vs new.

From the second turn on, ``TurnEngine.stt_prompt`` gives Whisper the last turns, and tiny.en then
often writes the utterance twice at the short window ("Go forward 10 meters. Go forward 10
meters."); the guard rejects that and the old order retried at twice the window (~0.3-0.45 s).
The new order first retries the same window without the prompt. Both engines decode every English
corpus clip (and jfk.flac) in the same run, alternating per clip, with the prompt a second turn
would have: the same words said before plus the assistant's reply (the v2v benchmark's case) and
a different earlier question. Per-clip times are the median of 3; WER is number-aware
(tests/support/wer.py).

    .venv/bin/python -m benchmarks.bench_stt_prompted   -> reports/stt_prompted.{json,md}
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path
from typing import Any

import jiwer

from benchmarks.common import machine, write_report
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.stt.engine import EngineOptions, WhisperEngine
from tests.support.wer import normalise

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "audio" / "corpus"
REPLY = "Sure. That is a short answer, spoken right away, so you can get on with your day."
OTHER = "What is the weather like tomorrow?"
REPEAT = 3


def _clips() -> list[tuple[str, Any, str]]:
    with open(CORPUS / "transcripts.tsv", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["language"] == "en"]
    clips = [(r["file"], load_audio_file(CORPUS / r["file"]), r["reference transcript"]) for r in rows]
    jfk = ("And so my fellow Americans, ask not what your country can do for you, "
           "ask what you can do for your country.")
    clips.append(("jfk.flac", load_audio_file(SHARED / "audio" / "jfk.flac"), jfk))
    return sorted(clips, key=lambda c: len(c[1]))  # short ones first: what people say to an assistant


def _wer(refs: list[str], hyps: list[str]) -> float:
    return 100 * jiwer.wer([normalise(r, numbers=True) or "<empty>" for r in refs],
                           [normalise(h, numbers=True) or "<empty>" for h in hyps])


def main() -> None:
    engines = {"old": WhisperEngine(EngineOptions(beam_size=1, retry_without_prompt=False)),
               "new": WhisperEngine(EngineOptions(beam_size=1))}
    for e in engines.values():
        e.load()
    clips = _clips()
    rows: list[dict[str, Any]] = []
    for name, audio, ref in clips:
        for kind, prompt in (("same words before", f"{ref} {REPLY}"), ("another question before", f"{OTHER} {REPLY}")):
            row: dict[str, Any] = {"clip": name, "seconds": round(len(audio) / 16000, 2), "prompt": kind, "ref": ref}
            times: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(REPEAT):
                for label, engine in engines.items():  # alternating: the machine's noise hits both
                    t = engine.transcribe(audio, prompt=prompt, live=True)
                    times[label].append(t.elapsed_seconds)
                    row[f"{label}_text"] = t.text
                    row[f"{label}_window_s"] = (t.timings or {}).get("window_seconds", 30.0)
            for label in engines:
                row[f"{label}_ms"] = round(1000 * statistics.median(times[label]), 1)
            rows.append(row)
    summary = {}
    for label in engines:
        summary[label] = {"wer": round(_wer([r["ref"] for r in rows], [r[f"{label}_text"] for r in rows]), 2),
                          "median_ms": round(statistics.median(r[f"{label}_ms"] for r in rows), 1),
                          "mean_ms": round(statistics.mean(r[f"{label}_ms"] for r in rows), 1)}
    table: list[tuple[str, ...]] = [("clip", "s", "prompt", "old ms (window)", "new ms (window)", "ratio",
                                     "same text")]
    for r in rows:
        table.append((r["clip"], f"{r['seconds']:.1f}", r["prompt"], f"{r['old_ms']:.0f} ({r['old_window_s']:.0f})",
                      f"{r['new_ms']:.0f} ({r['new_window_s']:.0f})", f"{r['new_ms'] / r['old_ms']:.2f}",
                      "yes" if r["old_text"] == r["new_text"] else f"{r['old_text']!r} -> {r['new_text']!r}"))
    table.append(("all", "", "", f"median {summary['old']['median_ms']:.0f}, WER {summary['old']['wer']:.1f} %",
                  f"median {summary['new']['median_ms']:.0f}, WER {summary['new']['wer']:.1f} %", "", ""))
    md = write_report("stt_prompted", {"machine": machine(), "rows": rows, "summary": summary}, table,
                      notes="old = a rejected short-window decode retried at twice the window; new = first the "
                            "same window without the prompt. tiny.en, beam 1, int8, live path, median of 3 "
                            "alternating runs per clip.")
    print(md.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
