"""Settings pages and the binder that ties widgets to keys of the settings REGISTRY.

Every page has the same four verbs (the habit borrowed from Picard): ``load`` shows stored
values, ``check`` returns problems without saving, ``save`` writes, ``restore_defaults``
puts the policy/built-in defaults back into the widgets (saved only on Apply/OK).
The binder builds the right editor from a key's spec (bool → checkbox, choices → combo,
bounded numbers → spin boxes), so bounds and help text come from one place: config.py.
Settings locked by the administrator's policy are shown disabled with a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import REGISTRY, SettingSpec
from synthbot_desktop.errors import ConfigError

LOCK_NOTE = "🔒 set by your administrator"

#: How long a "Saved." style message stays before it clears itself (it also clears on the next edit).
TRANSIENT_MS = 6000

#: Human labels for raw setting values (issue #21, defect 11): the widgets show these, the settings
#: file keeps the raw value. Keyed by setting key, then value; values missing here are shown raw.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "llm.provider": {"ollama": "Ollama (local)", "openai": "OpenAI", "anthropic": "Anthropic",
                     "gemini": "Google Gemini"},
    "tts.engine": {"auto": "Automatic (ElevenLabs with a key, else Piper)", "elevenlabs": "ElevenLabs",
                   "piper": "Piper (offline)"},
    "audio.mode": {"hands_free": "Hands-free (speak any time)", "push_to_talk": "Push to talk (hold the key)"},
    "ui.theme": {"system": "Follow the desktop", "light": "Light", "dark": "Dark"},
    "stt.device": {"cpu": "Processor (CPU)", "cuda": "NVIDIA graphics card (CUDA)", "auto": "Automatic"},
    "stt.compute_type": {"default": "Model default", "int8": "int8 (fastest on CPU)"},
    "tts.elevenlabs.output_format": {"pcm_16000": "PCM 16 kHz", "pcm_22050": "PCM 22 kHz",
                                     "pcm_24000": "PCM 24 kHz (recommended)", "pcm_44100": "PCM 44.1 kHz",
                                     "mp3_44100_128": "MP3 44.1 kHz 128 kb/s", "mp3_22050_32": "MP3 22 kHz 32 kb/s"},
}


def choice_label(key: str, value: str) -> str:
    """What a person reads for ``value`` of ``key`` (the raw value when there is no label)."""
    return CHOICE_LABELS.get(key, {}).get(value, value)


@runtime_checkable
class BoundEditor(Protocol):
    """A custom editor the binder can read and write (e.g. the voice picker: names shown, ids kept)."""

    def bound_value(self) -> Any: ...

    def set_bound_value(self, value: Any) -> None: ...


def combo_value(combo: QComboBox) -> str:
    """The raw value of a combo: the current item's data while its label is shown, else the typed text."""
    i = combo.currentIndex()
    text = combo.currentText().strip()
    data = combo.itemData(i) if i >= 0 else None
    if data is not None and text == combo.itemText(i).strip():
        return str(data)
    return text


def set_combo_value(combo: QComboBox, value: Any, label: str | None = None) -> None:
    """Select the item whose data (or text) is ``value``; an unknown value is added (with ``label``)."""
    text = str(value)
    i = combo.findData(text)
    if i < 0:
        i = combo.findText(text)
    if i < 0:
        combo.addItem(label or text, text)
        i = combo.count() - 1
    combo.setCurrentIndex(i)


