"""Personas: name, system prompt, model, temperature and voice, stored in the database.

Edits are kept in the form until Apply/OK (or "Save persona"); database work runs in the
thread pool.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import DEFAULT_SYSTEM_PROMPT, LLM_PROVIDERS
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.settings.base import SettingsPage, choice_label
from synthbot_desktop.gui.settings.voice_picker import VoicePicker
from synthbot_desktop.setting_keys import LLM_TEMPERATURE, TTS_PIPER_VOICE
from synthbot_desktop.storage import personas as prepo
from synthbot_desktop.storage.personas import PersonaData


class PersonasPage(SettingsPage):
    name = "personas"
    title = "Personas"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        row = QHBoxLayout()
        self.list = QListWidget()
        self.list.setObjectName("persona_list")
        self.list.setMaximumWidth(200)
        row.addWidget(self.list)
        editor = QWidget()
        form = QFormLayout(editor)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("persona_name")
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setObjectName("persona_prompt")
        self.provider_box = QComboBox()
        self.provider_box.setObjectName("persona_provider")
        self.provider_box.addItem("(as in settings)", "")
        for p in LLM_PROVIDERS:
            self.provider_box.addItem(choice_label("llm.provider", p), p)
        self.model_edit = QLineEdit()
        self.model_edit.setObjectName("persona_model")
        self.model_edit.setPlaceholderText("(provider's default)")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("persona_temperature")
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        piper_voice = ctx.settings.value(TTS_PIPER_VOICE)
        self.voice_edit = VoicePicker(extras=(("(the default voice)", ""),
                                              (f"Piper — {piper_voice} (offline)", f"piper:{piper_voice}")))
        self.voice_edit.setObjectName("persona_voice")
        self.default_box = QCheckBox("Use for new conversations")
        self.default_box.setObjectName("persona_default")
        form.addRow("Name", self.name_edit)
        form.addRow("System prompt", self.prompt_edit)
        form.addRow("Provider", self.provider_box)
        form.addRow("Model", self.model_edit)
        form.addRow("Temperature", self.temperature)
        form.addRow("Voice", self.voice_edit)
        for label, w in (("Persona name", self.name_edit), ("System prompt", self.prompt_edit),
                         ("Provider", self.provider_box), ("Model", self.model_edit),
                         ("Temperature", self.temperature), ("Voice", self.voice_edit)):
            w.setAccessibleName(label)
        form.addRow("", self.default_box)
        row.addWidget(editor, 1)
        self.column.addLayout(row)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("New persona")
        self.new_button.setObjectName("persona_new")
        self.save_button = QPushButton("Save persona")
        self.save_button.setObjectName("persona_save")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("persona_delete")
        for b in (self.new_button, self.save_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.column.addLayout(buttons)
        self.status = self.status_line("persona_status")
        self.column.addWidget(self.status)
        self.finish()

        self._current: PersonaData | None = None
        self._dirty = False
        self.list.currentItemChanged.connect(self._picked)
        self.new_button.clicked.connect(self.new_persona)
        self.save_button.clicked.connect(lambda: self.save_persona())
        self.delete_button.clicked.connect(self.delete_persona)
        for w in (self.name_edit, self.model_edit):
            w.textEdited.connect(self._mark)
        self.voice_edit.activated.connect(self._mark)
        self.prompt_edit.textChanged.connect(self._mark)
        self.temperature.valueChanged.connect(self._mark)
        self.default_box.toggled.connect(self._mark)
        self.provider_box.currentIndexChanged.connect(self._mark)
        self.new_persona()
        from synthbot_desktop.gui.catalog_relay import catalog_relay

        catalog_relay(ctx).changed.connect(self.voice_edit.set_catalog)  # a refresh on the Voice page

    def _mark(self) -> None:
        self._dirty = True
        self.status.clear_transient()

    # Form <-> data -----------------------------------------------------------------------------
    def form_data(self) -> PersonaData:
        return PersonaData(
            name=self.name_edit.text().strip(), system_prompt=self.prompt_edit.toPlainText(),
            provider=str(self.provider_box.currentData() or "") or None, model=self.model_edit.text().strip() or None,
            temperature=round(self.temperature.value(), 2), voice_id=self.voice_edit.bound_value() or None,
            is_default=self.default_box.isChecked(), id=self._current.id if self._current else None,
        )

    def show_persona(self, p: PersonaData) -> None:
        self._current = p if p.id is not None else None
        self.name_edit.setText(p.name)
        self.prompt_edit.setPlainText(p.system_prompt)
        self.provider_box.setCurrentIndex(max(0, self.provider_box.findData(p.provider or "")))
        self.model_edit.setText(p.model or "")
        self.temperature.setValue(p.temperature if p.temperature is not None else self.ctx.settings.value(LLM_TEMPERATURE))
        self.voice_edit.set_bound_value(p.voice_id or "")
        self.default_box.setChecked(p.is_default)
        self.delete_button.setEnabled(p.id is not None)
        self._dirty = False

    def new_persona(self) -> None:
        self.list.clearSelection()
        self.show_persona(PersonaData(name="", system_prompt=DEFAULT_SYSTEM_PROMPT))

    def _picked(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.show_persona(item.data(Qt.ItemDataRole.UserRole))

    # Verbs ---------------------------------------------------------------------------------------
    def load(self) -> None:
        def read() -> list[PersonaData]:
            with self.ctx.db.session() as s:
                return prepo.list_personas(s, self.ctx.user_id)

        run_job(read, self._fill, self._fail)

        from synthbot_desktop.services.voice_catalog import voice_catalog

        run_job(voice_catalog(self.ctx).cached, self.voice_edit.set_catalog, self._fail)

    def _fill(self, personas: list[PersonaData], select_id: int | None = None) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for p in personas:
            item = QListWidgetItem(p.name + ("  ★" if p.is_default else ""))
            item.setData(Qt.ItemDataRole.UserRole, p)
            self.list.addItem(item)
            if p.id == select_id:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)

    def check(self) -> list[str]:
        if not self._dirty:
            return []
        data = self.form_data()
        problems = []
        if not data.name:
            problems.append("the persona needs a name (or press “New persona” to discard it)")
        if not data.system_prompt.strip():
            problems.append("the persona's system prompt is empty")
        voice = self.voice_edit.problem()
        if voice:
            problems.append(voice)
        return problems

    def save(self) -> None:
        if self._dirty:
            self.save_persona()

    def restore_defaults(self) -> None:
        self.prompt_edit.setPlainText(DEFAULT_SYSTEM_PROMPT)
        self.temperature.setValue(self.ctx.settings.value(LLM_TEMPERATURE))

    def save_persona(self) -> None:
        self._dirty = True
        problems = self.check()
        if problems:
            self.status.show_message("Not saved — " + "; ".join(problems))
            return
        data = self.form_data()

        def write() -> tuple[PersonaData, list[PersonaData]]:
            with self.ctx.db.session() as s:
                saved = prepo.save_persona(s, self.ctx.user_id, data)
                return saved, prepo.list_personas(s, self.ctx.user_id)

        def written(result: tuple[PersonaData, list[PersonaData]]) -> None:
            saved, personas = result
            self._fill(personas, saved.id)
            self.show_persona(saved)
            self.status.show_message(f"Saved persona “{saved.name}”.", transient=True)

        run_job(write, written, self._fail)

    def delete_persona(self) -> None:
        if self._current is None or self._current.id is None:
            return
        pid, name = self._current.id, self._current.name

        def remove() -> list[PersonaData]:
            with self.ctx.db.session() as s:
                prepo.delete_persona(s, pid)
                return prepo.list_personas(s, self.ctx.user_id)

        def removed(personas: list[PersonaData]) -> None:
            self._fill(personas)
            self.new_persona()
            self.status.show_message(f"Deleted persona “{name}”.", transient=True)

        run_job(remove, removed, self._fail)

    def _fail(self, error: BaseException) -> None:
        self.status.show_message(describe(error))
