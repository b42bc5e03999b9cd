"""`synthbot-desktop listen [--seconds N] [--device D] [--silence-ms N] [--json]`.

Proves the live path headless: microphone stream -> Silero endpointer -> Whisper. Records until
the end of one utterance (or N seconds, whichever comes first), then prints the transcript. The
model loads on a background thread while the microphone is already listening. When the time
runs out mid-sentence, or the device disappears, what was heard so far is still transcribed;
``--save`` keeps the raw recording.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from synthbot_desktop.app import AppContext
from synthbot_desktop.audio.capture import MicrophoneStream
from synthbot_desktop.audio.formats import STT_RATE
from synthbot_desktop.audio.vad import Endpointer, EndpointerConfig, SpeechEnd, SpeechStart
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import AudioError, SynthbotError
from synthbot_desktop.services import error_reports
from synthbot_desktop.setting_keys import AUDIO_INPUT_DEVICE, AUDIO_WAKE_WORD_PREROLL_MS
from synthbot_desktop.stt.engine import WhisperEngine

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "listen", _listen, "record one utterance from the microphone and transcribe it")
    parser.add_argument("--seconds", type=float, help="stop after this many seconds even if speech continues")
    parser.add_argument("--device", help="microphone by name or index (default: the audio.input_device setting)")
    parser.add_argument("--silence-ms", type=int, help="silence that ends the utterance (default: audio.silence_ms)")
    parser.add_argument("--model", help="Whisper model (default: the stt.model setting)")
    parser.add_argument("--language", help="spoken language code (default: the stt.language setting)")
    parser.add_argument("--wake-word", metavar="NAME",
                        help="first wait for this phrase (hey_jarvis, okay_nabu, hey_mycroft, alexa, none); "
                             "default: setting audio.wake_word")
    parser.add_argument("--save", type=Path, metavar="FILE.wav", help="also keep the whole recording as a WAV file")
    add_json_flag(parser)


def _save(path: Path, chunks: list[np.ndarray]) -> None:
    import soundfile as sf

    audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
    sf.write(str(path), audio, STT_RATE, subtype="PCM_16")


def _listen(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.seconds is not None and args.seconds <= 0:
        raise SynthbotError("--seconds must be positive")
    engine = WhisperEngine.from_settings(ctx.settings, model=args.model, language=args.language)
    load_error: list[BaseException] = []

    def load() -> None:
        try:
            engine.load()
        except BaseException as exc:  # reported after recording, so the user sees both problems at once
            load_error.append(exc)

    loader = threading.Thread(target=load, name="whisper-load", daemon=True)
    loader.start()
    # Whatever happens below, the Whisper load finishes before the process exits: a native model
    # load torn down by interpreter shutdown aborts it ("terminate called without an active exception").
    try:
        config = EndpointerConfig.from_settings(ctx.settings, silence_ms=args.silence_ms)
        endpointer = Endpointer(config)
        from synthbot_desktop.pipeline.settings_map import wake_detector

        wake = wake_detector(ctx.settings, name=args.wake_word,
                             warn=lambda m: sys.stderr.write(f"warning: {m}\n"))
        preroll = int(STT_RATE * ctx.settings.value(AUDIO_WAKE_WORD_PREROLL_MS) / 1000)
        recent: list[np.ndarray] = []
        woke_at: float | None = None
        device = args.device if args.device is not None else (ctx.settings.value(AUDIO_INPUT_DEVICE) or None)
        recording: list[np.ndarray] = []
        utterance: SpeechEnd | None = None
        started: SpeechStart | None = None
        device_error: AudioError | None = None
        t_open = time.monotonic()
        with MicrophoneStream(device) as mic:
            assert mic.choice is not None
            if mic.choice.fallback_message:
                sys.stderr.write(f"warning: {mic.choice.fallback_message}\n")
            sys.stderr.write(f"listening on '{mic.choice.device.name}'" +
                             (f" for up to {args.seconds:g} s" if args.seconds else "") +
                             (f"; say '{wake.phrase}'" if wake is not None else "") + "...\n")
            sys.stderr.flush()
            deadline = time.monotonic() + args.seconds if args.seconds else float("inf")
            with mic.reader(max_seconds=60) as reader:
                while utterance is None and time.monotonic() < deadline:
                    try:
                        block = reader.read(timeout=0.25)
                    except AudioError as exc:
                        device_error = exc
                        break
                    if block is None:
                        continue
                    recording.append(block.samples)
                    samples = block.samples
                    if wake is not None and woke_at is None:
                        recent.append(samples)
                        heard_wake = wake.feed(samples)
                        if not heard_wake:
                            recent = recent[-max(1, preroll // max(1, len(samples)) + 1):]
                            continue
                        woke_at = sum(len(c) for c in recording) / STT_RATE
                        sys.stderr.write("(awake)\n")
                        sys.stderr.flush()
                        samples = np.concatenate(recent)[-preroll:] if preroll else samples[:0]
                    for event in endpointer.feed(samples):
                        if isinstance(event, SpeechStart):
                            started = event
                            log.info("speech started at %.2f s", event.seconds)
                        elif isinstance(event, SpeechEnd) and utterance is None:
                            utterance = event
            overflows = mic.overflows
            device_name = mic.choice.device.name
        if utterance is None:
            flushed = [e for e in endpointer.flush() if isinstance(e, SpeechEnd)]
            utterance = flushed[0] if flushed else None
        if args.save:
            _save(args.save, recording)
        if utterance is None:
            if device_error is not None:
                raise device_error
            if wake is not None and woke_at is None:
                heard = sum(len(c) for c in recording) / STT_RATE
                raise AudioError(f"the wake word '{wake.phrase}' was not heard in {heard:.1f} s from '{device_name}'",
                                 hint="say it clearly, raise audio.wake_word_sensitivity, or use --wake-word none")
            heard = sum(len(c) for c in recording) / STT_RATE
            raise AudioError(f"no speech heard in {heard:.1f} s from '{device_name}'",
                             hint="speak closer to the microphone, check it is not muted, or choose another with --device")
        loader.join()
        if load_error:
            raise load_error[0]
        result = engine.transcribe(utterance.audio)
        if wake is not None:
            from dataclasses import replace

            from synthbot_desktop.audio.wake_word import strip_phrase

            result = replace(result, text=strip_phrase(result.text, wake.name))
        if device_error is not None:
            sys.stderr.write(f"warning: {device_error.one_line()} (transcribed what was heard before)\n")
            error_reports.shown("cli.listen", device_error.one_line(), kind=error_reports.kind_of(device_error))
        if args.json:
            print_json({**result.as_json(), "speech_start": round(utterance.start_seconds, 3),
                        "speech_end": round(utterance.end_seconds, 3), "end_reason": utterance.reason,
                        "device": device_name, "overflows": overflows,
                        "recorded_seconds": round(sum(len(c) for c in recording) / STT_RATE, 3),
                        "wall_seconds": round(time.monotonic() - t_open, 3), "speech_started": started is not None,
                        "wake_word": wake.name if wake is not None else None,
                        "woke_at": round(woke_at, 3) if woke_at is not None else None})
        else:
            print(result.text)
        return 0 if result.text else 1
    finally:
        loader.join()
