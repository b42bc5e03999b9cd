"""Speaker output: one sounddevice OutputStream kept open, fed from a queue of PCM chunks.

TTS engines deliver PCM at their own rate and width (Piper 22.05 kHz int16, ElevenLabs 16/22.05/
24/44.1 kHz); :meth:`Player.enqueue` converts and resamples on the caller's thread so the audio
callback only copies prepared float32 samples. The callback outputs silence when there is
nothing to play, which keeps the stream open and the next reply instant.

For barge-in, :meth:`Player.stop` empties the queue under the same lock the callback uses, so
the next block the device asks for is silence: playback ends within one block. The player
tracks, per queued item, the monotonic time its first sample was handed to the device and how
many of its seconds were handed over, so the pipeline can tell which words were spoken.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from synthbot_desktop.audio.devices import DeviceChoice, choose_device, import_sounddevice
from synthbot_desktop.audio.formats import pcm_to_float32, to_mono
from synthbot_desktop.audio.resample import StreamResampler
from synthbot_desktop.errors import AudioError
from synthbot_desktop.tts.base import AudioChunk, AudioFormat

log = logging.getLogger(__name__)
_ids = itertools.count(1)


@dataclass(eq=False)
class PlaybackItem:
    """One queued chunk. ``done`` is set when its last sample was handed to the device or it was dropped."""

    tag: Any
    frames: int  # length at the device rate
    rate: int  # device rate
    id: int = field(default_factory=lambda: next(_ids))
    played_frames: int = 0
    started_at: float | None = None  # monotonic time the first sample was handed to the device
    finished_at: float | None = None
    cancelled: bool = False
    done: threading.Event = field(default_factory=threading.Event)
    _callbacks: list[Callable[[PlaybackItem], None]] = field(default_factory=list)
    # Guards done+callbacks together: without it a callback added while the audio thread
    # finishes the item could be appended after the thread looked, and never run.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    @property
    def played_seconds(self) -> float:
        return self.played_frames / self.rate

    def wait(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)

    def add_done_callback(self, fn: Callable[[PlaybackItem], None]) -> None:
        """Run ``fn(item)`` on the player's notifier thread when the item finished or was dropped."""
        with self._lock:
            finished = self.done.is_set()
            if not finished:
                self._callbacks.append(fn)
        if finished:
            fn(self)


@dataclass(frozen=True)
class StopReport:
    seconds_played: float  # of the items that were playing or queued at stop()
    first_sample_at: float | None  # monotonic time the first of them reached the device
    items: list[PlaybackItem]
    stopped_at: float


