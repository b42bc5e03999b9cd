"""Audio: devices with a live test (level meter + tone), VAD sensitivity, silence, barge-in.

The live meter opens an input stream only while "Test microphone" is on; its callback merely
computes a level and queues it to the GUI (audio callbacks must never do more).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.settings.base import SettingsPage
from synthbot_desktop.gui.widgets.level_meter import LevelMeter

log = logging.getLogger(__name__)


class _LevelRelay(QObject):
    level = Signal(float, float)


class AudioPage(SettingsPage):
    name = "audio"
    title = "Audio"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        devices = self.form("Devices")
        self.input_box = self.binder.row(devices, "audio.input_device", "Microphone", editable_choices=("",))
        self.output_box = self.binder.row(devices, "audio.output_device", "Speaker", editable_choices=("",))
        test = QWidget()
        h = QHBoxLayout(test)
        h.setContentsMargins(0, 0, 0, 0)
        self.mic_button = QPushButton("Test microphone")
        self.mic_button.setObjectName("test_mic")
        self.mic_button.setCheckable(True)
        self.meter = LevelMeter()
        self.tone_button = QPushButton("Play test tone")
        self.tone_button.setObjectName("test_tone")
        h.addWidget(self.mic_button)
        h.addWidget(self.meter, 1)
        h.addWidget(self.tone_button)
        devices.addRow("", test)
        self.status = QLabel("")
        self.status.setObjectName("audio_status")
        self.status.setWordWrap(True)
        devices.addRow("", self.status)

        listening = self.form("Listening")
        self.binder.row(listening, "audio.mode", "Start turns by")
        self.binder.row(listening, "audio.vad_threshold", "Speech sensitivity (VAD threshold)")
        self.binder.row(listening, "audio.vad_threshold_during_playback", "Threshold while speaking")
        self.binder.row(listening, "audio.silence_ms", "End-of-speech silence (ms)")
        self.binder.row(listening, "audio.min_speech_ms", "Ignore sounds shorter than (ms)")
        self.binder.row(listening, "audio.preroll_ms", "Keep before speech (ms)")
        self.binder.row(listening, "audio.max_utterance_s", "Longest utterance (s)")
        self.binder.row(listening, "audio.barge_in", "Interrupt by speaking (barge-in)")
        self.binder.row(listening, "audio.headphones", "I use headphones")
        self.finish()

        self._stream: Any = None
        self._relay = _LevelRelay(self)
        self._relay.level.connect(self.meter.set_level)
        self.mic_button.toggled.connect(self.toggle_mic_test)
        self.tone_button.clicked.connect(self.play_tone)

    def load(self) -> None:
        super().load()

        def devices() -> tuple[list[str], list[str]]:
            from synthbot_desktop.audio.devices import list_devices

            return ([d.name for d in list_devices("input")], [d.name for d in list_devices("output")])

        def fill(result: tuple[list[str], list[str]]) -> None:
            for box, names, key in ((self.input_box, result[0], "audio.input_device"),
                                    (self.output_box, result[1], "audio.output_device")):
                assert isinstance(box, QComboBox)
                current = str(self.ctx.settings.get(key))
                box.clear()
                box.addItem("")
                box.setItemText(0, "")
                box.addItems(names)
                box.setCurrentText(current)
            self.status.setText(f"{len(result[0])} microphones, {len(result[1])} speakers found. "
                                "Empty = the system default.")

        run_job(devices, fill, self._fail)

    def toggle_mic_test(self, on: bool) -> None:
        if not on:
            self._close_stream()
            self.meter.reset()
            return
        from synthbot_desktop.audio.devices import import_sounddevice
        from synthbot_desktop.audio.levels import measure

        device = str(self.binder.value("audio.input_device")) or None
        relay = self._relay

        def callback(indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
            level = measure(indata[:, 0])
            relay.level.emit(level.rms_dbfs, level.peak_dbfs)

        def open_stream() -> Any:
            sd = import_sounddevice()
            stream = sd.InputStream(device=device, channels=1, samplerate=16000, blocksize=800, callback=callback)
            stream.start()
            return stream

        def opened(stream: Any) -> None:
            if not self.mic_button.isChecked():
                stream.close()
                return
            self._stream = stream
            self.status.setText("Speak: the bar should move.")

        def failed(error: BaseException) -> None:
            self.mic_button.setChecked(False)
            self._fail(error)

        # Opening a PortAudio stream can take 1–2 s through PulseAudio: do it off the GUI thread.
        run_job(open_stream, opened, failed)

    def _close_stream(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            run_job(stream.close)

    def play_tone(self) -> None:
        from synthbot_desktop.gui.sound import play_blocking, tone

        device = str(self.binder.value("audio.output_device")) or None
        self.tone_button.setEnabled(False)

        def done(seconds: float) -> None:
            self.tone_button.setEnabled(True)
            self.status.setText(f"Played a {seconds:.1f} s tone.")

        def failed(error: BaseException) -> None:
            self.tone_button.setEnabled(True)
            self._fail(error)

        run_job(lambda: play_blocking(tone(), 24000, device), done, failed)

    def hideEvent(self, event: Any) -> None:
        self.mic_button.setChecked(False)
        super().hideEvent(event)

    def _fail(self, error: BaseException) -> None:
        self.status.setText(describe(error))
