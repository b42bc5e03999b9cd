"""Pages that are only registry fields: speech recognition and general behaviour."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.gui.global_shortcut import describe
from synthbot_desktop.gui.settings.base import SettingsPage

STT_MODELS = ("tiny.en", "base", "base.en", "small", "small.en", "medium", "large-v3", "turbo")
LANGUAGES = ("auto", "en", "de", "fr", "es", "it", "pt", "nl", "pl", "ja", "zh")


class SpeechRecognitionPage(SettingsPage):
    name = "stt"
    title = "Speech recognition"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        form = self.form()
        self.binder.row(form, "stt.model", "Whisper model", editable_choices=STT_MODELS)
        self.binder.row(form, "stt.language", "Language", editable_choices=LANGUAGES)
        self.binder.row(form, "stt.compute_type", "Compute type")
        self.binder.row(form, "stt.device", "Run on")
        self.binder.row(form, "stt.beam_size", "Beam size")
        self.binder.row(form, "stt.use_context_prompt", "Use previous turns as context")
        hint = QLabel("tiny.en ships with the app and works offline. Other models are downloaded by "
                      "faster-whisper the first time you use them; a folder path loads a local model.")
        hint.setWordWrap(True)
        self.column.addWidget(hint)
        self.finish()


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
        privacy = self.form("Privacy")
        self.binder.row(privacy, "privacy.keep_recordings", "Keep recordings")
        self.finish()
