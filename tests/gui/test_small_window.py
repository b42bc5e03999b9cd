"""A small window is possible (issue #21, defect 9): 700×500 with every control whole and inside
the window; the top bar wraps instead of forcing 858 px."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, QRect

pytestmark = pytest.mark.gui


def test_700_by_500_keeps_every_control_inside(qtbot: Any, gui: Any) -> None:
    w = gui.window
    w.show()
    qtbot.waitExposed(w)
    w.resize(700, 500)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == (700, 500), timeout=5000)
    assert w.minimumSizeHint().width() <= 700 and w.minimumSizeHint().height() <= 500
    qtbot.wait(50)  # one layout pass at the new size
    inside = QRect(0, 0, 700, 500)
    for widget in (w.provider_box, w.model_box, w.voice_box, w.new_button, w.settings_button, w.input,
                   w.send_button, w.hands_free_box, w.talk_button, w.stop_button, w.indicator):
        top_left = widget.mapTo(w, QPoint(0, 0))
        rect = QRect(top_left, widget.size())
        assert widget.isVisible() and inside.contains(rect), (widget.objectName(), rect)
        assert widget.width() >= widget.minimumSizeHint().width() - 1, widget.objectName()  # never squeezed
    # The bar wrapped onto more lines instead of widening the window; the conversation keeps room.
    assert w.settings_button.mapTo(w, QPoint(0, 0)).y() > w.provider_box.mapTo(w, QPoint(0, 0)).y()
    assert w.conversation.viewport().height() >= 120
