"""Settings pages and the binder that ties widgets to keys of the settings REGISTRY.

Every page has the same four verbs (the habit borrowed from Picard): ``load`` shows stored
values, ``check`` returns problems without saving, ``save`` writes, ``restore_defaults``
puts the policy/built-in defaults back into the widgets (saved only on Apply/OK).
The binder builds the right editor from a key's spec (bool → checkbox, choices → combo,
bounded numbers → spin boxes), so bounds and help text come from one place: config.py.
Settings locked by the administrator's policy are shown disabled with a note.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
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

    def editor(self, key: str, *, multiline: bool = False, editable_choices: tuple[str, ...] | None = None,
               password: bool = False) -> QWidget:
        spec = REGISTRY[key]
        w: QWidget
        if spec.type is bool:
            w = QCheckBox()
        elif spec.choices is not None or editable_choices is not None:
            combo = QComboBox()
            combo.addItems(list(spec.choices or editable_choices or ()))
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
        self.editors[key] = w
        return w

    def row(self, form: QFormLayout, key: str, label: str | None = None, **kw: Any) -> QWidget:
        """Add ``key``'s editor to ``form``, with the lock note when the policy locks it."""
        w = self.editor(key, **kw)
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
        form.addRow(label or _label_for(REGISTRY[key]), holder)
        return w

    # Values ------------------------------------------------------------------------------------
    def value(self, key: str) -> Any:
        w = self.editors[key]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentText().strip()
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
        if isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QComboBox):
            if w.findText(str(value)) < 0:
                w.addItem(str(value))
            w.setCurrentText(str(value))
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
