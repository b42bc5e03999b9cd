"""`synthbot-desktop speak TEXT [--engine elevenlabs|piper] [--voice ID] [--out FILE.wav]`.

Plays through the default (or configured) speaker as the audio streams in, or writes a WAV
file. A stream cut midway keeps what arrived (the WAV holds it) and exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError
from synthbot_desktop.pipeline.events import ErrorEvent, Event
from synthbot_desktop.services import error_reports
from synthbot_desktop.setting_keys import AUDIO_OUTPUT_DEVICE
from synthbot_desktop.tts.base import AudioChunk, SpeechRequest
from synthbot_desktop.tts.fallback import FallbackSpeech
from synthbot_desktop.tts.pcm import WavWriter
from synthbot_desktop.tts.registry import create_speech_provider


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "speak", _speak, "say TEXT with ElevenLabs or the offline Piper voice")
    p.add_argument("text", help="what to say ('-' reads standard input)")
    p.add_argument("--engine", choices=("auto", "elevenlabs", "piper"), default=None,
                   help="speech engine (default: the tts.engine setting)")
    p.add_argument("--voice", help="ElevenLabs voice id (default: your default voice preference)")
    p.add_argument("--model", help="ElevenLabs model id")
    p.add_argument("--out", type=Path, help="write a WAV file instead of playing")
    add_json_flag(p)


def _notice(event: Event) -> None:
    if isinstance(event, ErrorEvent):
        print(f"warning: {event.message}", file=sys.stderr)
        error_reports.shown("cli.speak", event.message, kind=event.kind)


async def _run(ctx: AppContext, args: argparse.Namespace, text: str) -> dict[str, Any]:
    from synthbot_desktop.services.voice import resolve_engine

    # auto resolved by the one voice rule, which also refuses an engine the admin turned off (#18)
    chosen = await asyncio.to_thread(resolve_engine, ctx, args.engine)
    provider = create_speech_provider(chosen, ctx, events=_notice)
    writer = WavWriter(args.out) if args.out else None
    player: Any = None
    started = time.perf_counter()
    first_audio: float | None = None
    total = 0
    fmt = None
    try:
        if writer is None:
            from synthbot_desktop.audio.playback import Player

            device = ctx.settings.value(AUDIO_OUTPUT_DEVICE) or None
            player = await asyncio.to_thread(lambda: Player(device).start())
        chunk: AudioChunk
        async for chunk in provider.stream(SpeechRequest(text, voice_id=args.voice, model_id=args.model)):
            if first_audio is None:
                first_audio = time.perf_counter()
            fmt = chunk.format
            total += len(chunk.pcm)
            if writer is not None:
                writer.write(chunk)
            else:
                player.enqueue(chunk)
        if player is not None:
            await asyncio.to_thread(player.wait_idle, 600)
    finally:
        if writer is not None:
            writer.close()
        if player is not None:
            await asyncio.to_thread(player.close)
        await provider.aclose()
    engine = provider.last_engine if isinstance(provider, FallbackSpeech) else provider.name
    seconds = total / (fmt.sample_rate * fmt.sample_width * fmt.channels) if fmt else 0.0
    return {"engine": engine, "voice": args.voice, "out": str(args.out) if args.out else None,
            "audio_seconds": round(seconds, 3), "sample_rate": fmt.sample_rate if fmt else None,
            "first_audio_ms": round((first_audio - started) * 1000, 1) if first_audio else None}


def _speak(ctx: AppContext, args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("nothing to say: the text is empty", hint="give the words to speak, e.g. speak \"Hello\"")
    try:
        result = asyncio.run(_run(ctx, args, text))
    finally:
        ctx.flush()  # usage rows are written before the process exits
    if args.json:
        print_json(result)
    else:
        where = f"wrote {result['out']}" if result["out"] else "played"
        print(f"{where}: {result['audio_seconds']:.2f} s of audio by {result['engine']}", file=sys.stderr)
    return 0
