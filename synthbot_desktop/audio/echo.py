"""Acoustic echo cancellation on the capture path, with what the speaker played as the reference.

Why: on laptop speakers the microphone hears the assistant's own voice. Raising the VAD threshold
while it speaks (the old guard) also hides the first words of a person talking over it. WebRTC's
AEC3 (``pywebrtc-audio``, a 0.4 MB wheel, offline) subtracts the echo instead, so barge-in can use
the normal threshold.

Alignment: the :class:`~synthbot_desktop.audio.playback.Player` hands every block it gives the
device to :meth:`FarEndReference.push` with the monotonic time of the hand-over (the playback
timeline the app already keeps, silence included). The capture dispatcher calls
:meth:`EchoCanceller.process` with each 16 kHz block and the time the device delivered it; the
reference for the same span of the timeline is read with a continuous read pointer (resynced only
when it drifts by more than ``RESYNC_S``), so AEC3 sees a reference with a steady lag, which its own
delay estimator locks onto (output + input buffering + the acoustic path; hundreds of ms are fine).

Where the platform already cancels echo (a PulseAudio/PipeWire ``module-echo-cancel`` source is
the default input) the app does not cancel a second time and says so. A canceller that fails to
start or fails while running is reported in one line and the microphone goes on without it: never
a deaf microphone.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthbot_desktop.audio.levels import measure
from synthbot_desktop.audio.resample import StreamResampler
from synthbot_desktop.errors import AudioError

log = logging.getLogger(__name__)

RATE = 16000
FRAME = 160  # AEC3 works on 10 ms frames
RESYNC_S = 0.12  # re-align the reference read pointer when the timelines say it drifted this much
GAP_S = 0.05  # a speaker block this much later than its sample count says: the device paused (an
# underrun: the speaker played silence meanwhile, so the reference gets it too; 0.2 s left most underruns
# unmodelled and the echo delay jumped under AEC3; 0.03 s mistook callback jitter for gaps, measured)
LEAK_S = 2e-5  # per block: how fast a timeline offset may creep up (clock drift between devices)
HISTORY_S = 4.0  # reference kept (the echo path is far shorter)
CHECK_S = 0.25  # sounds_like_echo(): the latest microphone audio compared with the reference
CHECK_LAG_S = (-0.02, 0.45)  # lags searched around the canceller's alignment (the delay may have jumped)
ECHO_CORRELATION = 0.6  # at least this normalised correlation at some lag: the microphone hears the speaker
# Double talk: AEC3's suppressor can remove a person's voice along with the echo (the window's soak,
# no echo path: "seven of clubs" over a reply came out with VAD probability 0.01 instead of 0.95).
# When the microphone is clearly louder than silence and clearly *not* the reference (a person 10 dB
# over the echo correlates ~0.3, the echo alone >= 0.6), the raw microphone audio is handed on.
DOUBLE_TALK_CORRELATION = 0.25
DOUBLE_TALK_MIN_DBFS = -45.0  # quieter than this is room noise, not a voice over the reply
DOUBLE_TALK_HOLD_S = 0.3  # once seen, raw audio for this long (no switching inside a syllable)


class _Timeline:
    """Maps a stream's sample count to monotonic time from jittery callback timestamps.

    Why the minimum: a callback is never early, only late (scheduling, load), so the smallest
    ``timestamp - samples/rate`` seen is the best offset; it may creep up slowly (LEAK_S) so
    a small clock drift between the sound card and the monotonic clock is followed.
    """

    def __init__(self) -> None:
        self.offset: float | None = None

    def update(self, at: float, samples_so_far: int) -> float:
        off = at - samples_so_far / RATE
        self.offset = off if self.offset is None else min(self.offset + LEAK_S, off)
        return off


class FarEndReference:
    """What the speaker played, on the monotonic timeline, at 16 kHz (ring buffer).

    ``push`` runs on the PortAudio output thread, so it only appends a copy to a deque; the
    consumer (the capture dispatcher) resamples and files the blocks when it reads.
    """

    def __init__(self, history_s: float = HISTORY_S) -> None:
        self._incoming: deque[tuple[np.ndarray, int, float]] = deque(maxlen=2000)
        self._ring = np.zeros(int(history_s * RATE), dtype=np.float32)
        self._written = 0  # total samples filed
        self._timeline = _Timeline()
        self._resampler: StreamResampler | None = None
        self._rate = 0
        self.blocks = 0

    def push(self, block: np.ndarray, rate: int, at: float) -> None:
        self._incoming.append((np.array(block, dtype=np.float32, copy=True), rate, at))

    def _file(self) -> None:
        while self._incoming:
            block, rate, at = self._incoming.popleft()
            if rate != self._rate or self._resampler is None:
                self._resampler, self._rate = StreamResampler(rate, RATE), rate
            x = self._resampler.process(block)
            if self._timeline.offset is not None:
                late = at - (self._timeline.offset + self._written / RATE)
                if late > GAP_S:  # the device paused (underrun, stall): that time was silence
                    self._write(np.zeros(int(late * RATE), dtype=np.float32))
            self._timeline.update(at, self._written)
            self._write(x)
            self.blocks += 1

    def _write(self, x: np.ndarray) -> None:
        n = len(self._ring)
        if len(x) >= n:
            x = x[-n:]
        start = self._written % n
        end = start + len(x)
        if end <= n:
            self._ring[start:end] = x
        else:
            self._ring[start:] = x[: n - start]
            self._ring[: end - n] = x[n - start:]
        self._written += len(x)

    def index_at(self, t: float) -> int | None:
        """Ring index of the sample handed to the speaker at monotonic time ``t`` (None: never played)."""
        self._file()
        if self._timeline.offset is None:
            return None
        return round((t - self._timeline.offset) * RATE)

    def read(self, index: int, n: int) -> np.ndarray:
        """``n`` samples from ring index ``index``; zeros for what is not (or no longer) there."""
        self._file()
        out = np.zeros(n, dtype=np.float32)
        size = len(self._ring)
        lo, hi = max(index, self._written - size), min(index + n, self._written)
        if hi > lo:
            a = lo % size
            seg = hi - lo
            if a + seg <= size:
                out[lo - index:hi - index] = self._ring[a:a + seg]
            else:
                first = size - a
                out[lo - index:lo - index + first] = self._ring[a:]
                out[lo - index + first:hi - index] = self._ring[: seg - first]
        return out


def _compared_window(near_all: np.ndarray) -> np.ndarray:
    """The latest CHECK_S of microphone history that is compared with the reference: near[j] ~
    far[j - lag] for lag in CHECK_LAG_S, so the window ends -lag_min samples before the newest."""
    n, lo = int(CHECK_S * RATE), min(0, int(CHECK_LAG_S[0] * RATE))
    total = len(near_all)
    return near_all[total - n + lo:total + lo]


@dataclass
class CancellerStats:
    frames: int = 0
    cpu_s: float = 0.0  # thread CPU time spent in AEC3
    near_energy: float = 0.0  # while the speaker played: energy in (mic) and out (after AEC)
    out_energy: float = 0.0
    latency_s: float = 0.0  # audio held back to fill whole 10 ms frames (max seen)
    double_talk_frames: int = 0  # 10 ms frames handed on raw: a voice over the reply (see DOUBLE_TALK_*)


class EchoCanceller:
    """Capture-path processor: ``process(samples, captured_at) -> samples`` (16 kHz float32).

    Keeps whole 10 ms frames for AEC3; the remainder waits for the next block (at most 10 ms of
    added latency). Any failure inside disables it for good, with one warning line in the log and
    the ``error`` attribute set; the raw microphone audio then passes through.
    """

    name = "webrtc-aec3"

    def __init__(self, reference: FarEndReference | None = None, *, delay_hint_ms: int = 0,
                 factory: Any = None) -> None:
        if factory is None:
            try:
                from pywebrtc_audio import EchoCanceller as factory
            except Exception as exc:
                raise AudioError(f"the echo canceller (pywebrtc-audio) is not available ({type(exc).__name__})",
                                 hint="reinstall SynthBot Desktop, or use headphones") from None
        try:
            self._aec = factory(RATE, 1, int(delay_hint_ms))
        except Exception as exc:
            raise AudioError(f"the echo canceller did not start ({type(exc).__name__}: {exc})",
                             hint="use headphones, or set audio.echo_cancellation = off") from None
        self.reference = reference or FarEndReference()
        self._pending = np.zeros(0, dtype=np.float32)
        self._read_idx: int | None = None
        self._captured = 0  # 16 kHz samples seen on the capture timeline
        self._timeline = _Timeline()
        self._lock = threading.Lock()
        self.stats = CancellerStats()
        self.error: str | None = None
        self.enabled = True
        self.player: Any = None  # for its underrun times (see unsettled())
        self._resynced_at: float | None = None
        # the last ~1 s of raw microphone audio and of the reference fed with it, for sounds_like_echo()
        keep = int(RATE * (CHECK_S + CHECK_LAG_S[1] - CHECK_LAG_S[0] + 0.3))
        self._near_hist = np.zeros(keep, dtype=np.float32)
        self._far_hist = np.zeros(keep, dtype=np.float32)
        self.vetoes = 0  # speech starts held back because they were the speaker's echo
        self.double_talk_pass = True  # hand on the raw voice when it is clearly not the echo
        self._raw_until = -1  # capture sample index up to which the raw audio is handed on

    def process(self, samples: np.ndarray, captured_at: float) -> np.ndarray:
        if not self.enabled:
            return samples
        try:
            return self._process(samples, captured_at)
        except Exception as exc:  # never a deaf microphone: fall back to the raw audio
            self.enabled = False
            self.error = f"echo cancellation stopped ({type(exc).__name__}: {exc}); the microphone goes on without it"
            log.warning("%s", self.error)
            return samples

    def _process(self, samples: np.ndarray, captured_at: float) -> np.ndarray:
        with self._lock:
            x = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
            usable = len(x) // FRAME * FRAME
            near, self._pending = x[:usable], x[usable:].copy()
            self.stats.latency_s = max(self.stats.latency_s, len(self._pending) / RATE)
            if usable == 0:
                return near
            # the time the first of these samples was captured, on the smoothed capture timeline
            self._captured += len(samples)
            self._timeline.update(captured_at, self._captured)
            assert self._timeline.offset is not None
            start_t = self._timeline.offset + (self._captured - len(self._pending) - usable) / RATE
            want = self.reference.index_at(start_t)
            if want is None:
                far = np.zeros(usable, dtype=np.float32)
            else:
                if self._read_idx is None or abs(want - self._read_idx) > RESYNC_S * RATE:
                    if self._read_idx is not None:
                        self._resynced_at = time.monotonic()
                    self._read_idx = want
                far = self.reference.read(self._read_idx, usable)
                self._read_idx += usable
            self._remember(near, far)
            t0 = time.thread_time()
            out = np.asarray(self._aec.process(near, far), dtype=np.float32)
            far_active = float(np.max(np.abs(far))) > 1e-4
            if far_active and self.double_talk_pass and self._double_talk(near):
                out = near
                self.stats.double_talk_frames += usable // FRAME
            self.stats.cpu_s += time.thread_time() - t0
            self.stats.frames += usable // FRAME
            if far_active:
                self.stats.near_energy += float(np.sum(near * near))
                self.stats.out_energy += float(np.sum(out * out))
            return out

    def _double_talk(self, near: np.ndarray) -> bool:
        """A voice over the reply that AEC3 might suppress: loud, and unlike the reference at every lag."""
        if self._captured < self._raw_until:
            return True
        # both the newest audio and the window compared with the reference must be loud: a window
        # that is still silent says nothing (the start of the reply's own echo looks like that)
        window = _compared_window(self._near_hist)
        if min(measure(near).rms_dbfs, measure(window).rms_dbfs) < DOUBLE_TALK_MIN_DBFS:
            return False
        if self._correlation(self._near_hist, self._far_hist) >= DOUBLE_TALK_CORRELATION:
            return False
        self._raw_until = self._captured + int(DOUBLE_TALK_HOLD_S * RATE)
        return True

    def _remember(self, near: np.ndarray, far: np.ndarray) -> None:
        n = min(len(near), len(self._near_hist))
        for hist, x in ((self._near_hist, near), (self._far_hist, far)):
            hist[:-n] = hist[n:]
            hist[-n:] = x[-n:]

    def echo_correlation(self) -> float:
        """How much the latest microphone audio looks like the reference, at the best lag (0..1).

        Why: after a speaker underrun the echo's delay jumps and AEC3 needs a moment to find it;
        what it leaks meanwhile sounds like speech to the VAD. The raw microphone audio then still
        is the reference, delayed and scaled, at *some* lag near the old one: a normalised
        cross-correlation over a wide lag range finds it whatever the delay did. A person talking
        over the reply is not correlated with it (voice 10 dB above the echo: about 0.3).
        """
        with self._lock:
            near_all, far_all = self._near_hist.copy(), self._far_hist.copy()
        return self._correlation(near_all, far_all)

    @staticmethod
    def _correlation(near_all: np.ndarray, far_all: np.ndarray) -> float:
        n = int(CHECK_S * RATE)
        lo, hi = min(0, int(CHECK_LAG_S[0] * RATE)), int(CHECK_LAG_S[1] * RATE)
        near = _compared_window(near_all)
        far = far_all[len(far_all) - n + lo - hi:]
        nn = float(np.linalg.norm(near))
        if nn < 1e-4 or float(np.max(np.abs(far))) < 1e-4:
            return 0.0
        size = 1 << int(np.ceil(np.log2(len(far) + n)))
        corr = np.fft.irfft(np.fft.rfft(far, size) * np.conj(np.fft.rfft(near, size)), size)[: len(far) - n + 1]
        energy = np.concatenate([[0.0], np.cumsum(far.astype(np.float64) ** 2)])
        norms = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-12))
        return float(np.max(np.abs(corr) / (norms * nn)))

    def sounds_like_echo(self) -> bool:
        """True when the latest microphone audio is the speaker's own output (see echo_correlation)."""
        if not self.enabled:
            return False
        echo = self.echo_correlation() >= ECHO_CORRELATION
        if echo:
            self.vetoes += 1
        return echo

    def unsettled(self, window_s: float = 1.5) -> bool:
        """True shortly after the echo path's delay may have jumped (a speaker underrun, a resync).

        Why: AEC3 needs up to about a second to find a new delay; meanwhile its residual can sound
        like speech, so the voice loop asks for the stricter confirmation threshold.
        """
        now = time.monotonic()
        last = getattr(self.player, "last_underrun_at", None)
        return any(t is not None and now - t < window_s for t in (last, self._resynced_at))

    @property
    def erle_db(self) -> float | None:
        """Echo return loss enhancement over everything captured while the speaker played."""
        s = self.stats
        if s.near_energy <= 0 or s.out_energy <= 0:
            return None
        return float(10 * np.log10(s.near_energy / s.out_energy))


