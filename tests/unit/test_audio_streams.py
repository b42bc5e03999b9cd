"""MicrophoneStream and Player logic driven through a fake sounddevice whose callbacks the test calls.

The real-device behaviour is covered by tests/integration/test_audio_pulse.py; here the timing is
deterministic: each call to ``pull``/``push`` is one audio block handed over by "PortAudio".
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from synthbot_desktop.audio.capture import MicrophoneStream
from synthbot_desktop.audio.playback import Player
from synthbot_desktop.errors import AudioError
from synthbot_desktop.tts.base import AudioChunk, AudioFormat


class FakeStream:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished = kwargs.get("finished_callback")
        self.active = False
        self.latency = 0.02

    def start(self) -> None:
        self.active = True

    def stop(self) -> None:
        self.active = False

    def close(self) -> None:
        self.active = False

    # input side
    def push(self, block: np.ndarray, status: Any = None) -> None:
        self.callback(block.reshape(-1, 1).astype(np.float32), len(block), None, status)

    # output side
    def pull(self, frames: int) -> np.ndarray:
        out = np.full((frames, self.kwargs["channels"]), 9.0, dtype=np.float32)  # garbage the callback must overwrite
        self.callback(out, frames, None, None)
        return out

    def unplug(self) -> None:
        self.active = False
        if self.finished:
            self.finished()


class FakeSD:
    def __init__(self, rate: float = 48000.0, fail_open: bool = False) -> None:
        self.streams: list[FakeStream] = []
        self.rate = rate
        self.fail_open = fail_open
        self.default = SimpleNamespace(device=(0, 0))

    def query_devices(self) -> list[dict[str, Any]]:
        return [{"name": "Fake Duplex", "index": 0, "hostapi": 0, "max_input_channels": 1,
                 "max_output_channels": 2, "default_samplerate": self.rate}]

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "ALSA"}]

    def _open(self, **kwargs: Any) -> FakeStream:
        if self.fail_open:
            raise RuntimeError("Error opening stream: Device unavailable [PaErrorCode -9985]")
        stream = FakeStream(**kwargs)
        self.streams.append(stream)
        return stream

    def InputStream(self, **kwargs: Any) -> FakeStream:
        return self._open(**kwargs)

    def OutputStream(self, **kwargs: Any) -> FakeStream:
        return self._open(**kwargs)


def _wait(cond: Any, timeout: float = 2.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.005)


# -- capture -------------------------------------------------------------------------------

def test_capture_resamples_to_16k_and_reports_levels() -> None:
    sd = FakeSD(48000)
    with MicrophoneStream(sd=sd) as mic:
        stream = sd.streams[0]
        assert stream.kwargs["samplerate"] == 48000 and stream.kwargs["blocksize"] == 960
        with mic.reader() as reader:
            t = np.arange(48000) / 48000
            tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
            for block in np.split(tone, 50):
                stream.push(block)
            got = []
            while sum(len(b.samples) for b in got) < 15900:
                b = reader.read(timeout=2)
                assert b is not None
                got.append(b)
        assert got[0].sample_offset == 0 and got[1].sample_offset == len(got[0].samples)
        audio = np.concatenate([b.samples for b in got])
        assert audio.dtype == np.float32
        assert got[-1].level.peak_dbfs == pytest.approx(-6.0, abs=0.3)
        assert mic.latest_level.rms_dbfs == pytest.approx(-9.0, abs=0.3)
        ref = 0.5 * np.sin(2 * np.pi * 440 * np.arange(len(audio)) / 16000)
        assert np.corrcoef(audio[200:], ref[200:])[0, 1] > 0.999


def test_capture_overflow_is_counted_not_raised() -> None:
    sd = FakeSD(16000)
    mic = MicrophoneStream(sd=sd, queue_seconds=0.08, block_ms=20)  # room for 4 blocks
    mic.start()
    try:
        mic._running.clear()  # freeze the dispatcher so the raw queue fills up
        time.sleep(0.3)
        for _ in range(10):
            sd.streams[0].push(np.zeros(320, dtype=np.float32), status=SimpleNamespace(input_overflow=True))
        assert mic.overflows == 6
        assert mic.device_overflows == 10
    finally:
        mic.close()


def test_capture_unplugged_device_keeps_delivered_blocks_then_errors() -> None:
    sd = FakeSD(16000)
    with MicrophoneStream(sd=sd) as mic, mic.reader() as reader:
        stream = sd.streams[0]
        stream.push(np.full(320, 0.1, dtype=np.float32))
        stream.unplug()
        first = reader.read(timeout=2)
        assert first is not None and len(first.samples) == 320  # the partial recording is kept
        with pytest.raises(AudioError, match="stopped delivering audio"):
            reader.read(timeout=0.3)


def test_capture_reopened_after_unplug_works_again() -> None:
    """close() + start() is how the app recovers from a lost device: the old failure must not stick."""
    sd = FakeSD(16000)
    mic = MicrophoneStream(sd=sd).start()
    try:
        sd.streams[0].push(np.full(320, 0.1, dtype=np.float32))
        sd.streams[0].unplug()
        _wait(lambda: mic.error is not None)
        mic.close()
        mic.start()
        assert mic.active and mic.error is None
        with mic.reader() as reader:
            sd.streams[1].push(np.full(320, 0.2, dtype=np.float32))
            block = reader.read(timeout=2)
            assert block is not None and block.sample_offset == 0
            assert float(block.samples[0]) == pytest.approx(0.2)
    finally:
        mic.close()


def test_subscriber_failure_does_not_stop_others() -> None:
    sd = FakeSD(16000)
    seen: list[int] = []

    def broken(block: Any) -> None:
        raise RuntimeError("bug in a consumer")

    with MicrophoneStream(sd=sd) as mic:
        mic.subscribe(broken)
        unsubscribe = mic.subscribe(lambda b: seen.append(len(b.samples)))
        sd.streams[0].push(np.zeros(320, dtype=np.float32))
        _wait(lambda: seen == [320])
        unsubscribe()
        sd.streams[0].push(np.zeros(320, dtype=np.float32))
        time.sleep(0.1)
        assert seen == [320]


def test_open_failure_names_the_device_and_fix() -> None:
    with pytest.raises(AudioError, match="cannot open the microphone 'Fake Duplex'") as info:
        MicrophoneStream(sd=FakeSD(fail_open=True)).start()
    assert "audio devices" in (info.value.hint or "")


# -- playback ------------------------------------------------------------------------------

def _pcm16(samples: np.ndarray) -> bytes:
    return (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()


def test_playback_resamples_any_format_and_tracks_items() -> None:
    sd = FakeSD(48000)
    with Player(sd=sd) as player:
        stream = sd.streams[0]
        assert stream.kwargs["channels"] == 2
        t = np.arange(22050) / 22050
        tone = 0.5 * np.sin(2 * np.pi * 300 * t)
        item = player.enqueue(AudioChunk(_pcm16(tone), AudioFormat(22050)), tag="first sentence")
        assert item.frames == pytest.approx(48000, abs=2) and item.seconds == pytest.approx(1.0, abs=1e-3)
        silence = stream.pull(960)
        assert item.started_at is not None and item.started_at <= time.monotonic()
        out = [silence] + [stream.pull(960) for _ in range(50)]
        audio = np.concatenate(out)
        assert np.array_equal(audio[:, 0], audio[:, 1])  # mono copied to both channels
        assert item.done.is_set() and item.played_seconds == pytest.approx(item.seconds)
        ref = 0.5 * np.sin(2 * np.pi * 300 * np.arange(48000) / 48000)
        assert np.corrcoef(audio[:48000, 0], ref)[0, 1] > 0.999
        assert np.all(audio[item.frames:, 0] == 0.0)  # idle = silence, not garbage


def test_stop_is_effective_on_the_next_block_and_reports_played_seconds() -> None:
    sd = FakeSD(16000)
    done: list[int] = []
    with Player(sd=sd) as player:
        stream = sd.streams[0]
        first = player.enqueue(np.full(16000, 0.3, dtype=np.float32), sample_rate=16000, tag="a")
        second = player.enqueue(_pcm16(np.full(8000, 0.3)), AudioFormat(16000), tag="b")
        second.add_done_callback(lambda item: done.append(item.id))
        for _ in range(25):  # 25 blocks of 20 ms = 0.5 s
            stream.pull(320)
        report = player.stop()
        after = stream.pull(320)
        assert np.all(after == 0.0)
        assert report.seconds_played == pytest.approx(0.5, abs=1e-6)
        assert report.first_sample_at == first.started_at
        assert [i.tag for i in report.items] == ["a", "b"]
        assert first.cancelled and second.cancelled and second.played_seconds == 0.0
        _wait(lambda: done == [second.id])
        assert not player.busy
        again = player.enqueue(np.full(320, 0.2, dtype=np.float32), sample_rate=16000)
        assert np.allclose(stream.pull(320)[:, 0], 0.2, atol=1e-6)
        assert again.done.is_set()


def test_playback_of_several_widths_and_rates_in_one_block() -> None:
    sd = FakeSD(16000)
    with Player(sd=sd) as player:
        a = player.enqueue(np.full(100, 0.25, dtype=np.float32), sample_rate=16000)
        b = player.enqueue(np.array([0.5] * 100, dtype="<f4").tobytes(), AudioFormat(16000, 1, -4))
        block = sd.streams[0].pull(320)[:, 0]
        assert np.allclose(block[:100], 0.25) and np.allclose(block[100:200], 0.5) and np.all(block[200:] == 0)
        assert a.finished_at is not None and b.finished_at is not None


def test_playback_reopened_after_unplug_plays_again() -> None:
    sd = FakeSD(16000)
    player = Player(sd=sd).start()
    try:
        sd.streams[0].unplug()
        assert player.error is not None
        player.close()
        sd.rate = 48000  # the replacement device runs at another rate
        player.start()
        item = player.enqueue(np.full(160, 0.2, dtype=np.float32), sample_rate=16000)
        assert item.frames == pytest.approx(480, abs=4)  # resampled to the new rate
        assert np.allclose(sd.streams[1].pull(960)[100:400, 0], 0.2, atol=1e-3)
    finally:
        player.close()


def test_playback_errors_are_clear() -> None:
    sd = FakeSD(16000)
    player = Player(sd=sd)
    with pytest.raises(AudioError, match="not open"):
        player.enqueue(np.zeros(10, dtype=np.float32), sample_rate=16000)
    player.start()
    try:
        with pytest.raises(AudioError, match="needs its format"):
            player.enqueue(b"\0\0")
        item = player.enqueue(np.zeros(16000, dtype=np.float32), sample_rate=16000)
        sd.streams[0].unplug()
        assert item.cancelled
        with pytest.raises(AudioError, match="speaker stopped"):
            player.enqueue(np.zeros(10, dtype=np.float32), sample_rate=16000)
    finally:
        player.close()


def test_done_callback_added_while_the_item_finishes_always_runs() -> None:
    """Race between add_done_callback and the audio thread finishing the item."""
    import threading as _t

    from synthbot_desktop.audio.playback import PlaybackItem, Player

    player = Player.__new__(Player)  # only _post's bookkeeping is exercised
    player._notify_cv = _t.Condition()
    from collections import deque

    player._notify = deque()
    for _ in range(300):
        item = PlaybackItem.__new__(PlaybackItem)
        item.done = _t.Event()
        item._callbacks = []
        item._lock = _t.Lock()
        ran: list[int] = []
        t = _t.Thread(target=player._post, args=(item,))
        t.start()
        item.add_done_callback(lambda _i, ran=ran: ran.append(1))
        t.join()
        queued = item in player._notify
        # either it ran at once (already done) or it was queued for the notifier thread
        assert ran == [1] or queued
        player._notify.clear()
