"""Wake word idle cost, and the echo canceller's ERLE, added capture latency and CPU (issue #15).

    python -m benchmarks.bench_wake_echo      # -> reports/wake_echo.json + wake_echo.md

- Wake word: CPU (% of one core) of the detector alone, fed 16 kHz audio in 20 ms blocks the way
  the voice loop does (silence, noise and the speech corpus), and of the whole listening process
  on the PulseAudio virtual mic (capture + resampling + detector) when PulseAudio is available.
- Echo: ERLE (dB) on simulated speaker-to-mic paths (20/50/80 ms, -10 dB, a few reflections)
  with Piper speech as the reply, and on a PulseAudio echo path (module-loopback from the
  speaker's monitor into the microphone, 50 ms, -10 dB) through the app's Player and
  MicrophoneStream; added capture latency (10 ms framing) and CPU per second of audio.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import write_report

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _corpus() -> np.ndarray:
    from synthbot_desktop.audio.formats import load_audio_file

    files = [*sorted((SHARED / "audio" / "corpus").glob("*.wav")), SHARED / "audio" / "jfk.flac"]
    return np.concatenate([load_audio_file(f) for f in files]).astype(np.float32)


def wake_cpu() -> dict[str, Any]:
    from synthbot_desktop.audio.wake_word import WAKE_WORDS, WakeConfig, WakeWordDetector

    rng = np.random.default_rng(0)
    inputs = {"silence": np.zeros(16000 * 60, dtype=np.float32),
              "noise -40 dBFS": rng.normal(0, 0.01, 16000 * 60).astype(np.float32),
              "speech corpus": _corpus()}
    out: dict[str, Any] = {}
    for name in WAKE_WORDS:
        d = WakeWordDetector(WakeConfig(name=name))
        for label, x in inputs.items():
            t0 = time.thread_time()
            for i in range(0, len(x), 320):
                d.feed(x[i:i + 320])
            cpu = time.thread_time() - t0
            out[f"{name}/{label}"] = round(100 * cpu / (len(x) / 16000), 2)
    return out


def wake_live(seconds: float = 20.0) -> dict[str, Any] | None:
    """The whole process listening on the virtual mic with the detector: CPU % of one core."""
    if not shutil.which("pulseaudio"):
        return None
    sys.path.insert(0, str(ROOT))
    from tests.support.pulse import VirtualAudio

    va = VirtualAudio().start()
    va.export()
    try:
        from synthbot_desktop.audio.capture import MicrophoneStream
        from synthbot_desktop.audio.wake_word import WakeConfig, WakeWordDetector

        det = WakeWordDetector(WakeConfig(name="hey_jarvis"))

        def measure() -> float:
            r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            time.sleep(seconds)
            r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
            return 100 * ((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)) / (t1 - t0)

        with MicrophoneStream() as mic:
            time.sleep(1.0)
            base = measure()  # the open microphone alone (capture, resampling to 16 kHz, level meter)
            unsub = mic.subscribe(lambda b: det.feed(b.samples))
            with_detector = measure()
            unsub()
            rate = mic.samplerate
        return {"seconds": seconds, "device_rate": rate, "mic_only_percent": round(base, 2),
                "process_cpu_percent_of_one_core": round(with_detector, 2),
                "detector_percent": round(with_detector - base, 2)}
    finally:
        va.stop()


def _room(delay_ms: int, gain_db: float) -> np.ndarray:
    d = int(16 * delay_ms)
    g = 10 ** (gain_db / 20)
    h = np.zeros(d + 1600, dtype=np.float32)
    h[d], h[d + 120], h[d + 400], h[d + 1100] = g, 0.35 * g, -0.2 * g, 0.1 * g
    return h


def echo_simulated() -> list[dict[str, Any]]:
    from synthbot_desktop.audio.echo import EchoCanceller
    from tests.support.wake_phrases import speak

    far = np.concatenate([speak("Paris is the capital of France. It sits on the river Seine, and about two "
                                "million people live in the city itself.")] * 2) * 0.6
    rows = []
    for delay in (20, 50, 80):
        echo = np.convolve(far, _room(delay, -10.0))[: len(far)].astype(np.float32)
        aec = EchoCanceller()
        out, worst = [], 0.0
        for i in range(0, len(far), 320):
            aec.reference.push(far[i:i + 320], 16000, 10.0 + i / 16000)
            t0 = time.perf_counter()
            out.append(aec.process(echo[i:i + 320], 10.0 + (i + 320) / 16000))
            worst = max(worst, time.perf_counter() - t0)
        y = np.concatenate(out)
        half = len(y) // 2
        erle = 10 * np.log10(np.sum(echo[half:] ** 2) / max(1e-12, float(np.sum(y[half:] ** 2))))
        erle_all = 10 * np.log10(np.sum(echo ** 2) / max(1e-12, float(np.sum(y ** 2))))
        secs = len(far) / 16000
        rows.append({"path": f"simulated {delay} ms, -10 dB", "erle_db_converged": round(float(erle), 1),
                     "erle_db_whole": round(float(erle_all), 1),
                     "cpu_percent_of_one_core": round(100 * aec.stats.cpu_s / secs, 2),
                     "framing_latency_ms": round(1000 * aec.stats.latency_s, 1),
                     "worst_block_ms": round(1000 * worst, 2)})
    return rows


def echo_pulse_trials(n: int = 3) -> list[dict[str, Any]]:
    return [r for r in (echo_pulse() for _ in range(n)) if r is not None]


def echo_pulse() -> dict[str, Any] | None:
    if not shutil.which("pulseaudio"):
        return None
    sys.path.insert(0, str(ROOT))
    from tests.support.pulse import VirtualAudio
    from tests.support.wake_phrases import speak

    va = VirtualAudio().start()
    va.export()
    try:
        va.add_echo_path(50, -10.0)
        from synthbot_desktop.audio.capture import MicrophoneStream
        from synthbot_desktop.audio.echo import EchoCanceller
        from synthbot_desktop.audio.playback import Player

        aec = EchoCanceller()
        with Player() as player, MicrophoneStream(processor=aec.process):
            player.add_tap(aec.reference.push)
            time.sleep(1.0)
            reply = speak("This is a long answer that keeps going so that you can interrupt it. " * 3)
            for _ in range(2):
                player.enqueue(reply, sample_rate=16000)
                player.wait_idle(120)
                time.sleep(1.0)
            underruns = player.underruns
        erle = round(aec.erle_db, 1) if aec.erle_db is not None else None
        return {"path": "PulseAudio module-loopback 50 ms, -10 dB", "erle_db": erle,
                "cpu_percent_of_one_core": round(100 * aec.stats.cpu_s / (aec.stats.frames / 100), 2),
                "framing_latency_ms": round(1000 * aec.stats.latency_s, 1), "player_underruns": underruns}
    finally:
        va.stop()


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__).parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    wake = wake_cpu()
    live = wake_live()
    sim = echo_simulated()
    pulses = echo_pulse_trials()
    table: list[tuple[str, ...]] = [("measure", "value")]
    table += [(f"wake word CPU, detector only: {k}", f"{v} % of one core") for k, v in wake.items()]
    if live:
        table.append(("wake word CPU, whole listening process on the virtual mic (capture + resample + detector)",
                      f"{live['process_cpu_percent_of_one_core']} % of one core (mic alone "
                      f"{live['mic_only_percent']} %, so the detector adds {live['detector_percent']} %)"))
    for r in sim:
        table.append((f"ERLE {r['path']}", f"{r['erle_db_converged']} dB after convergence ({r['erle_db_whole']} dB whole)"))
        table.append((f"AEC CPU / added latency, {r['path']}",
                      f"{r['cpu_percent_of_one_core']} % / {r['framing_latency_ms']} ms framing, "
                      f"worst block {r['worst_block_ms']} ms"))
    for i, pulse in enumerate(pulses, start=1):
        table.append((f"ERLE {pulse['path']} (app Player + MicrophoneStream), trial {i}",
                      f"{pulse['erle_db']} dB ({pulse['player_underruns']} player underruns); AEC CPU "
                      f"{pulse['cpu_percent_of_one_core']} % of one core"))
    md = write_report("wake_echo", {"wake_cpu_percent": wake, "wake_live": live, "echo_simulated": sim,
                                    "echo_pulse": pulses}, table,
                      notes="Added capture latency = the audio held back to fill whole 10 ms AEC3 frames (at most "
                            "10 ms) plus the processing time of a block (worst block above). ERLE on the PulseAudio "
                            "path is measured over everything captured while the speaker played.")
    print(md.read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