class StatusLine(QLabel):
    """A page's feedback line. Outcomes ("Saved.", "Key works.") are transient: they clear after
    :data:`TRANSIENT_MS` or at the next edit, so an old "Saved." never describes new edits
    (issue #21, defect 14). Progress and errors stay until replaced."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)

    def show_message(self, text: str, *, transient: bool = False, timeout_ms: int | None = None) -> None:
        self._timer.stop()
        self.setText(text)
        if transient:
            self._timer.start(TRANSIENT_MS if timeout_ms is None else timeout_ms)

    def clear_transient(self) -> None:
        """Called on an edit: drop an outcome message (keeps progress and errors)."""
        if self._timer.isActive():
            self._timer.stop()
            self.clear()


class Busy:
    """A button that shows it is working without being disabled.

    Disabling the focused button makes Qt move the focus on — after "Migrate" it landed on
    "Restore Defaults", so Enter would reset the page (issue #21, defect 13). A busy button keeps
    its focus and ignores clicks (handlers call :meth:`is_busy`), and its width is fixed to fit
    both texts so neighbours do not move.
    """

    @staticmethod
    def start(button: QAbstractButton, text: str | None = None) -> None:
        if button.property("idle_text") is None:
            button.setProperty("idle_text", button.text())
        if text:
            Busy.reserve(button, text)
            button.setText(text)
        button.setProperty("busy", True)
        button.setAccessibleDescription("working…")

    @staticmethod
    def stop(button: QAbstractButton) -> None:
        idle = button.property("idle_text")
        if idle is not None:
            button.setText(str(idle))
        button.setProperty("busy", False)
        button.setAccessibleDescription("")

    @staticmethod
    def is_busy(button: QAbstractButton) -> bool:
        return bool(button.property("busy"))

    @staticmethod
    def reserve(button: QAbstractButton, *texts: str) -> None:
        """Make ``button`` wide enough for each of ``texts`` (and its own), so it never resizes."""
        widths = [button.fontMetrics().horizontalAdvance(t) for t in (button.text(), *texts)]
        button.setMinimumWidth(max(button.minimumWidth(), max(widths) + 32))


def spec_default(ctx: AppContext, key: str) -> Any:
    """What 'restore defaults' means for a key: the admin's default if any, else the built-in one."""
    return ctx.settings.policy.defaults.get(key, REGISTRY[key].default)


def _label_for(spec: SettingSpec) -> str:
    return spec.key.rsplit(".", 1)[-1].replace("_", " ").capitalize()


class Binder:
    """Owns the editors for a set of registry keys."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.editors: dict[str, QWidget] = {}
        self.rows: dict[str, QWidget] = {}
        self.labels: dict[str, dict[str, str]] = {}
        self.edited = _EditedRelay()

    def _watch(self, w: QWidget) -> None:
        """Tell the page when the person edits ``w`` (clears stale "Saved." messages)."""
        emit: Callable[..., None] = lambda *_a: self.edited.changed.emit()  # noqa: E731
        if isinstance(w, QCheckBox):
            w.clicked.connect(emit)
        elif isinstance(w, QComboBox):
            w.activated.connect(emit)
            line = w.lineEdit() if w.isEditable() else None
            if line is not None:
                line.textEdited.connect(emit)
        elif isinstance(w, QSpinBox | QDoubleSpinBox):
            w.editingFinished.connect(emit)
        elif isinstance(w, QLineEdit):
            w.textEdited.connect(emit)
        elif isinstance(w, QPlainTextEdit):
            w.textChanged.connect(emit)

    def editor(self, key: str, *, multiline: bool = False, editable_choices: tuple[str, ...] | None = None,
               password: bool = False, widget: QWidget | None = None,
               labels: dict[str, str] | None = None) -> QWidget:
        spec = REGISTRY[key]
        names = {**CHOICE_LABELS.get(key, {}), **(labels or {})}
        w: QWidget
        if widget is not None:
            w = widget
        elif spec.type is bool:
            w = QCheckBox()
        elif spec.choices is not None or editable_choices is not None:
            combo = QComboBox()
            for value in spec.choices or editable_choices or ():
                combo.addItem(names.get(value, value), value)
            combo.setEditable(spec.choices is None)
            w = combo
        elif spec.type is int:
            box = QSpinBox()
            box.setRange(int(spec.min if spec.min is not None else -(2**31)),
                         int(spec.max if spec.max is not None else 2**31 - 1))
            w = box
        elif spec.type is float:
            dbox = QDoubleSpinBox()
            dbox.setDecimals(3 if (spec.max or 10) <= 10 else 1)
            dbox.setSingleStep(0.05 if (spec.max or 10) <= 10 else 1.0)
            dbox.setRange(spec.min if spec.min is not None else -1e9, spec.max if spec.max is not None else 1e9)
            w = dbox
        elif multiline:
            w = QPlainTextEdit()
            w.setMaximumHeight(110)
        else:
            line = QLineEdit()
            if password:
                line.setEchoMode(QLineEdit.EchoMode.Password)
            w = line
        w.setObjectName(key)
        w.setToolTip(spec.description)
        self.labels[key] = names
        self.editors[key] = w
        return w

    def row(self, form: QFormLayout, key: str, label: str | None = None, **kw: Any) -> QWidget:
        """Add ``key``'s editor to ``form``, with the lock note when the policy locks it."""
        w = self.editor(key, **kw)
        text = label or _label_for(REGISTRY[key])
        w.setAccessibleName(text)
        self._watch(w)
        holder: QWidget = w
        if self.ctx.settings.is_locked(key):
            holder = QWidget()
            h = QHBoxLayout(holder)
            h.setContentsMargins(0, 0, 0, 0)
            h.addWidget(w, 1)
            note = QLabel(LOCK_NOTE)
            note.setObjectName("lock_note")
            note.setToolTip(f"Locked by the policy file {self.ctx.settings.policy.path}")
            h.addWidget(note)
            w.setEnabled(False)
        self.rows[key] = holder
        form.addRow(text, holder)
        return w

    # Values ------------------------------------------------------------------------------------
    def value(self, key: str) -> Any:
        w = self.editors[key]
        if isinstance(w, BoundEditor):
            return w.bound_value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return combo_value(w)
        if isinstance(w, QSpinBox):
            return w.value()
        if isinstance(w, QDoubleSpinBox):
            return round(w.value(), w.decimals())
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        assert isinstance(w, QLineEdit)
        return w.text().strip()

    def set_value(self, key: str, value: Any) -> None:
        w = self.editors[key]
        if isinstance(w, BoundEditor):
            w.set_bound_value(value)
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            set_combo_value(w, value, self.labels.get(key, {}).get(str(value)))
        elif isinstance(w, QSpinBox):
            w.setValue(int(value))
        elif isinstance(w, QDoubleSpinBox):
            w.setValue(float(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QLineEdit):
            w.setText(str(value))

    def load(self) -> None:
        for key in self.editors:
            self.set_value(key, self.ctx.settings.get(key))

    def restore_defaults(self) -> None:
        for key in self.editors:
            if not self.ctx.settings.is_locked(key):
                self.set_value(key, spec_default(self.ctx, key))

    def check(self) -> list[str]:
        problems = []
        for key in self.editors:
            if self.ctx.settings.is_locked(key):
                continue
            try:
                REGISTRY[key].coerce(self.value(key))
            except ConfigError as exc:
                problems.append(exc.message)
        return problems

    def changes(self) -> dict[str, Any]:
        out = {}
        for key in self.editors:
            if self.ctx.settings.is_locked(key):
                continue
            value = REGISTRY[key].coerce(self.value(key))
            if value != self.ctx.settings.get(key):
                out[key] = value
        return out

    def save(self) -> None:
        changes = self.changes()
        if changes:
            self.ctx.settings.update(changes)


class _EditedRelay(QObject):
    changed = Signal()


class SettingsPage(QWidget):
    """One page of the dialog. Subclasses add widgets and extend the four verbs."""

    name = "page"
    title = "Page"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.binder = Binder(ctx)
        self.setObjectName(f"page_{self.name}")
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(16, 12, 16, 12)
        heading = QLabel(f"<h2>{self.title}</h2>")
        self.column.addWidget(heading)
        self.setAccessibleName(f"{self.title} settings")

    @property
    def edited(self) -> Any:
        """Emitted when the person edits one of the page's bound fields."""
        return self.binder.edited.changed

    def status_line(self, name: str) -> StatusLine:
        """The page's feedback line; its outcome messages clear at the next edit."""
        line = StatusLine(name, self)
        line.setAccessibleName(f"{self.title} status")
        self.edited.connect(line.clear_transient)
        return line

    def form(self, title: str | None = None) -> QFormLayout:
        if title:
            label = QLabel(f"<b>{title}</b>")
            label.setContentsMargins(0, 8, 0, 0)
            self.column.addWidget(label)
        form = QFormLayout()
        self.column.addLayout(form)
        return form

    def finish(self) -> None:
        self.column.addStretch(1)

    def load(self) -> None:
        self.binder.load()

    def check(self) -> list[str]:
        return self.binder.check()

    def save(self) -> None:
        self.binder.save()

    def restore_defaults(self) -> None:
        self.binder.restore_defaults()
