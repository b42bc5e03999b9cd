"""The window shows "running <tool>" while a slow tool runs and a fired timer, from core events
posted on another thread through the real bridge."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtWidgets import QWidget

from synthbot_desktop.gui import tool_status
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.widgets.state_indicator import StateIndicator
from synthbot_desktop.pipeline import events as ev

pytestmark = pytest.mark.gui


class Window(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.indicator = StateIndicator(self)


def _post(bridge: EventBridge, event: ev.Event) -> None:
    t = threading.Thread(target=bridge.sink, args=(event,))  # the engine thread, not the GUI's
    t.start()
    t.join()


def test_running_tool_and_timer_are_shown(qtbot: Any) -> None:
    bridge, window = EventBridge(), Window()
    qtbot.addWidget(window)
    tool_status.install(window, bridge)
    window.indicator.set_state(ev.TurnState.THINKING)
    _post(bridge, ev.ToolRunning("get_weather", "t1"))
    qtbot.waitUntil(lambda: "running get_weather" in window.indicator.text(), timeout=3000)
    _post(bridge, ev.ToolDone("get_weather", "t1"))
    qtbot.waitUntil(lambda: "Thinking" in window.indicator.text(), timeout=3000)
    _post(bridge, ev.TimerFired("tea"))
    qtbot.waitUntil(lambda: "tea" in window.indicator.text(), timeout=3000)
