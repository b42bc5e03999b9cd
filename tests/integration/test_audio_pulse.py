"""The live path on real PulseAudio virtual devices (started by tests/conftest.py).

- speech played into ``micfeed`` comes out of the default source ``vmic``: `listen` must hear and
  transcribe it through a real sounddevice InputStream;
- what the Player sends to the default sink ``vsink`` is recorded from ``vsink.monitor`` and must
  match what was sent; ``stop()`` must cut it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synthbot_desktop.audio.formats import STT_RATE, float32_to_pcm16, load_audio_file
from synthbot_desktop.audio.levels import measure
from synthbot_desktop.audio.playback import Player
from synthbot_desktop.tts.base import AudioChunk, AudioFormat
from tests.conftest import JFK, JFK_TEXT
from tests.support.pulse import VirtualAudio
from tests.support.wer import wer

pytestmark = pytest.mark.audio


def _padded_jfk(tmp_path: Path) -> Path:
    audio = load_audio_file(JFK)
    padded = np.concatenate([np.zeros(STT_RATE, np.float32), audio, np.zeros(3 * STT_RATE, np.float32)])
    path = tmp_path / "jfk_padded.wav"
    sf.write(path, padded, STT_RATE, subtype="PCM_16")
    return path


@pytest.mark.slow
def test_listen_transcribes_speech_played_into_the_microphone(virtual_audio: VirtualAudio, app_env: dict[str, str],
                                                              tmp_path: Path) -> None:
    wav = _padded_jfk(tmp_path)
    saved = tmp_path / "heard.wav"
    env = dict(os.environ, **app_env)
    proc = subprocess.Popen([sys.executable, "-m", "synthbot_desktop", "listen", "--json", "--seconds", "40",
                             "--silence-ms", "1500", "--save", str(saved)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert "listening on" in line, line + proc.stderr.read()
    player = virtual_audio.play_into_mic(wav)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        player.wait(timeout=30)
    assert proc.returncode == 0, err
    data = json.loads(out)
    assert wer(JFK_TEXT, data["text"]) <= 0.10, data["text"]
    assert data["end_reason"] == "silence"
    assert 9.0 < data["speech_end"] - data["speech_start"] < 11.5
    assert data["overflows"] == 0
    recorded = sf.read(saved, dtype="float32")[0]
    assert measure(recorded).peak_dbfs > -20  # the partial/whole recording was kept on disk


def test_listen_without_speech_is_a_clear_error(virtual_audio: VirtualAudio, app_env: dict[str, str]) -> None:
    env = dict(os.environ, **app_env)
    proc = subprocess.run([sys.executable, "-m", "synthbot_desktop", "listen", "--seconds", "1.5"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no speech heard in") and "--device" in last


@pytest.fixture(scope="module")
def player(virtual_audio: VirtualAudio) -> Iterator[Player]:
    with Player() as p:  # opened once: PulseAudio stream set-up costs 1–2 s
        yield p


class MonitorRecorder:
    """parec on vsink.monitor at 16 kHz mono float: what the "speaker" actually received.

    Waits on what parec delivers, not on the clock: it is ready once its first samples arrived
    (PulseAudio may take seconds to connect a stream on a busy machine), and ``stop`` keeps
    recording until ``tail_s`` more seconds of *samples* came in, however late they are.
    """

    RATE = 16000

    def __init__(self, audio: VirtualAudio, ready_timeout: float = 20.0) -> None:
        self.proc = subprocess.Popen(["parec", "--device=vsink.monitor", "--rate=16000", "--channels=1",
                                      "--format=float32le", "--raw", "--latency-msec=20"],
                                     env=audio.env, stdout=subprocess.PIPE)
        self._chunks: list[bytes] = []
        self._size = 0
        self._lock = threading.Lock()
        self._grew = threading.Condition(self._lock)
        threading.Thread(target=self._read, daemon=True).start()
        assert self._wait_for_bytes(1, ready_timeout), "parec delivered nothing: monitor source not ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while data := self.proc.stdout.read1(4096):  # type: ignore[attr-defined]
            with self._grew:
                self._chunks.append(data)
                self._size += len(data)
                self._grew.notify_all()

    def _wait_for_bytes(self, size: int, timeout: float) -> bool:
        with self._grew:
            return self._grew.wait_for(lambda: self._size >= size, timeout=timeout)

    def stop(self, tail_s: float = 0.5, timeout: float = 20.0) -> np.ndarray:
        with self._lock:
            target = self._size + int(tail_s * self.RATE) * 4
        self._wait_for_bytes(target, timeout)
        self.proc.terminate()
        self.proc.wait(timeout=10)
        with self._lock:
            data = b"".join(self._chunks)
        return np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4")


def _best_correlation(recorded: np.ndarray, sent: np.ndarray) -> tuple[float, int]:
    # Padded: a recording that came back short still gets a (low) score instead of a crash.
    recorded = np.concatenate([recorded, np.zeros(len(sent), dtype=recorded.dtype)])
    spectrum = np.fft.irfft(np.fft.rfft(recorded, 2 * len(recorded)) * np.conj(np.fft.rfft(sent, 2 * len(recorded))))
    lag = int(np.argmax(spectrum[: len(recorded) - len(sent) + 1]))
    seg = recorded[lag:lag + len(sent)]
    return float(np.corrcoef(seg, sent)[0, 1]), lag


def test_playback_reaches_the_sink_intact(player: Player, virtual_audio: VirtualAudio) -> None:
    speech = load_audio_file(JFK)[: 3 * STT_RATE]
    rec = MonitorRecorder(virtual_audio)
    t0 = time.monotonic()
    # Played as 22.05 kHz int16 chunks, like Piper delivers them: the player resamples to the device rate.
    from synthbot_desktop.audio.resample import resample

    pcm = float32_to_pcm16(resample(speech, STT_RATE, 22050))
    chunks = [pcm[i:i + 8820] for i in range(0, len(pcm), 8820)]  # 0.2 s chunks
    items = [player.enqueue(AudioChunk(c, AudioFormat(22050)), tag=i) for i, c in enumerate(chunks)]
    assert items[-1].wait(timeout=30)
    recorded = rec.stop(tail_s=0.5 + player.output_latency)
    assert items[0].started_at is not None and items[0].started_at >= t0
    assert all(i.done.is_set() and not i.cancelled for i in items)
    assert sum(i.seconds for i in items) == pytest.approx(3.0, abs=0.01)
    corr, _ = _best_correlation(recorded, speech)
    assert corr > 0.95, corr


def test_stop_cuts_real_playback(player: Player, virtual_audio: VirtualAudio) -> None:
    speech = load_audio_file(JFK)[: 6 * STT_RATE]
    rec = MonitorRecorder(virtual_audio)
    item = player.enqueue(speech, sample_rate=STT_RATE, tag="long")
    deadline = time.monotonic() + 5
    while item.started_at is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(1.0)
    # A loaded machine may oversleep: compare what was played with the time that really passed.
    elapsed = time.monotonic() - item.started_at
    report = player.stop()
    recorded = rec.stop(tail_s=0.6)
    assert report.items == [item] and item.cancelled
    assert report.first_sample_at == item.started_at
    assert elapsed - 0.3 < report.seconds_played < elapsed + 0.3 + player.output_latency, (report.seconds_played, elapsed)
    # Blocks of 20 ms of recorded audio above the noise-free silence of a null sink:
    blocks = [measure(recorded[i:i + 320]).peak_dbfs for i in range(0, len(recorded) - 320, 320)]
    loud = [i for i, db in enumerate(blocks) if db > -50]
    heard = (loud[-1] - loud[0] + 1) * 0.02
    assert heard < report.seconds_played + player.output_latency + 0.15, (heard, report.seconds_played)
    assert heard > 0.5
