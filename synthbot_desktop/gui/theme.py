"""Light and dark appearance: the palette, and a style sheet whose colours come from it.

The scheme follows the desktop (Qt's ``QStyleHints.colorScheme``, changed live through
``colorSchemeChanged``) unless ``ui.theme`` forces "light" or "dark". Every custom colour —
bubbles, banner, talk button, state dot, level meter — is derived from the active palette, so
a new scheme re-colours everything at once and both stay readable (contrast is tested).

The palettes are our own rather than the platform's: several platform themes (offscreen, some
X11 window managers) report a dark preference but hand Qt a light palette, which left white
text on white bubbles.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from synthbot_desktop.setting_keys import UI_THEME

log = logging.getLogger(__name__)

THEME_CHOICES = ("system", "light", "dark")
SCHEME_PROPERTY = "synthbot_scheme"  # set on the QApplication: "light" or "dark"

# Fixed hues for meaning (error red, hearing green...). Their shade per scheme comes from
# :func:`accent`, which brightens them on a dark window so they keep contrast.
ERROR_RED = "#c62828"


def effective_scheme(choice: str, system: Qt.ColorScheme) -> str:
    """"light" or "dark" for the ``ui.theme`` choice and what the desktop says (Unknown = light)."""
    if choice in ("light", "dark"):
        return choice
    return "dark" if system == Qt.ColorScheme.Dark else "light"


def palette_for(scheme: str) -> QPalette:
    """The app's palette for one scheme (all colour groups, disabled text dimmed)."""
    dark = scheme == "dark"
    roles = {
        QPalette.ColorRole.Window: "#1e2226" if dark else "#f6f7f9",
        QPalette.ColorRole.WindowText: "#e6e8eb" if dark else "#1d2329",
        QPalette.ColorRole.Base: "#15181b" if dark else "#ffffff",
        QPalette.ColorRole.AlternateBase: "#262b30" if dark else "#eef1f5",
        QPalette.ColorRole.Text: "#e6e8eb" if dark else "#1d2329",
        QPalette.ColorRole.Button: "#2b3036" if dark else "#eceef1",
        QPalette.ColorRole.ButtonText: "#e6e8eb" if dark else "#1d2329",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: "#2f6fc0" if dark else "#2a6fc4",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2b3036" if dark else "#ffffdc",
        QPalette.ColorRole.ToolTipText: "#e6e8eb" if dark else "#1d2329",
        QPalette.ColorRole.PlaceholderText: "#8d959e" if dark else "#6b747d",
        QPalette.ColorRole.Link: "#7db4f5" if dark else "#1f5fae",
        QPalette.ColorRole.LinkVisited: "#b39ddb" if dark else "#6a3fb5",
        QPalette.ColorRole.Light: "#3a4047" if dark else "#ffffff",
        QPalette.ColorRole.Midlight: "#30363c" if dark else "#e3e6ea",
        QPalette.ColorRole.Mid: "#4a525a" if dark else "#b8bec5",
        QPalette.ColorRole.Dark: "#101214" if dark else "#8a939c",
        QPalette.ColorRole.Shadow: "#000000" if dark else "#4a525a",
    }
    pal = QPalette()
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b737b" if dark else "#9aa1a8"))
    return pal


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def mix(a: QColor | str, b: QColor | str, amount: float) -> QColor:
    """``a`` moved ``amount`` (0..1) of the way to ``b``."""
    ca, cb = QColor(a), QColor(b)
    return QColor.fromRgbF(*(x + (y - x) * amount for x, y in ((ca.redF(), cb.redF()), (ca.greenF(), cb.greenF()),
                                                                (ca.blueF(), cb.blueF()))))


def accent(colour: str, palette: QPalette) -> QColor:
    """A meaning colour (state dot, meter) in the shade that reads on this palette's window."""
    c = QColor(colour)
    return c.lighter(140) if is_dark(palette) else c


