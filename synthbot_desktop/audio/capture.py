"""Microphone capture: one sounddevice InputStream kept open for the app's lifetime.

Opening a PortAudio stream through PulseAudio costs 1–2 s, so the stream is opened once and
consumers come and go. The PortAudio callback does the least possible — copy the block and a
timestamp into a bounded queue — because any work there risks dropouts; when the queue is full
the block is dropped and counted (``overflows``), never raised. A dispatcher thread resamples
from the device's native rate to 16 kHz mono, measures the level for the GUI meter and hands
:class:`CapturedBlock` objects to subscribers. If the device disappears mid-recording, the
error is kept in :attr:`MicrophoneStream.error` and readers get an :class:`AudioError`; blocks
already delivered stay with their consumers, so a partial recording is never lost.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbot_desktop.audio.devices import DeviceChoice, choose_device, import_sounddevice
from synthbot_desktop.audio.formats import STT_RATE, to_mono
from synthbot_desktop.audio.levels import Level, measure
from synthbot_desktop.audio.resample import StreamResampler
from synthbot_desktop.errors import AudioError

log = logging.getLogger(__name__)

STALL_SECONDS = 2.0
"""No audio for this long from an open stream means the device is gone or stuck."""


@dataclass(frozen=True)
class CapturedBlock:
    samples: np.ndarray  # float32 mono at 16 kHz
    sample_offset: int  # position of samples[0] in the 16 kHz stream since start()
    captured_at: float  # time.monotonic() when the device delivered the block's last sample
    level: Level

    @property
    def seconds(self) -> float:
        return len(self.samples) / STT_RATE


Subscriber = Callable[[CapturedBlock], None]


class BlockReader:
    """A pull-style subscription: its own bounded queue, read with a timeout."""

    def __init__(self, stream: MicrophoneStream, max_blocks: int) -> None:
        self._stream = stream
        self._queue: queue.Queue[CapturedBlock] = queue.Queue(maxsize=max_blocks)
        self.dropped = 0
        self._unsubscribe = stream.subscribe(self._put)

    def _put(self, block: CapturedBlock) -> None:
        try:
            self._queue.put_nowait(block)
        except queue.Full:
            self.dropped += 1

    def read(self, timeout: float | None = None) -> CapturedBlock | None:
        """The next block, or None after ``timeout``; raises AudioError if the device failed."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            if self._stream.error is not None:
                raise self._stream.error from None
            return None

    def close(self) -> None:
        self._unsubscribe()

    def __enter__(self) -> BlockReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class MicrophoneStream:
    """The app's microphone. ``start()`` once; ``subscribe()``/``reader()`` as often as needed."""

    def __init__(self, device: str | int | None = None, *, block_ms: int = 20, queue_seconds: float = 5.0,
                 samplerate: int | None = None, sd: Any = None,
                 processor: Callable[[np.ndarray, float], np.ndarray] | None = None) -> None:
        self._sd = sd
        # Runs on the dispatcher thread on every 16 kHz block before anyone sees it (echo
        # cancellation); it must never raise and must return audio (the raw block if it fails).
        self.processor = processor
        self._device_spec = device
        self.block_ms = block_ms
        self._requested_rate = samplerate
        self._queue_seconds = queue_seconds
        self._raw: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(maxsize=max(4, int(queue_seconds * 1000 / block_ms)))
        self._subscribers: list[Subscriber] = []
        self._sub_lock = threading.Lock()
        self._stream: Any = None
        self._thread: threading.Thread | None = None
        self._running = threading.Event()
        self.overflows = 0  # blocks dropped because the consumer side fell behind
        self.device_overflows = 0  # PortAudio's own input-overflow flags
        self.error: AudioError | None = None
        self.choice: DeviceChoice | None = None
        self.samplerate = 0
        self.latest_level = Level(-120.0, -120.0)
        self._offset = 0
        self._resampler: StreamResampler | None = None
        self._last_data = 0.0

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> MicrophoneStream:
        if self._stream is not None:
            return self
        sd = self._sd = self._sd or import_sounddevice()
        self.choice = choose_device(self._device_spec, "input", sd=sd)
        if self.choice.fallback_message:
            log.warning("%s", self.choice.fallback_message)
        dev = self.choice.device
        self.samplerate = int(self._requested_rate or dev.default_samplerate or STT_RATE)
        self._resampler = StreamResampler(self.samplerate, STT_RATE)
        # A reopen (after an unplug, or a device change) starts clean: the old failure, the old
        # stream's leftover blocks and its sample count belong to the stream that was closed.
        self.error = None
        self._offset = 0
        while True:
            try:
                self._raw.get_nowait()
            except queue.Empty:
                break
        blocksize = max(1, int(self.samplerate * self.block_ms / 1000))
        try:
            self._stream = sd.InputStream(device=dev.index, samplerate=self.samplerate, channels=1,
                                          dtype="float32", blocksize=blocksize, callback=self._callback,
                                          finished_callback=self._finished)
            self._stream.start()
        except Exception as exc:
            self._stream = None
            raise AudioError(f"cannot open the microphone '{dev.name}' at {self.samplerate} Hz ({exc})",
                             hint="choose another input with `synthbot-desktop audio devices` "
                                  "and set audio.input_device") from None
        self._running.set()
        self._last_data = time.monotonic()
        self._thread = threading.Thread(target=self._dispatch, name="mic-dispatch", daemon=True)
        self._thread.start()
        log.info("microphone open: %s (%s) at %d Hz", dev.name, dev.hostapi, self.samplerate)
        return self

    def close(self) -> None:
        self._running.clear()
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:  # closing a vanished device can fail; nothing left to save
                log.debug("closing the input stream failed", exc_info=True)
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self) -> MicrophoneStream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def active(self) -> bool:
        return self._stream is not None and self.error is None

    # -- consumers -------------------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn`` with every block (on the dispatcher thread; keep it quick). Returns an unsubscribe."""
        with self._sub_lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._sub_lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def reader(self, max_seconds: float = 30.0) -> BlockReader:
        """A pull-style subscription buffering up to ``max_seconds`` of audio."""
        return BlockReader(self, max(4, int(max_seconds * 1000 / self.block_ms)))

    # -- threads ---------------------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio thread: copy and go. No allocation beyond the copy, no locks held long.
        if status and getattr(status, "input_overflow", False):
            self.device_overflows += 1
        try:
            self._raw.put_nowait((indata.copy(), time.monotonic()))
        except queue.Full:
            self.overflows += 1

    def _finished(self) -> None:
        if self._running.is_set():
            self.error = AudioError("the microphone stopped delivering audio (unplugged or taken by another app?)",
                                    hint="reconnect it or choose another input with `synthbot-desktop audio devices`")

    def _dispatch(self) -> None:
        assert self._resampler is not None
        while self._running.is_set():
            try:
                raw, at = self._raw.get(timeout=0.2)
            except queue.Empty:
                if self.error is None and time.monotonic() - self._last_data > STALL_SECONDS:
                    stream = self._stream
                    if stream is not None and not getattr(stream, "active", True):
                        self._finished()
                continue
            self._last_data = at
            samples = self._resampler.process(to_mono(raw))
            if self.processor is not None and samples.size:
                try:
                    samples = self.processor(samples, at)
                except Exception:
                    log.exception("microphone processor failed; raw audio from now on")
                    self.processor = None
            if samples.size == 0:
                continue
            level = measure(samples)
            self.latest_level = level
            block = CapturedBlock(samples, self._offset, at, level)
            self._offset += len(samples)
            with self._sub_lock:
                subscribers = list(self._subscribers)
            for fn in subscribers:
                try:
                    fn(block)
                except Exception:  # one broken consumer must not starve the others
                    log.exception("microphone subscriber failed")
