"""Voice (power users): ElevenLabs voice, model and tuning; the offline Piper voice.

Sliders show their numeric value next to them and map 1:1 to ElevenLabs' ``voice_settings``.
The tuning belongs to a voice: choosing another voice shows THAT voice's saved values (or its
defaults), never the previous voice's (issue #21, defect 4). Voices are chosen by name from the
catalog (``VoicePicker``); ids stay in the settings. "Preview" speaks a sample with the *unsaved*
slider values and can be stopped; "Save as default" stores them as the user's preference for that
voice (``storage.voices`` via ``tts.voice_service``), which every turn then sends
(``services.voice.TunedSpeech``).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import SynthbotError, describe
from synthbot_desktop.gui.bridge import await_coro, run_coro, run_job
from synthbot_desktop.gui.settings.base import Busy, SettingsPage
from synthbot_desktop.gui.settings.voice_picker import VoicePicker, voice_label
from synthbot_desktop.redaction import redact
from synthbot_desktop.setting_keys import AUDIO_OUTPUT_DEVICE, TTS_ELEVENLABS_MODEL_ID
from synthbot_desktop.tts.base import VoiceSettings

log = logging.getLogger(__name__)


# name, label, min, max, default (ElevenLabs ranges)
SLIDERS = (
    ("stability", "Stability", 0.0, 1.0, 0.5),
    ("similarity_boost", "Similarity boost", 0.0, 1.0, 0.75),
    ("style", "Style exaggeration", 0.0, 1.0, 0.0),
    ("speed", "Speed", 0.7, 1.2, 1.0),
)
STEPS = 100
PREVIEW_TEXT = "▶ Preview"
STOP_TEXT = "■ Stop"
MODELS = ("eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_v3")


class ValueSlider(QWidget):
    """A slider with a spin box showing (and accepting) the exact value."""

    def __init__(self, name: str, lo: float, hi: float, parent: QWidget | None = None, label: str = "") -> None:
        super().__init__(parent)
        self.lo, self.hi = lo, hi
        h = QHBoxLayout(self)
        h.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"slider_{name}")
        self.slider.setAccessibleName(label or name)
        self.slider.setRange(0, STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName(f"spin_{name}")
        self.spin.setAccessibleName(f"{label or name} value")
        self.spin.setRange(lo, hi)
        self.spin.setDecimals(2)
        self.spin.setSingleStep((hi - lo) / 20)
        h.addWidget(self.slider, 1)
        h.addWidget(self.spin)
        self.slider.valueChanged.connect(self._from_slider)
        self.spin.valueChanged.connect(self._from_spin)

    def _from_slider(self, pos: int) -> None:
        value = round(self.lo + (self.hi - self.lo) * pos / STEPS, 2)
        if abs(self.spin.value() - value) > 1e-9:
            self.spin.setValue(value)

    def _from_spin(self, value: float) -> None:
        pos = round((value - self.lo) / (self.hi - self.lo) * STEPS)
        if self.slider.value() != pos:
            self.slider.blockSignals(True)
            self.slider.setValue(pos)
            self.slider.blockSignals(False)

    def value(self) -> float:
        return round(self.spin.value(), 2)

    def set_value(self, value: float) -> None:
        self.spin.setValue(value)
        self._from_spin(self.spin.value())


class _PreviewRelay(QObject):
    playing = Signal(float)  # seconds of audio, when the speaker starts


class VoicePage(SettingsPage):
    name = "voice"
    title = "Voice"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        general = self.form()
        self.binder.row(general, "tts.engine", "Speak with")
        self.binder.row(general, "tts.fallback_to_piper", "Fall back to Piper")

        self.column.addWidget(QLabel("<b>ElevenLabs voice</b>"))
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("voice_search")
        self.search.setAccessibleName("Search voices")
        self.search.setPlaceholderText("Search voices by name or label (e.g. british, calm)")
        self.refresh_button = QPushButton("Refresh from ElevenLabs")
        self.refresh_button.setObjectName("refresh_voices")
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.refresh_button)
        self.column.addLayout(search_row)
        self.voices = QListWidget()
        self.voices.setObjectName("voice_list")
        self.voices.setAccessibleName("Voices")
        self.voices.setMaximumHeight(130)
        self.column.addWidget(self.voices)

        tuning = self.form()
        self.picker = VoicePicker()
        self.voice_id = self.binder.row(tuning, "tts.elevenlabs.voice_id", "Voice", widget=self.picker)
        self.model = self.binder.row(tuning, "tts.elevenlabs.model_id", "Model", editable_choices=MODELS)
        self.sliders: dict[str, ValueSlider] = {}
        for name, label, lo, hi, _default in SLIDERS:
            slider = ValueSlider(name, lo, hi, label=label)
            self.sliders[name] = slider
            tuning.addRow(label, slider)
        self.speaker_boost = QCheckBox("Speaker boost")
        self.speaker_boost.setObjectName("speaker_boost")
        tuning.addRow("", self.speaker_boost)
        self.binder.row(tuning, "tts.elevenlabs.output_format", "Output format")
        self.binder.row(tuning, "tts.elevenlabs.optimize_streaming_latency", "Latency optimisation")

        buttons = QHBoxLayout()
        self.preview_button = QPushButton(PREVIEW_TEXT)
        self.preview_button.setObjectName("preview")
        self.preview_button.setAccessibleName("Preview the voice")
        Busy.reserve(self.preview_button, STOP_TEXT)
        self.reset_button = QPushButton("Reset to voice defaults")
        self.reset_button.setObjectName("reset_voice")
        self.save_default_button = QPushButton("Save as default")
        self.save_default_button.setObjectName("save_voice_default")
        for b in (self.preview_button, self.reset_button, self.save_default_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.column.addLayout(buttons)
        self.status = self.status_line("voice_status")
        self.column.addWidget(self.status)

        piper = self.form("Piper (offline voice)")
        self.binder.row(piper, "tts.piper.voice", "Voice")
        self.binder.row(piper, "tts.piper.length_scale", "Pace (length scale)")
        self.binder.row(piper, "tts.piper.noise_scale", "Variation")
        self.binder.row(piper, "tts.piper.noise_w", "Phoneme variation")
        self.binder.row(piper, "tts.piper.speaker_id", "Speaker id")
        self.finish()

        self._catalog: list[Any] = []
        self._tuning_token = 0  # the newest voice switch; older reads are dropped
        self._playback: Any = None
        self._preview_cancelled = False
        self._preview_relay = _PreviewRelay(self)
        self._preview_relay.playing.connect(self._playing)
        from synthbot_desktop.gui.catalog_relay import catalog_relay

        catalog_relay(ctx).changed.connect(self._set_catalog)
        self.search.textChanged.connect(self._filter)
        self.voices.currentItemChanged.connect(self._voice_picked)
        self.picker.voiceChanged.connect(self._voice_switched)
        self.refresh_button.clicked.connect(self.refresh_catalog)
        self.preview_button.clicked.connect(self.preview)
        self.reset_button.clicked.connect(self.reset_to_voice_defaults)
        self.save_default_button.clicked.connect(self.save_as_default)
        for slider in self.sliders.values():
            slider.slider.sliderMoved.connect(self.status.clear_transient)
            slider.spin.editingFinished.connect(self.status.clear_transient)
        self.speaker_boost.clicked.connect(self.status.clear_transient)

    # Values ----------------------------------------------------------------------------------
    def voice_settings(self) -> VoiceSettings:
        """The unsaved tuning shown on the page."""
        v = {name: s.value() for name, s in self.sliders.items()}
        return VoiceSettings(stability=v["stability"], similarity_boost=v["similarity_boost"], style=v["style"],
                             use_speaker_boost=self.speaker_boost.isChecked(), speed=v["speed"])

    def show_settings(self, settings: VoiceSettings) -> None:
        for name, _label, _lo, _hi, default in SLIDERS:
            value = getattr(settings, name)
            self.sliders[name].set_value(default if value is None else float(value))
        self.speaker_boost.setChecked(True if settings.use_speaker_boost is None else settings.use_speaker_boost)

    def current_voice_id(self) -> str:
        return str(self.binder.value("tts.elevenlabs.voice_id"))

    def voice_name(self) -> str:
        return self.picker.name()

    def load(self) -> None:
        super().load()
        self.show_settings(VoiceSettings())

        from synthbot_desktop.services.voice_catalog import voice_catalog

        run_job(voice_catalog(self.ctx).cached, self._loaded, self._fail)
        self._voice_switched(self.current_voice_id())

    def _loaded(self, catalog: list[Any]) -> None:
        self._set_catalog(catalog)

    def _set_catalog(self, catalog: list[Any]) -> None:
        self._catalog = catalog
        self.picker.set_catalog(catalog)
        self._filter(self.search.text())
        problem = self.picker.problem()
        if problem:
            self.status.show_message(problem)

    def _voice_switched(self, voice: str) -> None:
        """Show the tuning saved for ``voice`` (or its defaults): the sliders never keep the previous
        voice's values, which "Save" would then store under the new voice (defect 4)."""
        self._tuning_token += 1
        token = self._tuning_token
        self._select_in_list(voice)

        def read() -> tuple[Any, Any]:
            from synthbot_desktop.storage import voices as vrepo

            with self.ctx.db.session() as s:
                return (vrepo.get_preference(s, self.ctx.user_id, "elevenlabs", voice),
                        vrepo.get_voice(s, "elevenlabs", voice))

        def shown(result: tuple[Any, Any]) -> None:
            if token != self._tuning_token:
                return  # the person chose another voice meanwhile
            self._show_tuning(*result)

        run_job(read, shown, self._fail)

    def _show_tuning(self, pref: Any, cached: Any) -> None:
        from synthbot_desktop.tts.voice_service import settings_of
        from synthbot_desktop.tts.voice_settings import DEFAULT_SETTINGS, from_json, merge

        if pref is not None:
            self.show_settings(merge(DEFAULT_SETTINGS, settings_of(pref)))
        else:
            own = from_json(cached.default_settings) if cached is not None and cached.default_settings else None
            self.show_settings(merge(DEFAULT_SETTINGS, own) if own else DEFAULT_SETTINGS)
        model = pref.model_id if pref is not None and pref.model_id else self.ctx.settings.value(TTS_ELEVENLABS_MODEL_ID)
        self.binder.set_value("tts.elevenlabs.model_id", model)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        self.voices.blockSignals(True)
        self.voices.clear()
        current = self.current_voice_id()
        for v in self._catalog:
            labels = ", ".join(f"{val}" for val in (v.labels or {}).values())
            hay = f"{v.name} {labels} {v.category or ''} {v.description or ''}".lower()
            if all(w in hay for w in words):
                item = QListWidgetItem(voice_label(v))
                item.setData(Qt.ItemDataRole.UserRole, v.voice_id)
                item.setToolTip(v.description or v.voice_id)
                self.voices.addItem(item)
                if v.voice_id == current:
                    self.voices.setCurrentItem(item)
        self.voices.blockSignals(False)
        if not self._catalog:
            self.status.show_message("No voices cached yet: add an ElevenLabs key and press "
                                     "“Refresh from ElevenLabs”.")

    def _select_in_list(self, voice: str) -> None:
        self.voices.blockSignals(True)
        self.voices.setCurrentRow(-1)
        for i in range(self.voices.count()):
            if self.voices.item(i).data(Qt.ItemDataRole.UserRole) == voice:
                self.voices.setCurrentRow(i)
        self.voices.blockSignals(False)

    def _voice_picked(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        self.binder.set_value("tts.elevenlabs.voice_id", item.data(Qt.ItemDataRole.UserRole))

    def check(self) -> list[str]:
        from synthbot_desktop.tts.voice_settings import validate

        problems = super().check()
        try:
            validate(self.voice_settings())
        except SynthbotError as exc:
            problems.append(exc.message)
        # A stored voice the catalog does not list is not refused here (the picker cannot produce one;
        # refusing would block Apply on every page): the page says so when the catalog arrives.
        return problems

    def restore_defaults(self) -> None:
        super().restore_defaults()
        self.show_settings(VoiceSettings())

    def save(self) -> None:
        super().save()
        # The tuning belongs to the voice: store it as that voice's preference.
        self._save_preference(make_default=None)

    # Actions ---------------------------------------------------------------------------------
    def _save_preference(self, make_default: bool | None) -> None:
        voice, settings, name = self.current_voice_id(), self.voice_settings(), self.voice_name()
        model = str(self.binder.value("tts.elevenlabs.model_id")) or None
        fmt = str(self.binder.value("tts.elevenlabs.output_format")) or None

        def store() -> Any:
            from synthbot_desktop.tts import voice_service

            return voice_service.save_preference(self.ctx, voice, settings=settings, model_id=model,
                                                 output_format=fmt, make_default=make_default)

        def stored(_pref: Any) -> None:
            self.status.show_message(f"Saved the tuning of {name}" + (" as your default." if make_default else "."),
                                     transient=True)

        run_job(store, stored, self._fail)

    def save_as_default(self) -> None:
        self._save_preference(make_default=True)

    def refresh_catalog(self) -> None:
        from synthbot_desktop.services.voice_catalog import voice_catalog

        if Busy.is_busy(self.refresh_button):
            return
        Busy.start(self.refresh_button, "Refreshing…")
        self.status.show_message("Fetching your voices from ElevenLabs…")

        def failed(error: BaseException) -> None:
            Busy.stop(self.refresh_button)
            self._fail(error)

        run_coro(voice_catalog(self.ctx).refresh(), self._refreshed, failed)

    def _refreshed(self, catalog: list[Any]) -> None:
        # Every listener of this context (the pickers, the window's switcher) heard it through the
        # catalog service already; this page only ends its busy state and reports.
        Busy.stop(self.refresh_button)
        self._set_catalog(catalog)
        self.status.show_message(f"{len(catalog)} voices.", transient=True)

    def reset_to_voice_defaults(self) -> None:
        from synthbot_desktop.tts import voice_service

        voice, name = self.current_voice_id(), self.voice_name()
        self.status.show_message(f"Fetching the defaults of {name}…")

        def shown(settings: VoiceSettings) -> None:
            from synthbot_desktop.tts.voice_settings import DEFAULT_SETTINGS, merge

            self.show_settings(merge(DEFAULT_SETTINGS, settings))
            self.status.show_message(f"The defaults of {name} are shown — Apply or Save as default to keep them.")

        run_coro(voice_service.voice_defaults(self.ctx, voice), shown, self._fail)

    def preview(self) -> None:
        """Speak a sample with the unsaved tuning; pressed again (it reads "Stop"), stop it."""
        if Busy.is_busy(self.preview_button):
            self.stop_preview()
            return
        from synthbot_desktop.gui.sound import Playback, pcm16_samples
        from synthbot_desktop.tts import voice_service

        settings, voice = self.voice_settings(), self.current_voice_id()
        model = str(self.binder.value("tts.elevenlabs.model_id")) or None
        engine = "piper" if self.binder.value("tts.engine") == "piper" else "elevenlabs"
        device = self.ctx.settings.value(AUDIO_OUTPUT_DEVICE) or None
        self._preview_cancelled = False
        Busy.start(self.preview_button, STOP_TEXT)
        self.status.show_message("Synthesising the preview…")
        relay = self._preview_relay

        def speak() -> tuple[float, float, bool]:
            audio = await_coro(voice_service.preview(self.ctx, settings, voice_id=voice, model_id=model, engine=engine))
            playback = Playback(pcm16_samples(audio.pcm, audio.format.channels), audio.format.sample_rate, device)
            self._playback = playback
            if self._preview_cancelled:
                playback.stop()
            try:
                relay.playing.emit(playback.seconds)
                played = playback.play()
            except SynthbotError:
                return -1.0, audio.seconds, False  # synthesised fine, no speaker here: still report it
            finally:
                self._playback = None
            return played, audio.seconds, playback.stopped

        def done(result: tuple[float, float, bool]) -> None:
            Busy.stop(self.preview_button)
            played, total, stopped = result
            if played < 0:
                self.status.show_message(f"Synthesised {total:.1f} s, but no speaker could play it.", transient=True)
            elif stopped:
                self.status.show_message(f"Stopped after {played:.1f} of {total:.1f} s.", transient=True)
            else:
                self.status.show_message(f"Played {played:.1f} s.", transient=True)

        def failed(error: BaseException) -> None:
            Busy.stop(self.preview_button)
            self._fail(error)

        run_job(speak, done, failed)

    def _playing(self, seconds: float) -> None:
        if Busy.is_busy(self.preview_button) and not self._preview_cancelled:
            self.status.show_message(f"Playing… ({seconds:.1f} s) — press Stop to end it.")

    def stop_preview(self) -> None:
        self._preview_cancelled = True
        playback = self._playback
        if playback is not None:
            playback.stop()
        self.status.show_message("Stopping the preview…")

    def hideEvent(self, event: Any) -> None:
        if Busy.is_busy(self.preview_button):
            self.stop_preview()
        super().hideEvent(event)

    def _fail(self, error: BaseException) -> None:
        text = describe(error)
        self.status.show_message(redact(text))
