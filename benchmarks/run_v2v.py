"""Black-box voice-to-voice latency of `synthbot-desktop talk --mic` (last speech sample -> first reply sample).

Starts the fake OpenAI server (first token after 0.3 s, then ~40 tokens/s) and the fake ElevenLabs
server (first byte after 0.15 s), then runs ../shared/tools/v2v_measure.py (its own PulseAudio,
jfk.flac into the virtual mic, mic and speaker recorded on one timeline) at 0.2 s end-of-speech
silence and at the app's default. Writes reports/v2v_latency.{json,md}.

    .venv/bin/python -m benchmarks.run_v2v [-n 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import write_report
from synthbot_desktop.config import REGISTRY
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT.parent / "shared" / "tools" / "v2v_measure.py"
REPLY = ("That line is from John F. Kennedy's inaugural address in 1961, a call to public service "
         "that people still quote today.")


def measure(silence_ms: int, n: int, env: dict[str, str], out: Path) -> dict[str, Any]:
    cmd = (f"{sys.executable} -m synthbot_desktop talk --mic --headphones --provider openai --engine elevenlabs "
           f"--silence-ms {silence_ms}")
    proc = subprocess.run([sys.executable, str(TOOL), "--cmd", cmd, "-n", str(n), "--out", str(out),
                           "--ready-regex", "listening", "--ready-wait", "2"],
                          env=env, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"v2v_measure failed (silence {silence_ms} ms): {proc.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    summary["silence_ms"] = silence_ms
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=5)
    args = ap.parse_args(argv)
    llm = start_fake_llm("openai", REPLY, first_token_delay=0.3, tokens_per_second=40)
    tts = start_fake_elevenlabs(first_byte_delay=0.15)
    work = Path(tempfile.mkdtemp(prefix="synthbot-v2v-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNTHBOT_", "PULSE_"))}
    env.update({"SYNTHBOT_CONFIG_DIR": str(work / "config"), "SYNTHBOT_DATA_DIR": str(work / "data"),
                "SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_OPENAI_API_KEY": "sk-bench",
                "SYNTHBOT_ELEVENLABS_BASE_URL": tts.url, "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY,
                "PYTHONPATH": str(ROOT)})
    default_silence = int(REGISTRY["audio.silence_ms"].default)
    try:
        runs = [measure(ms, args.n, env, work / f"silence{ms}") for ms in (200, default_silence)]
    finally:
        llm.stop()
        tts.stop()
    table = [("end-of-speech silence", "median (s)", "min (s)", "max (s)", "turns", "target")]
    for r in runs:
        target = "≤ 1.30 s" if r["silence_ms"] == 200 else "-"
        table.append((f"{r['silence_ms']} ms", str(r.get("median_s")), str(r.get("min_s")), str(r.get("max_s")),
                      str(r.get("n_ok")), target))
    md = write_report("v2v_latency", {"runs": runs, "fakes": {"llm_first_token_s": 0.3, "llm_tokens_per_s": 40,
                                                              "tts_first_byte_s": 0.15}},
                      table, notes="Measured with ../shared/tools/v2v_measure.py (calibrated ±20 ms), jfk.flac, "
                                   "after one warm-up turn; timelines in " + str(work) + ".\n\n"
                                   "How to read it: the tool's 'last speech sample' is the last 5 ms frame above "
                                   "-40 dBFS. jfk.flac's room noise stays above that until the end of the file, "
                                   "0.5 s after the last word as Silero VAD hears it (10.50 s vs 11.00 s), so the "
                                   "time from the last *word* to the first reply sample is about 0.5 s more than "
                                   "the medians above. The reference numbers in the issue (1.54 s at 200 ms, "
                                   "1.97 s at 600 ms) were measured with the same tool on the same file.")
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