class Player:
    """The app's speaker. ``start()`` once, ``enqueue()`` chunks, ``stop()`` to cut playback."""

    def __init__(self, device: str | int | None = None, *, block_ms: int = 20, samplerate: int | None = None,
                 sd: Any = None) -> None:
        self._sd = sd
        self._device_spec = device
        self.block_ms = block_ms
        self._requested_rate = samplerate
        self._lock = threading.Lock()
        self._queue: deque[tuple[PlaybackItem, np.ndarray]] = deque()
        self._pos = 0  # frames of the head item already handed over
        self._stream: Any = None
        self._resamplers: dict[int, StreamResampler] = {}
        self._notify_cv = threading.Condition()
        self._notify: deque[PlaybackItem] = deque()
        self._notifier: threading.Thread | None = None
        self._running = False
        self.samplerate = 0
        self.channels = 1
        self.choice: DeviceChoice | None = None
        self.error: AudioError | None = None
        self.underruns = 0
        self.last_underrun_at: float | None = None
        self.last_block_at: float | None = None
        # Far-end taps (echo cancellation): called on the audio thread with every block handed to
        # the device, silence included, and the time it was handed over. They must only copy.
        self._taps: list[Callable[[np.ndarray, int, float], None]] = []

    def add_tap(self, fn: Callable[[np.ndarray, int, float], None]) -> None:
        """Get every output block ``fn(samples, rate, handed_over_at)`` (the AEC reference)."""
        self._taps.append(fn)

    def remove_tap(self, fn: Callable[[np.ndarray, int, float], None]) -> None:
        """Stop feeding ``fn`` (a canceller dropped with its microphone); unknown taps are ignored."""
        with contextlib.suppress(ValueError):
            self._taps.remove(fn)
    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> Player:
        if self._stream is not None:
            return self
        sd = self._sd = self._sd or import_sounddevice()
        self.choice = choose_device(self._device_spec, "output", sd=sd)
        if self.choice.fallback_message:
            log.warning("%s", self.choice.fallback_message)
        dev = self.choice.device
        self.samplerate = int(self._requested_rate or dev.default_samplerate or 48000)
        self.channels = 1 if dev.max_output_channels < 2 else 2
        self.error = None  # a reopen after a lost device starts clean
        self._resamplers.clear()  # they convert to the old stream's rate
        try:
            self._stream = sd.OutputStream(device=dev.index, samplerate=self.samplerate, channels=self.channels,
                                           dtype="float32", blocksize=max(1, int(self.samplerate * self.block_ms / 1000)),
                                           latency="low", callback=self._callback, finished_callback=self._finished)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            raise AudioError(f"cannot open the speaker '{dev.name}' at {self.samplerate} Hz ({exc})",
                             hint="choose another output with `synthbot-desktop audio devices` "
                                  "and set audio.output_device") from None
        self._running = True
        self._notifier = threading.Thread(target=self._notify_loop, name="playback-notify", daemon=True)
        self._notifier.start()
        log.info("speaker open: %s (%s) at %d Hz", dev.name, dev.hostapi, self.samplerate)
        return self

    def close(self) -> None:
        self.stop()
        self._running = False
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                log.debug("closing the output stream failed", exc_info=True)
        with self._notify_cv:
            self._notify_cv.notify_all()
        if self._notifier is not None:
            self._notifier.join(timeout=2)
            self._notifier = None

    def __enter__(self) -> Player:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def output_latency(self) -> float:
        """PortAudio's estimate of the time from handing a sample over to hearing it."""
        try:
            return float(self._stream.latency) if self._stream is not None else 0.0
        except Exception:
            return 0.0

    # -- queueing --------------------------------------------------------------------------
    def enqueue(self, audio: AudioChunk | bytes | np.ndarray, fmt: AudioFormat | None = None, *,
                sample_rate: int | None = None, tag: Any = None) -> PlaybackItem:
        """Queue PCM (an AudioChunk, raw bytes + format, or a float32 array + sample_rate)."""
        if self.error is not None:
            raise self.error
        if self._stream is None:
            raise AudioError("the speaker is not open", hint="call Player.start() first")
        if isinstance(audio, AudioChunk):
            fmt = audio.format
            samples = to_mono(pcm_to_float32(audio.pcm, fmt.sample_width, fmt.channels))
            rate = fmt.sample_rate
        elif isinstance(audio, bytes | bytearray | memoryview):
            if fmt is None:
                raise AudioError("raw PCM needs its format (sample rate, channels, width)")
            samples = to_mono(pcm_to_float32(bytes(audio), fmt.sample_width, fmt.channels))
            rate = fmt.sample_rate
        else:
            if sample_rate is None:
                raise AudioError("a sample array needs its sample_rate")
            samples = to_mono(np.asarray(audio, dtype=np.float32))
            rate = sample_rate
        if rate <= 0:
            raise AudioError(f"invalid sample rate {rate}")
        resampler = self._resamplers.get(rate)
        if resampler is None:
            resampler = self._resamplers[rate] = StreamResampler(rate, self.samplerate)
        out = resampler.process(samples)
        item = PlaybackItem(tag=tag, frames=len(out), rate=self.samplerate)
        with self._lock:
            if item.frames == 0:
                item.finished_at = time.monotonic()
                self._post(item)
            else:
                self._queue.append((item, out))
        return item

    def stop(self) -> StopReport:
        """Cut playback now; the device gets silence from its next block on."""
        with self._lock:
            entries = list(self._queue)
            self._queue.clear()
            self._pos = 0
        now = time.monotonic()
        items = [item for item, _ in entries]
        for item in items:
            item.cancelled = True
            self._post(item)
        for r in self._resamplers.values():
            r.reset()
        played = sum(i.played_frames for i in items) / self.samplerate if self.samplerate else 0.0
        starts = [i.started_at for i in items if i.started_at is not None]
        return StopReport(played, min(starts) if starts else None, items, now)

    @property
    def busy(self) -> bool:
        with self._lock:
            return bool(self._queue)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued was handed to the device (True) or timeout (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.busy:
            if self.error is not None:
                raise self.error
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    # -- threads ---------------------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio thread: copy prepared samples; everything else happens elsewhere.
        now = time.monotonic()
        if status and getattr(status, "output_underflow", False):
            self.underruns += 1
            self.last_underrun_at = now  # the echo path's delay may just have shifted (AEC re-converges)
        self.last_block_at = now
        filled = 0
        with self._lock:
            while filled < frames and self._queue:
                item, samples = self._queue[0]
                take = min(frames - filled, len(samples) - self._pos)
                outdata[filled:filled + take, 0] = samples[self._pos:self._pos + take]
                if item.started_at is None:
                    item.started_at = now
                self._pos += take
                item.played_frames = self._pos
                filled += take
                if self._pos >= len(samples):
                    self._queue.popleft()
                    self._pos = 0
                    item.finished_at = now
                    self._post(item)
        if filled < frames:
            outdata[filled:, 0] = 0.0
        for ch in range(1, outdata.shape[1]):
            outdata[:, ch] = outdata[:, 0]
        for tap in self._taps:
            with contextlib.suppress(Exception):  # a reference tap must never break playback
                tap(outdata[:, 0], self.samplerate, now)

    def _finished(self) -> None:
        if self._running:
            self.error = AudioError("the speaker stopped (unplugged or taken by another app?)",
                                    hint="reconnect it or choose another output with `synthbot-desktop audio devices`")
            self.stop()

    def _post(self, item: PlaybackItem) -> None:
        with item._lock:  # uncontended except in the rare add-while-finishing case
            item.done.set()
            notify = bool(item._callbacks)
        if notify:
            with self._notify_cv:
                self._notify.append(item)
                self._notify_cv.notify()

    def _notify_loop(self) -> None:
        while True:
            with self._notify_cv:
                while not self._notify and self._running:
                    self._notify_cv.wait(0.5)
                if not self._notify and not self._running:
                    return
                item = self._notify.popleft()
            for fn in list(item._callbacks):
                try:
                    fn(item)
                except Exception:
                    log.exception("playback callback failed")