def colours(palette: QPalette) -> dict[str, QColor]:
    """Every custom colour of the style sheet, by name, derived from ``palette``."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    window = palette.color(QPalette.ColorRole.Window)
    highlight = palette.color(QPalette.ColorRole.Highlight)
    dark = is_dark(palette)
    return {
        "window": window,
        "conversation": base,
        "placeholder": palette.color(QPalette.ColorRole.PlaceholderText),
        "user_bg": highlight,
        "user_fg": palette.color(QPalette.ColorRole.HighlightedText),
        "user_note": mix(palette.color(QPalette.ColorRole.HighlightedText), highlight, 0.25),
        # Edit while a turn runs: visibly unavailable (it looked clickable mid-reply in the screenshot)
        "user_disabled": mix(palette.color(QPalette.ColorRole.HighlightedText), highlight, 0.6),
        "assistant_bg": palette.color(QPalette.ColorRole.AlternateBase),
        "assistant_fg": text,
        "system_bg": mix(base, "#e0a800", 0.22 if dark else 0.16),
        # a live caption (words so far) must not look like what was sent: pale, dashed, italic
        "caption_bg": mix(base, highlight, 0.22 if dark else 0.12),
        "caption_fg": text,
        "caption_border": highlight,
        "note": palette.color(QPalette.ColorRole.PlaceholderText),
        "banner_bg": mix(base, ERROR_RED, 0.22 if dark else 0.10),
        "banner_border": mix(base, ERROR_RED, 0.5 if dark else 0.3),
        "banner_fg": mix(text, ERROR_RED, 0.35 if dark else 0.6),
        "talk_bg": highlight,
        "talk_fg": palette.color(QPalette.ColorRole.HighlightedText),
        "talk_down": highlight.darker(130),
        "talk_speaking": QColor("#b84d1c" if dark else "#c0531f"),
        "talk_thinking": QColor("#8c6a12" if dark else "#8f6a0c"),
        "talk_hearing": QColor("#23804a" if dark else "#257f49"),
        "button": palette.color(QPalette.ColorRole.Button),
        "button_fg": palette.color(QPalette.ColorRole.ButtonText),
        "button_border": palette.color(QPalette.ColorRole.Mid),
        "muted_bg": QColor(ERROR_RED).darker(115 if dark else 100),
        "muted_fg": QColor("#ffffff"),
        "lock_note": QColor("#e0b64a" if dark else "#8a6d1e"),
    }


def style_sheet(palette: QPalette) -> str:
    """The app's style sheet for ``palette`` (calm colours, big talk button, readable bubbles)."""
    c = {k: v.name() for k, v in colours(palette).items()}
    return f"""
QMainWindow, QDialog {{ background: {c['window']}; }}
#conversation, #conversation_inner {{ background: {c['conversation']}; border: none; }}
#placeholder {{ color: {c['placeholder']}; font-size: 15px; padding: 40px; }}
QFrame#bubble_user {{ background: {c['user_bg']}; border-radius: 14px; }}
QFrame#bubble_user QLabel {{ color: {c['user_fg']}; font-size: 14px; }}
QFrame#bubble_user[partial="true"] {{ background: {c['caption_bg']}; border: 1px dashed {c['caption_border']}; }}
QFrame#bubble_user[partial="true"] QLabel {{ color: {c['caption_fg']}; font-style: italic; }}
QFrame#bubble_assistant {{ background: {c['assistant_bg']}; border-radius: 14px; }}
QFrame#bubble_assistant QLabel {{ color: {c['assistant_fg']}; font-size: 14px; }}
QFrame#bubble_system {{ background: {c['system_bg']}; border-radius: 10px; }}
QLabel#bubble_note {{ color: {c['note']}; font-size: 11px; font-style: italic; }}
QFrame#bubble_user QLabel#bubble_note {{ color: {c['user_note']}; }}
QFrame#bubble_user QToolButton {{ color: {c['user_fg']}; }}
QFrame#bubble_user QToolButton:disabled {{ color: {c['user_disabled']}; }}
#error_banner {{ background: {c['banner_bg']}; border: 1px solid {c['banner_border']}; border-radius: 8px; }}
#error_text {{ color: {c['banner_fg']}; }}
QPushButton#talk_button {{ background: {c['talk_bg']}; color: {c['talk_fg']}; font-size: 17px; font-weight: 600;
    border-radius: 32px; padding: 10px 28px; border: none; }}
QPushButton#talk_button:pressed, QPushButton#talk_button:checked {{ background: {c['talk_down']}; }}
QPushButton#talk_button[state="speaking"] {{ background: {c['talk_speaking']}; }}
QPushButton#talk_button[state="thinking"], QPushButton#talk_button[state="transcribing"] {{
    background: {c['talk_thinking']}; }}
QPushButton#talk_button[state="hearing"] {{ background: {c['talk_hearing']}; }}
QPushButton#mute {{ background: {c['button']}; color: {c['button_fg']}; border: 1px solid {c['button_border']};
    border-radius: 3px; padding: 5px 12px; }}
QPushButton#mute:hover {{ border-color: {c['talk_bg']}; }}
QPushButton#mute:focus {{ border: 1px solid {c['talk_bg']}; }}
QPushButton#mute:checked {{ background: {c['muted_bg']}; color: {c['muted_fg']}; border-color: {c['muted_bg']}; }}
QPushButton#stop {{ padding: 8px 16px; }}
QLabel#lock_note {{ color: {c['lock_note']}; }}
QLabel#usage_totals {{ font-size: 14px; padding: 6px 0; }}
"""