@dataclass(frozen=True)
class CancellerChoice:
    """Which canceller is active and why (shown by `doctor` and at the start of `talk --mic`)."""

    mode: str  # "webrtc", "platform", "off"
    detail: str
    canceller: EchoCanceller | None = None
    warning: str | None = None  # one line for the user when the wanted canceller could not start


def platform_echo_cancel(env: dict[str, str] | None = None) -> str | None:
    """The default input's name when it is a PulseAudio/PipeWire ``module-echo-cancel`` source."""
    if not shutil.which("pactl"):
        return None
    try:
        default = subprocess.run(["pactl", "get-default-source"], capture_output=True, text=True, timeout=3,
                                 env=env).stdout.strip()
        sources = subprocess.run(["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=3,
                                 env=env).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in sources.splitlines():
        cols = line.split("\t")
        if len(cols) >= 3 and cols[1] == default and "echo-cancel" in cols[2]:
            return default
    return None


def choose_canceller(setting: str, *, headphones: bool, input_device: str | None = None,
                     env: dict[str, str] | None = None) -> CancellerChoice:
    """Decide on echo cancellation: ``audio.echo_cancellation`` auto|on|off, headphones, the platform."""
    if setting == "off":
        return CancellerChoice("off", "off (audio.echo_cancellation = off)")
    if setting == "auto" and headphones:
        return CancellerChoice("off", "off (headphones: no echo to cancel)")
    if not input_device:
        source = platform_echo_cancel(env)
        if source is not None:
            return CancellerChoice("platform", f"the system's echo-cancelled input ({source}, module-echo-cancel)")
    try:
        canceller = EchoCanceller()
    except AudioError as exc:
        return CancellerChoice("off", "off (" + exc.message + ")",
                               warning=f"echo cancellation off: {exc.one_line()}")
    return CancellerChoice("webrtc", "WebRTC AEC3 (pywebrtc-audio) with the speaker's output as reference",
                           canceller)
