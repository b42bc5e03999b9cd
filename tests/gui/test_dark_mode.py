"""Issue #21: dark mode following the desktop (colorSchemeChanged), a setting to force light or dark,
and custom colours (bubbles, banner, state dot, meter) taken from the palette so both read well."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from synthbot_desktop.gui.application import ensure_qapp
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.gui.theme import ThemeController, apply_scheme, colours, current_scheme, effective_scheme
from synthbot_desktop.gui.theme import palette_for as theme_palette
from synthbot_desktop.pipeline import events as ev

pytestmark = pytest.mark.gui


def _luminance(c: QColor) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(x) for x in c.getRgbF()[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio (1..21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


class _Talk:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


@pytest.fixture
def themed(qtbot: Any, ctx: Any) -> Iterator[tuple[MainWindow, ThemeController]]:
    app = ensure_qapp()
    theme = ThemeController(app, ctx.settings)
    w = MainWindow(ctx, _Talk(), EventBridge())  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    yield w, theme
    theme.close()
    apply_scheme(app, "light")  # the shared QApplication goes back to the default for other tests
    QThreadPool.globalInstance().waitForDone(10000)


def test_the_setting_decides_and_system_is_followed() -> None:
    dark, light, unknown = Qt.ColorScheme.Dark, Qt.ColorScheme.Light, Qt.ColorScheme.Unknown
    assert [effective_scheme("system", s) for s in (dark, light, unknown)] == ["dark", "light", "light"]
    assert {effective_scheme("light", s) for s in (dark, light, unknown)} == {"light"}
    assert {effective_scheme("dark", s) for s in (dark, light, unknown)} == {"dark"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_schemes_are_readable(scheme: str) -> None:
    """Text on every custom surface passes WCAG AA (4.5:1); the talk button's states too."""
    pal = theme_palette(scheme)
    c = colours(pal)
    pairs = {"user": ("user_fg", "user_bg"), "assistant": ("assistant_fg", "assistant_bg"),
             "banner": ("banner_fg", "banner_bg"), "talk": ("talk_fg", "talk_bg"),
             "speaking": ("talk_fg", "talk_speaking"), "thinking": ("talk_fg", "talk_thinking"),
             "hearing": ("talk_fg", "talk_hearing"), "muted": ("muted_fg", "muted_bg"),
             "system bubble": ("assistant_fg", "system_bg"),
             "window": ("assistant_fg", "window")}
    low = {name: round(contrast(c[fg], c[bg]), 2) for name, (fg, bg) in pairs.items()
           if contrast(c[fg], c[bg]) < 4.5}
    assert not low, low


def _pixel(widget: Any, x: int, y: int) -> QColor:
    return widget.grab().toImage().pixelColor(x, y)


