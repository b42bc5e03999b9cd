"""Voice (power users): ElevenLabs voice, model and tuning; the offline Piper voice.

Sliders show their numeric value next to them and map 1:1 to ElevenLabs' ``voice_settings``.
"Preview" speaks a sample with the *unsaved* slider values; "Save as default" stores them as
the user's preference for that voice (``storage.voices`` via ``tts.voice_service``), which the
speech provider then sends on every request.
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
from synthbot_desktop.gui.settings.base import SettingsPage
from synthbot_desktop.redaction import redact
from synthbot_desktop.tts.base import VoiceSettings

log = logging.getLogger(__name__)


class VoiceCatalogSignals(QObject):
    """App-wide news that the cached voice catalog changed (the main window's switcher listens)."""

    changed = Signal(object)  # list[CatalogVoice]


CATALOG_SIGNALS = VoiceCatalogSignals()

# name, label, min, max, default (ElevenLabs ranges)
SLIDERS = (
    ("stability", "Stability", 0.0, 1.0, 0.5),
    ("similarity_boost", "Similarity boost", 0.0, 1.0, 0.75),
    ("style", "Style exaggeration", 0.0, 1.0, 0.0),
    ("speed", "Speed", 0.7, 1.2, 1.0),
)
STEPS = 100
MODELS = ("eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_multilingual_v2", "eleven_v3")


class ValueSlider(QWidget):
    """A slider with a spin box showing (and accepting) the exact value."""

    def __init__(self, name: str, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lo, self.hi = lo, hi
        h = QHBoxLayout(self)
        h.setContentsMargins(0, 0, 0, 0)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName(f"slider_{name}")
        self.slider.setRange(0, STEPS)
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName(f"spin_{name}")
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
        self.search.setPlaceholderText("Search voices by name or label (e.g. british, calm)")
        self.refresh_button = QPushButton("Refresh from ElevenLabs")
        self.refresh_button.setObjectName("refresh_voices")
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.refresh_button)
        self.column.addLayout(search_row)
        self.voices = QListWidget()
        self.voices.setObjectName("voice_list")
        self.voices.setMaximumHeight(130)
        self.column.addWidget(self.voices)

        tuning = self.form()
        self.voice_id = self.binder.row(tuning, "tts.elevenlabs.voice_id", "Voice id")
        self.model = self.binder.row(tuning, "tts.elevenlabs.model_id", "Model", editable_choices=MODELS)
        self.sliders: dict[str, ValueSlider] = {}
        for name, label, lo, hi, _default in SLIDERS:
            slider = ValueSlider(name, lo, hi)
            self.sliders[name] = slider
            tuning.addRow(label, slider)
        self.speaker_boost = QCheckBox("Speaker boost")
        self.speaker_boost.setObjectName("speaker_boost")
        tuning.addRow("", self.speaker_boost)
        self.binder.row(tuning, "tts.elevenlabs.output_format", "Output format")
        self.binder.row(tuning, "tts.elevenlabs.optimize_streaming_latency", "Latency optimisation")

        buttons = QHBoxLayout()
        self.preview_button = QPushButton("▶ Preview")
        self.preview_button.setObjectName("preview")
        self.reset_button = QPushButton("Reset to voice defaults")
        self.reset_button.setObjectName("reset_voice")
        self.save_default_button = QPushButton("Save as default")
        self.save_default_button.setObjectName("save_voice_default")
        for b in (self.preview_button, self.reset_button, self.save_default_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.column.addLayout(buttons)
        self.status = QLabel("")
        self.status.setObjectName("voice_status")
        self.status.setWordWrap(True)
        self.column.addWidget(self.status)

        piper = self.form("Piper (offline voice)")
        self.binder.row(piper, "tts.piper.voice", "Voice")
        self.binder.row(piper, "tts.piper.length_scale", "Pace (length scale)")
        self.binder.row(piper, "tts.piper.noise_scale", "Variation")
        self.binder.row(piper, "tts.piper.noise_w", "Phoneme variation")
        self.binder.row(piper, "tts.piper.speaker_id", "Speaker id")
        self.finish()

        self._catalog: list[Any] = []
        self.search.textChanged.connect(self._filter)
        self.voices.currentItemChanged.connect(self._voice_picked)
        self.refresh_button.clicked.connect(self.refresh_catalog)
        self.preview_button.clicked.connect(self.preview)
        self.reset_button.clicked.connect(self.reset_to_voice_defaults)
        self.save_default_button.clicked.connect(self.save_as_default)

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

    def load(self) -> None:
        super().load()
        self.show_settings(VoiceSettings())
        voice = self.current_voice_id()

        def read() -> tuple[list[Any], Any]:
            from synthbot_desktop.storage import voices as vrepo

            with self.ctx.db.session() as s:
                return vrepo.list_voices(s, "elevenlabs"), vrepo.get_preference(s, self.ctx.user_id, "elevenlabs", voice)

        run_job(read, self._loaded, self._fail)

    def _loaded(self, result: tuple[list[Any], Any]) -> None:
        catalog, pref = result
        self._catalog = catalog
        self._filter(self.search.text())
        if pref is not None:
            from synthbot_desktop.tts.voice_service import settings_of

            self.show_settings(settings_of(pref))
            if pref.model_id:
                self.binder.set_value("tts.elevenlabs.model_id", pref.model_id)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        self.voices.blockSignals(True)
        self.voices.clear()
        current = self.current_voice_id()
        for v in self._catalog:
            labels = ", ".join(f"{val}" for val in (v.labels or {}).values())
            hay = f"{v.name} {labels} {v.category or ''} {v.description or ''}".lower()
            if all(w in hay for w in words):
                item = QListWidgetItem(f"{v.name}  —  {labels}" if labels else v.name)
                item.setData(Qt.ItemDataRole.UserRole, v.voice_id)
                item.setToolTip(v.description or v.voice_id)
                self.voices.addItem(item)
                if v.voice_id == current:
                    self.voices.setCurrentItem(item)
        self.voices.blockSignals(False)
        if not self._catalog:
            self.status.setText("No voices cached yet: add an ElevenLabs key and press “Refresh from ElevenLabs”.")

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
        voice, settings = self.current_voice_id(), self.voice_settings()
        model = str(self.binder.value("tts.elevenlabs.model_id")) or None
        fmt = str(self.binder.value("tts.elevenlabs.output_format")) or None

        def store() -> Any:
            from synthbot_desktop.tts import voice_service

            return voice_service.save_preference(self.ctx, voice, settings=settings, model_id=model,
                                                 output_format=fmt, make_default=make_default)

        def stored(_pref: Any) -> None:
            self.status.setText(f"Saved the tuning of voice {voice}" + (" as your default." if make_default else "."))

        run_job(store, stored, self._fail)

    def save_as_default(self) -> None:
        self._save_preference(make_default=True)

    def refresh_catalog(self) -> None:
        from synthbot_desktop.tts import voice_service

        self.status.setText("Fetching your voices from ElevenLabs…")
        run_coro(voice_service.refresh_catalog(self.ctx), self._refreshed, self._fail)

    def _refreshed(self, catalog: list[Any]) -> None:
        self._catalog = catalog
        CATALOG_SIGNALS.changed.emit(list(catalog))
        self._filter(self.search.text())
        self.status.setText(f"{len(catalog)} voices.")

    def reset_to_voice_defaults(self) -> None:
        from synthbot_desktop.tts import voice_service

        voice = self.current_voice_id()
        self.status.setText("Fetching the voice's defaults…")

        def shown(settings: VoiceSettings) -> None:
            from synthbot_desktop.tts.voice_settings import DEFAULT_SETTINGS, merge

            self.show_settings(merge(DEFAULT_SETTINGS, settings))
            self.status.setText("Voice defaults shown — Apply or Save as default to keep them.")

        run_coro(voice_service.voice_defaults(self.ctx, voice), shown, self._fail)

    def preview(self) -> None:
        from synthbot_desktop.gui.sound import play_pcm16
        from synthbot_desktop.tts import voice_service

        settings, voice = self.voice_settings(), self.current_voice_id()
        model = str(self.binder.value("tts.elevenlabs.model_id")) or None
        engine = "piper" if self.binder.value("tts.engine") == "piper" else "elevenlabs"
        device = str(self.ctx.settings.get("audio.output_device")) or None
        self.preview_button.setEnabled(False)
        self.status.setText("Synthesising the preview…")

        def speak() -> float:
            audio = await_coro(voice_service.preview(self.ctx, settings, voice_id=voice, model_id=model, engine=engine))
            try:
                return play_pcm16(audio.pcm, audio.format.sample_rate, audio.format.channels, device)
            except SynthbotError:
                return -audio.seconds  # synthesised fine, no speaker here: still report it

        def done(seconds: float) -> None:
            self.preview_button.setEnabled(True)
            self.status.setText(f"Played {seconds:.1f} s." if seconds >= 0
                                else f"Synthesised {-seconds:.1f} s, but no speaker could play it.")

        def failed(error: BaseException) -> None:
            self.preview_button.setEnabled(True)
            self._fail(error)

        run_job(speak, done, failed)

    def _fail(self, error: BaseException) -> None:
        text = describe(error)
        self.status.setText(redact(text))
