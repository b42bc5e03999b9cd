"""`synthbot-desktop talk`: whole voice turns headless — a recording (`--in`) or the microphone (`--mic`).

`--in FILE` answers one utterance (played on the speaker, or written with `--out FILE.wav`);
`--mic` keeps talking turn after turn until Ctrl+C / SIGTERM (or `--turns N`), with barge-in.
Every turn is stored (session, messages, usage) through the background recorder; `--json`
prints the transcript, the reply and the per-stage timing breakdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
import time
import wave
from pathlib import Path
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, session_key
from synthbot_desktop.cli.tool_prompt import add_tool_flags, cli_confirm
from synthbot_desktop.errors import UsageError
from synthbot_desktop.pipeline.events import AssistantDone, ErrorEvent, Event, FinalTranscript, PartialTranscript
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from synthbot_desktop.pipeline.turn import TurnEngine, TurnResult, UserInput
from synthbot_desktop.services import error_reports
from synthbot_desktop.services.history import message_id_for
from synthbot_desktop.setting_keys import (
    AUDIO_ECHO_CANCELLATION,
    AUDIO_INPUT_DEVICE,
    AUDIO_OUTPUT_DEVICE,
    AUDIO_WAKE_WORD_EARCONS,
)

log = logging.getLogger(__name__)


def timer_fired(label: str) -> None:
    """A timer the model set went off: one line on stderr (the same notice the window shows)."""
    from synthbot_desktop.services.notifications import cli_line, timer_notice

    print(cli_line(timer_notice(label)), file=sys.stderr, flush=True)


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "talk", _talk, "voice turns: speech in, spoken answer out (headless)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--in", dest="infile", type=Path, metavar="FILE", help="answer the speech in this audio file")
    src.add_argument("--mic", action="store_true", help="listen on the microphone, turn after turn")
    p.add_argument("--out", type=Path, metavar="FILE.wav", help="write the spoken reply here instead of playing it")
    p.add_argument("--provider", help="LLM provider (default: setting llm.provider)")
    p.add_argument("--model", help="LLM model (default: the provider's configured model)")
    p.add_argument("--engine", help="speech engine: elevenlabs, piper or auto (default: setting tts.engine)")
    p.add_argument("--voice", help="voice id for the speech engine")
    p.add_argument("--silence-ms", type=int, help="silence that ends an utterance (default: audio.silence_ms)")
    p.add_argument("--session", help="continue this conversation session (with its context): its id, or the "
                   "session_uid printed for a session started while the database was unreachable")
    p.add_argument("--mode", choices=("normal", "enhanced"), default="normal",
                   help="enhanced: pooled quantum random numbers pick each turn's seed and temperature")
    p.add_argument("--turns", type=int, help="with --mic: stop after this many turns")
    p.add_argument("--headphones", action="store_true", default=None,
                   help="no echo: barge-in uses the normal VAD threshold while the assistant speaks")
    p.add_argument("--wake-word", metavar="NAME",
                   help="with --mic: wait for this phrase (hey_jarvis, okay_nabu, hey_mycroft, alexa, none); "
                        "default: setting audio.wake_word")
    p.add_argument("--no-barge-in", dest="barge_in", action="store_false", default=None,
                   help="do not interrupt the assistant when you speak")
    add_tool_flags(p)
    add_json_flag(p)


def _stderr_events(event: Event) -> None:
    if isinstance(event, ErrorEvent):
        line = event.message + (f" — {event.hint}" if event.hint else "")
        print(f"warning: {line}", file=sys.stderr)
        error_reports.shown("cli.talk", line, kind=event.kind)


def _result_json(r: TurnResult, ctx: AppContext | None = None) -> dict[str, Any]:
    return {"turn_id": r.turn_id, "transcript": r.transcript, "reply": r.reply, "full_reply": r.full_reply,
            "interrupted": r.interrupted, "error": r.error, "tts_error": r.tts_error, "skipped": r.skipped,
            "audio_seconds": round(r.audio_seconds, 3), "timings_ms": r.timings,
            "user_message_uid": r.user_uid, "assistant_message_uid": r.assistant_uid,
            # the stored id `history rate` takes (#17); None while the turn waits in the spool
            "assistant_message_id": message_id_for(ctx.reachable_db(), r.assistant_uid) if ctx is not None else None,
            **({"randomness": r.randomness} if r.randomness else {}),
            **({"tool_calls": r.tool_calls} if r.tool_calls else {})}


def _write_wav(path: Path, out: MemoryOutput) -> None:
    fmt = out.audio_format
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(fmt.channels if fmt else 1)
        w.setsampwidth(fmt.sample_width if fmt else 2)
        w.setframerate(fmt.sample_rate if fmt else 16000)
        w.writeframes(out.pcm())


def _talk(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.infile is not None and not args.infile.is_file():
        raise UsageError(f"no such audio file: {args.infile}", hint="give a WAV/FLAC/MP3 recording of speech")
    if args.out is not None and args.mic:
        raise UsageError("--out works with --in only", hint="with --mic the reply is played on the speaker")
    if args.silence_ms is not None and not 100 <= args.silence_ms <= 5000:
        raise UsageError(f"--silence-ms must be between 100 and 5000 (got {args.silence_ms})")
    return asyncio.run(_run(ctx, args))


def _speaker(ctx: AppContext) -> Any:
    from synthbot_desktop.audio.playback import Player
    from synthbot_desktop.pipeline.adapters import PlayerOutput

    return PlayerOutput(Player(ctx.settings.value(AUDIO_OUTPUT_DEVICE) or None).start())


async def _build_engine(ctx: AppContext, args: argparse.Namespace, output: Any) -> tuple[TurnEngine, Any]:
    """The conversation engine, built by the application layer exactly as the window builds it."""
    from synthbot_desktop.pipeline.adapters import WhisperTranscriber
    from synthbot_desktop.services.conversation import chat_for, open_conversation, plan_conversation, speech_for
    from synthbot_desktop.stt.engine import WhisperEngine

    if args.mode == "enhanced":
        from synthbot_desktop.services import features

        await asyncio.to_thread(features.require, ctx, "feature.enhanced_mode")
    plan = await asyncio.to_thread(plan_conversation, ctx, provider=args.provider, model=args.model,
                                   engine=args.engine, voice_id=args.voice)
    chat = chat_for(ctx, plan)
    speech = speech_for(ctx, plan.voice, events=_stderr_events) if output is not None else None
    whisper = WhisperEngine.from_settings(ctx.settings)
    load = asyncio.create_task(whisper.load_async())  # ~1 s: overlap with the database work below
    from synthbot_desktop.tools.mcp_client import open_mcp

    try:
        engine = await open_conversation(ctx, plan, chat=chat, speech=speech, output=output,
                                         stt=WhisperTranscriber(whisper), sink=_stderr_events,
                                         session_id=session_key(args.session), confirm=cli_confirm(args.yes),
                                         on_timer=timer_fired if args.mic else None,  # only --mic lives long enough
                                         mcp=open_mcp(ctx) if args.tools else None, tools=args.tools)
    finally:
        await load
    if args.mode == "enhanced":
        from synthbot_desktop.randomness.enhanced import TurnSampler

        # Seed + temperature per turn from the pool; the record lands on each assistant message
        # (timings["randomness"]) and the block names the user message, exactly as `chat` does.
        db = ctx.reachable_db()
        if db is None:
            print("note: enhanced mode needs the database's random pool, which is unreachable; "
                  "turns use normal sampling", file=sys.stderr)
        else:
            engine.sampler = TurnSampler.from_settings(db, plan.provider, ctx.settings)
    return engine, whisper


def _session_json(ctx: AppContext, engine: TurnEngine) -> dict[str, Any]:
    """The session's id once it is in the database (a new one is created with its first message,
    possibly into the spool), and its uid, which ``--session`` also accepts."""
    conv = engine.conversation
    sid = conv.session_id or (ctx.session_id_for(conv.session_uid) if conv.session_uid else None)
    return {"session_id": sid, "session_uid": conv.session_uid, "spooled_records": ctx.pending_records()}


async def _run(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.audio.formats import load_audio_file

    player: Any = None
    memory: MemoryOutput | None = None
    output: Any
    try:
        if args.out is not None:
            memory = output = MemoryOutput(realtime=False)
        else:
            from synthbot_desktop.services.conversation import open_output

            # No speaker: the reply is still printed, and stderr says once that speech is off.
            output = await open_output(ctx, _speaker, _stderr_events)
            player = getattr(output, "player", None)
        # Decode before the engine opens (creates) a session: a corrupt or empty file is refused
        # with nothing stored, instead of leaving an empty "(untitled)" session behind.
        samples = None if args.mic else await asyncio.to_thread(load_audio_file, args.infile)
        engine, whisper = await _build_engine(ctx, args, output)
        try:
            if args.mic or samples is None:
                return await _mic_loop(ctx, args, engine)
            result = await engine.run_turn(UserInput(audio=samples, speech_end=time.monotonic()))
        finally:
            await engine.chat.aclose()
            if engine.speech is not None:
                await engine.speech.aclose()
            if engine.tools is not None:
                await engine.tools.aclose()  # stops MCP servers and timers
            whisper.close()
        if memory is not None and args.out is not None:
            _write_wav(args.out, memory)
        ctx.flush()
        if args.json:
            print_json({**_session_json(ctx, engine), **_result_json(result, ctx),
                        **({"randomness": getattr(engine.sampler, "records", None)} if args.mode == "enhanced" else {}),
                        "out": str(args.out) if args.out else None})
        else:
            print(f"you: {result.transcript}", file=sys.stderr)
            print(result.reply)
        if result.skipped:
            print("nothing was heard in the recording (no speech): the assistant was not asked", file=sys.stderr)
            return 3
        return 0
    finally:
        if player is not None:
            player.close()


def _chime(engine: TurnEngine, sound: bool) -> Any:
    """Says "(awake)"/"(asleep)" on stderr and plays the earcon on the conversation's speaker."""
    from synthbot_desktop.audio.wake_word import earcon

    player = getattr(engine.output, "player", None)

    def play(kind: str) -> None:
        if sound and player is not None:
            player.enqueue(earcon(kind), sample_rate=22050, tag="earcon")
        print(f"({'awake' if kind == 'wake' else 'asleep'})", file=sys.stderr, flush=True)

    return play


