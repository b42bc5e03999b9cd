"""`synthbot-desktop transcribe FILE... [--model NAME|PATH] [--language xx] [--json]`.

Loads the Whisper model once for all files. One bad file among several is reported on stderr
(and as ``{"file", "error"}`` in JSON) while the others are still transcribed; the exit code is
then 1. A single bad file fails with its one-line reason.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

from synthbot_desktop.app import AppContext
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.audio.levels import is_silent
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import AudioError, SynthbotError
from synthbot_desktop.services import error_reports
from synthbot_desktop.stt.engine import SILENCE_DBFS, WhisperEngine
from synthbot_desktop.stt.models import MULTILINGUAL_NAME, resolve_model


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "transcribe", _transcribe,
                         "transcribe audio files (wav, flac, mp3, ogg, ...) with the local Whisper model")
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio file(s) to transcribe")
    parser.add_argument("--model", help="Whisper model: tiny.en (bundled), multilingual (the [multilingual] extra), "
                                            "another cached name, or a folder")
    parser.add_argument("--language", help="spoken language code (en, de, ...); default: the stt.language setting")
    add_json_flag(parser)


LONG_AUDIO_S = 120.0  # longer recordings report progress on stderr


def _clock(seconds: float) -> str:
    m, sec = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class _Progress:
    """Progress of a long transcription on stderr: one updating line on a terminal, a line per
    10 % otherwise (logs stay readable)."""

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name, self.stream = name, stream
        self.tty = stream.isatty()
        self.started = time.monotonic()
        self._last_tenth = -1

    def __call__(self, done: float, total: float) -> None:
        tenth = int(10 * done / total) if total else 10
        if not self.tty and tenth <= self._last_tenth:
            return
        self._last_tenth = tenth
        elapsed = time.monotonic() - self.started
        eta = elapsed * (total - done) / done if done > 0 else 0.0
        line = (f"transcribing {self.name}: {_clock(done)} of {_clock(total)} ({100 * done / total:.0f} %), "
                f"about {_clock(eta)} left")
        self.stream.write(("\r" + line) if self.tty else line + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _assembly_progress(stream: TextIO) -> Callable[[int, int], None]:
    """Progress of the one-time multilingual model assembly, a line per 25 %."""
    last = [-1]

    def report(done: int, total: int) -> None:
        quarter = 4 * done // total if total else 4
        if quarter > last[0]:
            last[0] = quarter
            stream.write(f"preparing the multilingual Whisper model: {100 * done // max(total, 1)} %\n")
            stream.flush()
    return report


def transcribe_one(engine: WhisperEngine, path: str, language: str | None) -> dict[str, Any]:
    samples = load_audio_file(path)
    if is_silent(samples, SILENCE_DBFS):
        raise AudioError(f"{path} contains only silence ({len(samples) / 16000:.1f} s, no sound above "
                         f"{SILENCE_DBFS:.0f} dBFS)", hint="check that the recording has speech and the mic was not muted")
    audio_s = len(samples) / 16000
    progress = _Progress(path, sys.stderr) if audio_s >= LONG_AUDIO_S else None
    result = engine.transcribe(samples, language=language, on_progress=progress)
    if progress is not None:
        progress.done()
    if not result.text:
        raise AudioError(f"no speech was recognised in {path}", hint="check the language (--language) and the recording")
    probability = result.language_probability
    return {"file": path, **result.as_json(),
            "language_probability": None if probability is None else round(probability, 4)}


def _transcribe(ctx: AppContext, args: argparse.Namespace) -> int:
    engine = WhisperEngine.from_settings(ctx.settings, model=args.model)
    if engine.options.model == MULTILINGUAL_NAME:  # first use assembles ~145 MB: show it
        resolve_model(MULTILINGUAL_NAME, data_dir=ctx.paths.data_dir, progress=_assembly_progress(sys.stderr))
    engine.load()
    results: list[dict[str, Any]] = []
    failed = 0
    for path in args.files:
        try:
            results.append(transcribe_one(engine, path, args.language))
        except SynthbotError as exc:
            if len(args.files) == 1:
                raise
            failed += 1
            results.append({"file": path, "error": exc.one_line()})
            sys.stderr.write(f"error: {exc.one_line()}\n")
            error_reports.shown("cli.transcribe", exc.one_line(), kind=error_reports.kind_of(exc))
    if args.json:
        if len(args.files) == 1:
            one = dict(results[0])
            one.pop("file", None)
            print_json(one)
        else:
            print_json(results)
    else:
        for r in results:
            if "error" in r:
                continue
            prefix = f"{r['file']}: " if len(args.files) > 1 else ""
            print(f"{prefix}{r['text']}")
    return 1 if failed else 0