def apply_scheme(app: QGuiApplication, scheme: str) -> None:
    """Palette and style sheet for ``scheme`` ("light"/"dark"); widgets get a PaletteChange."""
    palette = palette_for(scheme)
    app.setProperty(SCHEME_PROPERTY, scheme)
    app.setPalette(palette)
    set_sheet = getattr(app, "setStyleSheet", None)
    if callable(set_sheet):
        set_sheet(style_sheet(palette))


def current_scheme(app: QGuiApplication | None = None) -> str:
    app = app or QGuiApplication.instance()  # type: ignore[assignment]
    value = app.property(SCHEME_PROPERTY) if app is not None else None
    return str(value) if value in ("light", "dark") else "light"


class ThemeController(QObject):
    """Keeps the app's scheme equal to ``ui.theme`` and, for "system", to the desktop's.

    The desktop's change arrives as ``colorSchemeChanged``; a saved setting arrives through the
    settings listener (any thread), re-emitted here so the palette is only touched on the GUI thread.
    """

    schemeChanged = Signal(str)
    _settingsSaved = Signal(object)

    def __init__(self, app: QGuiApplication, settings: Any) -> None:
        super().__init__(app)
        self.app = app
        self.settings = settings
        self.system = app.styleHints().colorScheme()
        app.styleHints().colorSchemeChanged.connect(self.system_changed)
        self._settingsSaved.connect(self._follow_settings)
        self._unlisten: Callable[[], None] = settings.add_listener(self._settingsSaved.emit)
        self.apply()

    def choice(self) -> str:
        value = self.settings.value(UI_THEME) or "system"
        return value if value in THEME_CHOICES else "system"

    def apply(self) -> str:
        scheme = effective_scheme(self.choice(), self.system)
        if scheme != current_scheme(self.app) or not self.app.property(SCHEME_PROPERTY):
            apply_scheme(self.app, scheme)
            log.info("appearance: %s (setting %s, desktop %s)", scheme, self.choice(), self.system.name)
            self.schemeChanged.emit(scheme)
        return scheme

    def system_changed(self, scheme: Qt.ColorScheme) -> None:
        self.system = scheme
        self.apply()

    def _follow_settings(self, keys: set[str]) -> None:
        if not keys or "ui.theme" in keys:
            self.apply()

    def close(self) -> None:
        self._unlisten()
        with contextlib.suppress(RuntimeError, TypeError):  # already gone with the app
            self.app.styleHints().colorSchemeChanged.disconnect(self.system_changed)
