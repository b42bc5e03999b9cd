"""`synthbot-desktop voices list|refresh|models|quota|prefs|set|reset|preview`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError
from synthbot_desktop.services.voice_catalog import voice_catalog
from synthbot_desktop.setting_keys import AUDIO_OUTPUT_DEVICE
from synthbot_desktop.tts import voice_service as svc
from synthbot_desktop.tts.base import AudioChunk, VoiceSettings
from synthbot_desktop.tts.pcm import WavWriter
from synthbot_desktop.tts.piper_engine import BUNDLED_VOICE
from synthbot_desktop.tts.voice_settings import OUTPUT_FORMATS


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "voices", _usage, "voice catalog, quota and your voice tuning")
    sub = parser.add_subparsers(dest="voices_command", metavar="ACTION")
    lst = add_command(sub, "list", _list, "voices in the cached catalog (works offline) and the Piper voice")
    add_json_flag(lst)
    ref = add_command(sub, "refresh", _refresh, "fetch your ElevenLabs voices and store them")
    add_json_flag(ref)
    mod = add_command(sub, "models", _models, "ElevenLabs models that can speak")
    add_json_flag(mod)
    quota = add_command(sub, "quota", _quota, "characters used, limit and reset date")
    add_json_flag(quota)
    prefs = add_command(sub, "prefs", _prefs, "your saved voice preferences")
    add_json_flag(prefs)
    st = add_command(sub, "set", _set, "save your tuning of a voice (only the options given change)")
    st.add_argument("voice_id")
    _settings_args(st)
    st.add_argument("--model", help="ElevenLabs model id")
    st.add_argument("--format", choices=OUTPUT_FORMATS, help="audio format asked of ElevenLabs")
    st.add_argument("--default", action="store_true", help="make this your default voice")
    add_json_flag(st)
    rs = add_command(sub, "reset", _reset, "reset a voice's five settings to the voice's own defaults")
    rs.add_argument("voice_id")
    add_json_flag(rs)
    pv = add_command(sub, "preview", _preview, "speak a sentence with settings that are not saved")
    pv.add_argument("--voice", dest="voice_id")
    pv.add_argument("--text", default=svc.PREVIEW_TEXT)
    pv.add_argument("--out", type=Path, help="write a WAV file instead of playing")
    _settings_args(pv)
    add_json_flag(pv)


def _settings_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stability", type=float, help="0–1")
    p.add_argument("--similarity-boost", type=float, help="0–1")
    p.add_argument("--style", type=float, help="0–1")
    p.add_argument("--speed", type=float, help="0.7–1.2")
    p.add_argument("--speaker-boost", action=argparse.BooleanOptionalAction, default=None)


def _settings(args: argparse.Namespace) -> VoiceSettings:
    return VoiceSettings(args.stability, args.similarity_boost, args.style, args.speaker_boost, args.speed)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: voices list | refresh | models | quota | prefs | set | reset | preview")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    voices = voice_catalog(ctx).cached()
    rows: list[dict[str, Any]] = [
        {"provider": v.provider, "voice_id": v.voice_id, "name": v.name, "category": v.category,
         "labels": v.labels, "fetched_at": v.fetched_at} for v in voices]
    rows.append({"provider": "piper", "voice_id": BUNDLED_VOICE, "name": "Joe (US English, offline)",
                 "category": "bundled", "labels": {"accent": "american", "gender": "male"}, "fetched_at": None})
    if args.json:
        print_json(rows)
        return 0
    if not voices:
        print("no ElevenLabs voices cached yet: run `synthbot-desktop voices refresh`", file=sys.stderr)
    for r in rows:
        print(f"{r['provider']:<11} {r['voice_id']:<24} {r['name']:<28} {r['category'] or ''}")
    return 0


def _refresh(ctx: AppContext, args: argparse.Namespace) -> int:
    voices = asyncio.run(voice_catalog(ctx).refresh())
    if args.json:
        print_json([{"voice_id": v.voice_id, "name": v.name, "category": v.category} for v in voices])
    else:
        print(f"stored {len(voices)} ElevenLabs voice(s)", file=sys.stderr)
    return 0


def _models(ctx: AppContext, args: argparse.Namespace) -> int:
    models = asyncio.run(svc.tts_models(ctx))
    if args.json:
        print_json(models)
    else:
        for m in models:
            print(f"{m.model_id:<26} {m.name:<26} max {m.max_characters or '?'} chars/request")
    return 0


def _quota(ctx: AppContext, args: argparse.Namespace) -> int:
    sub = asyncio.run(svc.subscription(ctx))
    data = {"tier": sub.tier, "character_count": sub.character_count, "character_limit": sub.character_limit,
            "remaining": sub.remaining, "next_reset": sub.next_reset}
    if args.json:
        print_json(data)
    else:
        reset = f"{sub.next_reset:%Y-%m-%d}" if sub.next_reset else "unknown"
        print(f"{sub.tier or '?'}: {sub.character_count}/{sub.character_limit} characters used, "
              f"{sub.remaining} left, resets {reset}")
    return 0


def _pref_row(p: Any) -> dict[str, Any]:
    return {"voice_id": p.voice_id, "model_id": p.model_id, "stability": p.stability,
            "similarity_boost": p.similarity_boost, "style": p.style, "use_speaker_boost": p.use_speaker_boost,
            "speed": p.speed, "output_format": p.output_format, "is_default": p.is_default}


def _print_prefs(prefs: list[Any], as_json: bool) -> None:
    rows = [_pref_row(p) for p in prefs]
    if as_json:
        print_json(rows if len(rows) != 1 else rows[0])
        return
    for r in rows:
        star = "*" if r["is_default"] else " "
        print(f"{star} {r['voice_id']:<24} model={r['model_id'] or '-'} stability={r['stability']} "
              f"similarity={r['similarity_boost']} style={r['style']} boost={r['use_speaker_boost']} "
              f"speed={r['speed']} format={r['output_format'] or '-'}")


def _prefs(ctx: AppContext, args: argparse.Namespace) -> int:
    prefs = svc.preferences(ctx)
    if args.json:
        print_json([_pref_row(p) for p in prefs])
    elif not prefs:
        print("no voice preferences saved: `synthbot-desktop voices set VOICE_ID --default`", file=sys.stderr)
    else:
        _print_prefs(prefs, False)
    return 0


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    pref = svc.save_preference(ctx, args.voice_id, settings=_settings(args), model_id=args.model,
                               output_format=args.format, make_default=True if args.default else None)
    _print_prefs([pref], args.json)
    return 0


def _reset(ctx: AppContext, args: argparse.Namespace) -> int:
    pref = asyncio.run(svc.reset_to_defaults(ctx, args.voice_id))
    _print_prefs([pref], args.json)
    return 0


def _preview(ctx: AppContext, args: argparse.Namespace) -> int:
    audio = asyncio.run(svc.preview(ctx, _settings(args), voice_id=args.voice_id, text=args.text))
    if args.out:
        with WavWriter(args.out) as w:
            w.write(AudioChunk(audio.pcm, audio.format))
    else:
        from synthbot_desktop.audio.playback import Player

        device = ctx.settings.value(AUDIO_OUTPUT_DEVICE) or None
        with Player(device) as player:
            player.enqueue(AudioChunk(audio.pcm, audio.format))
            player.wait_idle(120)
    ctx.flush()
    result = {"engine": audio.engine, "audio_seconds": round(audio.seconds, 3), "out": str(args.out) if args.out else None}
    if args.json:
        print_json(result)
    else:
        print(f"previewed {result['audio_seconds']:.2f} s with {audio.engine}", file=sys.stderr)
    return 0
