"""`synthbot-desktop transcribe FILE... [--model NAME|PATH] [--language xx] [--json]`.

Loads the Whisper model once for all files. One bad file among several is reported on stderr
(and as ``{"file", "error"}`` in JSON) while the others are still transcribed; the exit code is
then 1. A single bad file fails with its one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.audio.levels import is_silent
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import AudioError, SynthbotError
from synthbot_desktop.stt.engine import SILENCE_DBFS, WhisperEngine


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "transcribe", _transcribe,
                         "transcribe audio files (wav, flac, mp3, ogg, ...) with the local Whisper model")
    parser.add_argument("files", nargs="+", metavar="FILE", help="audio file(s) to transcribe")
    parser.add_argument("--model", help="Whisper model: tiny.en (bundled), another cached name, or a folder")
    parser.add_argument("--language", help="spoken language code (en, de, ...); default: the stt.language setting")
    add_json_flag(parser)


def transcribe_one(engine: WhisperEngine, path: str, language: str | None) -> dict[str, Any]:
    samples = load_audio_file(path)
    if is_silent(samples, SILENCE_DBFS):
        raise AudioError(f"{path} contains only silence ({len(samples) / 16000:.1f} s, no sound above "
                         f"{SILENCE_DBFS:.0f} dBFS)", hint="check that the recording has speech and the mic was not muted")
    result = engine.transcribe(samples, language=language)
    if not result.text:
        raise AudioError(f"no speech was recognised in {path}", hint="check the language (--language) and the recording")
    return {"file": path, **result.as_json()}


def _transcribe(ctx: AppContext, args: argparse.Namespace) -> int:
    engine = WhisperEngine.from_settings(ctx.settings, model=args.model)
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
