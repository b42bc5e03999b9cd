"""Issue #21, defect 14: the talk button changed width with its text and shifted its neighbours."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from synthbot_desktop.gui.application import ensure_qapp
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.gui.widgets.talk_button import ALL_TEXTS
from synthbot_desktop.pipeline import events as ev

pytestmark = pytest.mark.gui


class _Talk:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Iterator[MainWindow]:
    ensure_qapp()  # the app's style sheet: its font size and padding are what must be measured
    w = MainWindow(ctx, _Talk(), EventBridge())  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.resize(900, 600)
    w.show()
    qtbot.waitExposed(w)
    yield w
    QThreadPool.globalInstance().waitForDone(10000)


def _geometries(w: MainWindow) -> list[Any]:
    return [x.geometry() for x in (w.talk_button, w.stop_button, w.mute_button, w.hands_free_box, w.meter)]


def test_talk_button_and_its_neighbours_keep_their_place_in_every_state(qtbot: Any, window: MainWindow) -> None:
    w = window
    seen: dict[tuple[bool, ev.TurnState], list[Any]] = {}
    texts = set()
    for hands_free in (False, True):
        w.set_hands_free(hands_free, notify=False)
        for state in ev.TurnState:
            w._on_state(ev.StateChanged(state))
            w.talk_page.layout().activate()
            qtbot.wait(1)
            seen[(hands_free, state)] = _geometries(w)
            texts.add(w.talk_button.text())
            # The whole text is shown: the width fits the widest text, none is cut.
            hint = w.talk_button.fontMetrics().horizontalAdvance(w.talk_button.text())
            assert w.talk_button.width() > hint, (w.talk_button.text(), w.talk_button.width(), hint)
    assert len(texts) >= 8  # the button really showed its different texts
    assert texts <= set(ALL_TEXTS)
    first = next(iter(seen.values()))
    moved = {k: g for k, g in seen.items() if g != first}
    assert not moved, (first, moved)


def test_mute_is_clearly_shown_and_moves_nothing(qtbot: Any, window: MainWindow) -> None:
    from PySide6.QtGui import QPalette

    from synthbot_desktop.gui.theme import colours

    w = window
    before = _geometries(w)
    button = w.mute_button

    def centre_colour() -> str:
        image = button.grab().toImage()
        return image.pixelColor(4, image.height() // 2).name()

    plain = centre_colour()
    button.click()
    w.talk_page.layout().activate()
    qtbot.wait(1)
    assert button.isChecked() and button.text() == "Unmute" and "muted" in w.indicator.text()
    muted_bg = colours(QApplication.instance().palette())["muted_bg"].name()
    assert centre_colour() == muted_bg != plain  # the muted button is coloured, not just relabelled
    assert button.palette().color(QPalette.ColorRole.Window).isValid()
    assert _geometries(w) == before  # "Unmute" is wider than "Mute": nothing moved
    button.click()
    assert centre_colour() == plain and _geometries(w) == before