async def _mic_loop(ctx: AppContext, args: argparse.Namespace, engine: TurnEngine) -> int:
    from synthbot_desktop.audio.capture import MicrophoneStream
    from synthbot_desktop.audio.echo import choose_canceller
    from synthbot_desktop.audio.vad import Endpointer
    from synthbot_desktop.pipeline.settings_map import endpointer_config, loop_config, turn_model, wake_detector
    from synthbot_desktop.pipeline.voice_loop import VoiceLoop

    s = ctx.settings
    voice_judge = asyncio.create_task(asyncio.to_thread(  # ~0.3 s, while the canceller and mic start
        turn_model, s, warn=lambda m: print(f"warning: {m}", file=sys.stderr, flush=True)))
    endpointer = Endpointer(endpointer_config(s, silence_ms=args.silence_ms))
    device = s.value(AUDIO_INPUT_DEVICE) or None
    cfg = loop_config(s, barge_in=args.barge_in, headphones=True if args.headphones else None, max_turns=args.turns)
    player = getattr(engine.output, "player", None)
    aec = await asyncio.to_thread(choose_canceller, s.value(AUDIO_ECHO_CANCELLATION),
                                  headphones=cfg.headphones, input_device=device)
    if aec.warning:
        print(f"warning: {aec.warning}", file=sys.stderr, flush=True)
    canceller = aec.canceller if player is not None else None
    if canceller is not None and player is not None:
        player.add_tap(canceller.reference.push)
        canceller.player = player
    cfg.echo_cancelled = aec.mode == "platform" or canceller is not None
    print(f"echo cancellation: {aec.detail if canceller is not None or aec.mode != 'webrtc' else 'off (no speaker)'}",
          file=sys.stderr, flush=True)
    mic = await asyncio.to_thread(lambda: MicrophoneStream(
        device, processor=canceller.process if canceller is not None else None).start())

    def announce(event: Event) -> None:
        _stderr_events(event)
        if isinstance(event, PartialTranscript):
            print(f"you (so far): {event.text}", file=sys.stderr, flush=True)  # a caption, not the transcript
        elif isinstance(event, FinalTranscript):
            print(f"you: {event.text}", file=sys.stderr, flush=True)
        elif isinstance(event, AssistantDone):
            mark = " [interrupted]" if event.interrupted else ""
            print(f"assistant{mark}: {event.text}", file=sys.stderr, flush=True)

    engine.sink = announce
    wake = wake_detector(s, name=args.wake_word, warn=lambda m: print(f"warning: {m}", file=sys.stderr, flush=True))
    loop_ = VoiceLoop(engine, mic, endpointer, config=cfg, sink=announce, wake=wake,
                      chime=_chime(engine, s.value(AUDIO_WAKE_WORD_EARCONS)) if wake is not None else None)
    loop_.turn_model = await voice_judge
    if canceller is not None:
        loop_.echo_unsettled = canceller.unsettled
        endpointer.veto = canceller.sounds_like_echo  # a residual burst of its own voice is not a barge-in
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows: no loop signal handlers
            loop.add_signal_handler(sig, loop_.stop)
    hint = f"say '{wake.phrase}'" if wake is not None else "speak"
    print(f"listening (session {engine.conversation.session_id}); {hint}, Ctrl+C to stop", file=sys.stderr, flush=True)
    try:
        results = await loop_.run()
    finally:
        mic.close()
    ctx.flush()
    if args.json:
        print_json({**_session_json(ctx, engine), "turns": [_result_json(r, ctx) for r in results],
                    "barge_ins": [{"stop_ms": round((b.stopped_at - b.detected_at) * 1000, 2)} for b in loop_.barge_ins],
                    "withdrawn_turns": [r.transcript for r in loop_.retracted],
                    "wake_word": wake.name if wake is not None else None, "wakes": len(loop_.wakes),
                    "sleeps": loop_.sleeps,
                    "echo_cancellation": {"mode": aec.mode if canceller is not None or aec.mode != "webrtc" else "off",
                                          "erle_db": round(canceller.erle_db, 1)
                                          if canceller is not None and canceller.erle_db is not None else None,
                                          "error": canceller.error if canceller is not None else None,
                                          "double_talk_s": round(canceller.stats.double_talk_frames / 100, 2)
                                          if canceller is not None else None},
                    "speculative_stt": {"used": loop_.speculative_hits, "dropped": loop_.speculative_misses},
                    "speculative_turns": {"used": loop_.speculative_turns_used,
                                          "withdrawn": loop_.speculative_turns_dropped}})
    return 0
