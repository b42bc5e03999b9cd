"""A voice picker: people choose voices by name (from the catalog in the database), the settings
and personas keep ids.

It replaces the free "Voice id" text fields of the Voice and Personas pages (issue #21, defect 11):
a typed name such as "Rachel" was stored as an id and failed at the first reply. The combo cannot
be typed into; a stored id that the catalog does not know (an old entry, a voice the account lost)
is kept and shown as such, and :meth:`VoicePicker.problem` says so, so the page can refuse it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QWidget

from synthbot_desktop.storage.voices import CatalogVoice
from synthbot_desktop.tts.elevenlabs_api import DEFAULT_VOICE_ID

#: Names known without a catalog: ElevenLabs' default voice (what a fresh install speaks with).
KNOWN_NAMES = {DEFAULT_VOICE_ID: "Rachel"}


def short_id(voice_id: str) -> str:
    return voice_id if len(voice_id) <= 10 else voice_id[:8] + "…"


def voice_label(voice: CatalogVoice) -> str:
    labels = ", ".join(str(v) for v in (voice.labels or {}).values() if v)
    return f"{voice.name} — {labels}" if labels else voice.name


def voice_name(catalog: list[CatalogVoice], voice_id: str) -> str:
    """A person's word for ``voice_id``: its catalog name, else "voice 21m00Tcm…"."""
    for v in catalog:
        if v.voice_id == voice_id:
            return v.name
    if ":" in voice_id:
        engine, _, voice = voice_id.partition(":")
        if engine == "piper":
            return f"Piper {voice}"
    return KNOWN_NAMES.get(voice_id) or f"voice {short_id(voice_id)}"


class VoicePicker(QComboBox):
    """ElevenLabs voices by name; ``bound_value()`` is the chosen voice id ("" = the extra "none" item).

    ``extras`` are (label, value) items listed first, e.g. "(default voice)" → "" or the offline
    Piper voice → "piper:joe-us" on the Personas page.
    """

    voiceChanged = Signal(str)

    def __init__(self, extras: tuple[tuple[str, str], ...] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(False)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(24)
        self._extras = extras
        self._catalog: list[CatalogVoice] = []
        self._unknown: str | None = None  # a kept id the catalog does not list
        self._fill(None)
        self.currentIndexChanged.connect(lambda _i: self.voiceChanged.emit(self.bound_value()))

    # Catalog ----------------------------------------------------------------------------------
    @property
    def catalog(self) -> list[CatalogVoice]:
        return list(self._catalog)

    def set_catalog(self, voices: list[CatalogVoice]) -> None:
        """New catalog; the chosen voice stays chosen (shown by name if the catalog knows it now)."""
        current = self.bound_value() if self.count() else None
        self._catalog = sorted(voices, key=lambda v: v.name.lower())
        self.blockSignals(True)
        self._fill(current)
        self.blockSignals(False)

    def _fill(self, current: str | None) -> None:
        self.clear()
        for label, value in self._extras:
            self.addItem(label, value)
        for v in self._catalog:
            self.addItem(voice_label(v), v.voice_id)
            self.setItemData(self.count() - 1, v.description or f"voice id {v.voice_id}", Qt.ItemDataRole.ToolTipRole)
        self._unknown = None
        if current is not None:
            self._select(current)

    def _select(self, value: str) -> None:
        i = self.findData(value)
        if i < 0:
            self._unknown = value
            note = "not in your voice list" if self._catalog else "refresh the list to see all voices"
            self.addItem(f"{voice_name(self._catalog, value)} ({note})", value)
            self.setItemData(self.count() - 1, f"voice id {value}", Qt.ItemDataRole.ToolTipRole)
            i = self.count() - 1
        self.setCurrentIndex(i)

    # BoundEditor ------------------------------------------------------------------------------
    def bound_value(self) -> str:
        data: Any = self.currentData()
        return "" if data is None else str(data)

    def set_bound_value(self, value: Any) -> None:
        text = str(value or "")
        if text == self.bound_value() and self.count():
            return
        if self._unknown is not None and self._unknown != text:
            self.removeItem(self.findData(self._unknown))
            self._unknown = None
        self._select(text)

    def name(self) -> str:
        """The chosen voice's name (for messages)."""
        value = self.bound_value()
        for label, extra in self._extras:
            if extra == value:
                return label
        return voice_name(self._catalog, value)

    def problem(self) -> str | None:
        """Why the chosen voice cannot be used (an id the catalog does not list), or None.

        Only judged when a catalog is loaded: offline with no cached catalog, nothing is known."""
        value = self.bound_value()
        if not value or not self._catalog or value.startswith("piper:") or value in KNOWN_NAMES:
            return None  # (ElevenLabs' default voice is every account's)
        if value == self._unknown:
            return (f"“{value}” is not one of your ElevenLabs voices — pick a voice by name "
                    "(Refresh the list on the Voice page if it is new)")
        return None