def test_switching_the_desktop_scheme_recolours_the_window(qtbot: Any, themed: Any) -> None:
    w, _theme = themed
    app = QApplication.instance()
    assert current_scheme() == "light"  # offscreen reports no preference: light
    bubble = w.conversation.add_user("Hello there, this is a longer line of text")
    w.show_error(ev.ErrorEvent("the model is not reachable"))
    w._on_state(ev.StateChanged(ev.TurnState.LISTENING))
    qtbot.waitUntil(lambda: bubble.isVisible() and w.banner.isVisible(), timeout=3000)
    light = {"window": w.palette().color(QPalette.ColorRole.Window).name(),
             "bubble": _pixel(bubble, bubble.width() - 6, bubble.height() // 2).name(),
             "banner": _pixel(w.banner, w.banner.width() // 2, 2).name(),
             "dot": w.indicator.dot_colour(), "meter": w.meter.colours()[0].name()}

    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)  # what the desktop sends
    qtbot.waitUntil(lambda: current_scheme() == "dark", timeout=3000)
    qtbot.wait(50)
    dark_pal = theme_palette("dark")
    dark_c = colours(dark_pal)
    dark = {"window": w.palette().color(QPalette.ColorRole.Window).name(),
            "bubble": _pixel(bubble, bubble.width() - 6, bubble.height() // 2).name(),
            "banner": _pixel(w.banner, w.banner.width() // 2, 2).name(),
            "dot": w.indicator.dot_colour(), "meter": w.meter.colours()[0].name()}
    changed = {k for k in light if light[k] != dark[k]}
    assert changed == set(light), (light, dark)
    assert dark["window"] == dark_pal.color(QPalette.ColorRole.Window).name()
    assert dark["bubble"] == dark_c["user_bg"].name()  # the drawn bubble is the palette's colour
    assert dark["banner"] == dark_c["banner_bg"].name()
    assert dark["dot"] in w.indicator.text()  # the dot was redrawn, not just recomputed
    assert contrast(QColor(dark["dot"]), dark_pal.color(QPalette.ColorRole.Window)) > 3.0

    # Forced light: the desktop's dark preference no longer applies, at once after saving.
    w.ctx.settings.set("ui.theme", "light")
    qtbot.waitUntil(lambda: current_scheme() == "light", timeout=3000)
    assert w.indicator.dot_colour() == light["dot"]
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    qtbot.wait(20)
    assert current_scheme() == "light"
    w.ctx.settings.set("ui.theme", "dark")  # forced dark while the desktop says light
    app.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Light)
    qtbot.waitUntil(lambda: current_scheme() == "dark", timeout=3000)
    w.ctx.settings.set("ui.theme", "system")
    qtbot.waitUntil(lambda: current_scheme() == "light", timeout=3000)  # the desktop said light last


def test_usage_chart_follows_the_scheme(qtbot: Any, ctx: Any) -> None:
    from synthbot_desktop.gui.usage_page import UsagePage

    app = ensure_qapp()
    page = UsagePage(ctx)
    qtbot.addWidget(page)
    try:
        light = page.chart.backgroundBrush().color().name()
        apply_scheme(app, "dark")
        qtbot.waitUntil(lambda: page.chart.backgroundBrush().color().name() != light, timeout=3000)
        dark = theme_palette("dark")
        assert page.chart.backgroundBrush().color().name() == dark.color(QPalette.ColorRole.Base).name()
        assert page.chart.titleBrush().color().name() == dark.color(QPalette.ColorRole.Text).name()
    finally:
        apply_scheme(app, "light")
        QThreadPool.globalInstance().waitForDone(10000)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_live_caption_does_not_look_sent_until_it_is(qtbot: Any, themed: Any, scheme: str) -> None:
    """Issue #12/#21: the words so far are shown while speaking; they must read as not sent yet
    (pale, dashed) and turn into the ordinary user bubble when the final transcript arrives."""
    w, _theme = themed
    apply_scheme(QApplication.instance(), scheme)  # type: ignore[arg-type]
    sent = w.conversation.add_user("What's the capital of Portugal?")
    caption = w.conversation.show_partial("And what's the weather like there this") or w.conversation._partial
    qtbot.waitUntil(lambda: caption.isVisible(), timeout=3000)
    qtbot.wait(50)

    def fill(b: Any) -> str:
        return _pixel(b, b.width() // 2, b.height() - 4).name()

    assert fill(caption) != fill(sent)
    assert caption.accessibleDescription() == "what you are saying, so far"
    final = w.conversation.add_user("And what's the weather like there this week?")
    qtbot.wait(50)
    assert final is caption and fill(final) == fill(sent) and final.accessibleDescription() == ""
    c = colours(theme_palette(scheme))
    assert contrast(c["caption_fg"], c["caption_bg"]) >= 4.5


def test_edit_on_the_last_question_looks_unavailable_while_a_turn_runs(qtbot: Any, themed: Any) -> None:
    """The style sheet's colour for the user bubble's buttons hid the disabled state: mid-reply the
    Edit button looked exactly as clickable as at rest (seen in the main-window screenshot)."""
    w, _theme = themed
    bubble = w.conversation.add_user("And how many people live there?")
    w.conversation.refresh_actions()
    qtbot.waitUntil(lambda: bubble.edit_button.isVisible(), timeout=3000)
    idle = bubble.edit_button.grab().toImage()
    w.conversation.set_busy(True)
    qtbot.wait(50)
    assert not bubble.edit_button.isEnabled()
    assert bubble.edit_button.grab().toImage() != idle
