"""Audio: devices with a live test (level meter + tone), VAD sensitivity, silence, barge-in.

The live meter opens an input stream only while "Test microphone" is on (the button then reads
"Stop"); its callback merely computes a level and queues it to the GUI (audio callbacks must never
do more). The meter falls back slowly so speech does not flicker full/empty between words. Devices
are listed by what a person recognises ("System default — VirtualMic", not "pulse"), and the page
keeps its geometry while results arrive (issue #21, defect 14).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.settings.base import Busy, SettingsPage, set_combo_value
from synthbot_desktop.gui.widgets.level_meter import LevelMeter

log = logging.getLogger(__name__)

MIC_TEST_TEXT = "Test microphone"
MIC_STOP_TEXT = "■ Stop"
METER_RELEASE_S = 0.35  # the bar falls back over ~1/3 s instead of jumping to empty between words
SYSTEM_DEFAULT = "System default"
#: PortAudio's names for "whatever the sound server's default is" (ALSA plugins): not device names.
SERVER_DEFAULTS = {"default": SYSTEM_DEFAULT, "sysdefault": f"{SYSTEM_DEFAULT} (ALSA)",
                   "pulse": "PulseAudio", "pipewire": "PipeWire"}


def _server_default_description(kind: str) -> str | None:
    """The sound server's default source/sink description (e.g. "Built-in Microphone"), best effort:
    PortAudio only sees "pulse"/"default", the real device behind them is the server's to say."""
    import shutil
    import subprocess

    if not shutil.which("pactl"):
        return None
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=2).stdout
        want = "Default Source:" if kind == "input" else "Default Sink:"
        name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith(want)), None)
        if not name:
            return None
        listing = subprocess.run(["pactl", "list", "sources" if kind == "input" else "sinks"], capture_output=True,
                                 text=True, timeout=2).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    current = None
    for line in listing.splitlines():
        line = line.strip()
        if line.startswith("Name:"):
            current = line.split(":", 1)[1].strip()
        elif line.startswith("Description:") and current == name:
            return line.split(":", 1)[1].strip()
    return None


def device_label(name: str, server_default: str | None) -> str:
    """What the list shows for the PortAudio device ``name``."""
    generic = SERVER_DEFAULTS.get(name.lower())
    if generic is None:
        return name
    return f"{generic} — {server_default}" if server_default else generic


def device_items(kind: str, names: list[str], server_default: str | None) -> list[tuple[str, str]]:
    """(label, stored value) pairs: the system default first, then each device by a readable name."""
    label = f"{SYSTEM_DEFAULT} — {server_default}" if server_default else SYSTEM_DEFAULT
    items = [(label, "")]
    seen = {label}
    for n in names:
        text = device_label(n, server_default)
        if text in seen:
            text = f"{text} ({n})"
        seen.add(text)
        items.append((text, n))
    return items


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
        for box, what in ((self.input_box, "Microphone"), (self.output_box, "Speaker")):
            assert isinstance(box, QComboBox)
            # A fixed-policy width: filling the list with long device names must not move the page.
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(28)
            box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            box.setAccessibleName(what)
        self.mic_button = QPushButton(MIC_TEST_TEXT)
        self.mic_button.setObjectName("test_mic")
        self.mic_button.setCheckable(True)
        self.mic_button.setAccessibleName("Test the microphone")
        Busy.reserve(self.mic_button, MIC_STOP_TEXT)
        self.meter = LevelMeter(release_s=METER_RELEASE_S)
        self.meter.setAccessibleName("Microphone level")
        self.tone_button = QPushButton("Play test tone")
        self.tone_button.setObjectName("test_tone")
        self.tone_button.setAccessibleName("Play a test tone")
        Busy.reserve(self.tone_button, "Playing…")
        h.addWidget(self.mic_button)
        h.addWidget(self.meter, 1)
        h.addWidget(self.tone_button)
        devices.addRow("", test)
        self.status = self.status_line("audio_status")
        # Room for two lines from the start: results of different lengths must not push the page down.
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
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

        def devices() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
            from synthbot_desktop.audio.devices import list_devices

            return (device_items("input", [d.name for d in list_devices("input")], _server_default_description("input")),
                    device_items("output", [d.name for d in list_devices("output")],
                                 _server_default_description("output")))

        def fill(result: tuple[list[tuple[str, str]], list[tuple[str, str]]]) -> None:
            for box, items, key in ((self.input_box, result[0], "audio.input_device"),
                                    (self.output_box, result[1], "audio.output_device")):
                assert isinstance(box, QComboBox)
                current = str(self.ctx.settings.get(key))
                box.clear()
                for label, value in items:
                    box.addItem(label, value)
                    box.setItemData(box.count() - 1, value or "the sound server's default device",
                                    Qt.ItemDataRole.ToolTipRole)
                set_combo_value(box, current)
            self.status.show_message(f"{len(result[0]) - 1} microphones, {len(result[1]) - 1} speakers found.")

        run_job(devices, fill, self._fail)

    def toggle_mic_test(self, on: bool) -> None:
        self.mic_button.setText(MIC_STOP_TEXT if on else MIC_TEST_TEXT)
        if not on:
            self._close_stream()
            self.meter.reset()
            self.status.clear_transient()
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
            self.status.show_message("Speak: the bar should move. Press Stop when done.", transient=True,
                                     timeout_ms=60000)

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

        if Busy.is_busy(self.tone_button):
            return  # one tone at a time
        device = str(self.binder.value("audio.output_device")) or None
        Busy.start(self.tone_button, "Playing…")

        def done(seconds: float) -> None:
            Busy.stop(self.tone_button)
            self.status.show_message(f"Played a {seconds:.1f} s tone.", transient=True)

        def failed(error: BaseException) -> None:
            Busy.stop(self.tone_button)
            self._fail(error)

        run_job(lambda: play_blocking(tone(), 24000, device), done, failed)

    def hideEvent(self, event: Any) -> None:
        self.mic_button.setChecked(False)
        super().hideEvent(event)

    def _fail(self, error: BaseException) -> None:
        self.status.show_message(describe(error))
