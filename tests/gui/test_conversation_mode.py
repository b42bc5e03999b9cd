"""The conversation-mode switch in the window (issue #20): Enhanced wraps the chat provider the way
``talk --mode enhanced`` does, so each reply's request carries a pooled seed and a jittered
temperature; Normal sends neither (docs/enhanced-mode.md)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.gui


def _say(qtbot: Any, gui: Any, text: str) -> dict[str, Any]:
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000):
        qtbot.keyClicks(gui.window.input, text)
        qtbot.keyClick(gui.window.input, Qt.Key.Key_Return)
    body: dict[str, Any] = gui.fake_llm.requests[-1].json()
    return body


def test_enhanced_mode_seeds_each_turn_and_normal_does_not(qtbot: Any, gui: Any, fake_llm: Any) -> None:
    gui.fake_llm = fake_llm
    w = gui.window
    base = gui.ctx.settings.get_float("llm.temperature")
    normal = _say(qtbot, gui, "first")
    assert "seed" not in normal and normal["temperature"] == pytest.approx(base)

    w.mode_box.setCurrentIndex(w.mode_box.findData("enhanced"))
    one, two = _say(qtbot, gui, "second"), _say(qtbot, gui, "third")
    for body in (one, two):  # the pool is empty here: the OS CSPRNG stands in, at once
        assert isinstance(body["seed"], int) and 0 <= body["seed"] < 2**31
        assert base - 0.2 - 1e-9 <= body["temperature"] <= base + 0.2 + 1e-9
    assert one["seed"] != two["seed"]  # a draw per turn, not one per conversation
    # ... and each draw is traceable: stored on its assistant message, as talk --mode enhanced does
    from sqlalchemy import select

    from synthbot_desktop.storage.models import ConversationMessage

    def stored_seeds() -> list[int]:
        gui.ctx.recorder.flush()
        with gui.ctx.db.session() as s:
            rows = s.scalars(select(ConversationMessage).where(ConversationMessage.role == "assistant")).all()
            return [r.timings["randomness"]["seed"] for r in rows if r.timings and "randomness" in r.timings]

    qtbot.waitUntil(lambda: len(stored_seeds()) == 2, timeout=10000)
    assert stored_seeds() == [one["seed"], two["seed"]]

    w.mode_box.setCurrentIndex(w.mode_box.findData("normal"))
    back = _say(qtbot, gui, "fourth")
    assert "seed" not in back and back["temperature"] == pytest.approx(base)
