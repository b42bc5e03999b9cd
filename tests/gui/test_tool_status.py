"""The window shows "running <tool>" while a slow tool runs and a fired timer, from core events
posted on another thread through the real bridge."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from PySide6.QtCore import Qt
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


def test_a_fired_timer_shows_a_banner_without_a_tray(qtbot: Any) -> None:
    """Offscreen has no system tray: a real ``set_timer`` firing on the engine loop ends as the
    window's notice banner (never lost)."""
    from synthbot_desktop.gui.bridge import run_coro
    from synthbot_desktop.llm.base import ToolCall
    from synthbot_desktop.tools.builtins import Timers, builtin_tools
    from synthbot_desktop.tools.registry import ToolRegistry

    bridge, window = EventBridge(), Window()
    qtbot.addWidget(window)
    window.show()
    notifier = tool_status.install(window, bridge)
    assert not notifier.banner.isVisible()
    reg = ToolRegistry()
    reg.extend(builtin_tools(Timers(lambda label: bridge.sink(ev.TimerFired(label)))))
    results: list[Any] = []
    run_coro(reg.execute(ToolCall("1", "set_timer", '{"seconds": 1, "label": "tea <b>now</b>"}')), results.append)
    qtbot.waitUntil(lambda: notifier.banner.isVisible(), timeout=10_000)
    assert not results[0].is_error
    assert notifier.last_channel == "banner"
    assert notifier.banner.text() == "SynthBot reminder: Time is up: tea <b>now</b>"
    assert "&lt;b&gt;" in notifier.banner.message.text()  # shown as text, not markup
    qtbot.mouseClick(notifier.banner.close_button, Qt.MouseButton.LeftButton)
    assert not notifier.banner.isVisible()


def test_a_fired_timer_uses_the_tray_message_where_there_is_a_tray(qtbot: Any,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    shown: list[tuple[str, str]] = []

    class Tray(QSystemTrayIcon):
        def isVisible(self) -> bool:
            return True

        def showMessage(self, title: str, body: str, *args: Any) -> None:  # type: ignore[override]
            shown.append((title, body))

    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", staticmethod(lambda: True))
    monkeypatch.setattr(QSystemTrayIcon, "supportsMessages", staticmethod(lambda: True))
    bridge, window = EventBridge(), Window()
    qtbot.addWidget(window)
    tray = Tray(window)
    window._tray = tray  # type: ignore[attr-defined]  # where MainWindow keeps its tray icon
    notifier = tool_status.install(window, bridge)
    _post(bridge, ev.TimerFired("stretch"))
    qtbot.waitUntil(lambda: bool(shown), timeout=3000)
    assert shown == [("SynthBot reminder", "Time is up: stretch")]
    assert notifier.last_channel == "tray" and not notifier.banner.isVisible()


@pytest.mark.parametrize("allow", [True, False])
def test_side_effect_tool_is_asked_in_the_window(qtbot: Any, allow: bool) -> None:
    from PySide6.QtWidgets import QMessageBox

    from synthbot_desktop.gui.bridge import run_coro
    from synthbot_desktop.services.tools import event_confirm
    from synthbot_desktop.tools.registry import Tool

    bridge, window = EventBridge(), Window()
    qtbot.addWidget(window)
    tool_status.install(window, bridge)
    ask = event_confirm(bridge.sink, timeout_s=60)
    tool = Tool("open", "Open.", {"type": "object"}, lambda target: None, side_effect=True)
    answers: list[bool] = []
    run_coro(ask(tool, {"target": "https://example.org"}), answers.append)  # the engine loop waits

    def box() -> QMessageBox | None:
        return window.findChild(QMessageBox, "tool_confirm")

    qtbot.waitUntil(lambda: box() is not None and box().isVisible(), timeout=5000)
    assert "https://example.org" in box().informativeText()
    label = "Allow" if allow else "Don't allow"
    (button,) = [b for b in box().buttons() if b.text() == label]
    button.click()
    qtbot.waitUntil(lambda: answers == [allow], timeout=5000)


def test_an_unanswered_question_is_a_refusal() -> None:
    import asyncio

    from synthbot_desktop.services.tools import event_confirm
    from synthbot_desktop.tools.registry import Tool

    asked: list[ev.Event] = []
    ask = event_confirm(asked.append, timeout_s=0.2)
    tool = Tool("forget", "Forget.", {"type": "object"}, lambda id: None, side_effect=True)
    assert asyncio.run(ask(tool, {"id": 3})) is False
    assert isinstance(asked[0], ev.ToolConfirmRequest) and asked[0].name == "forget"


def test_the_real_window_shows_a_fired_timer_under_its_error_banner(gui: Any, qtbot: Any) -> None:
    from synthbot_desktop.gui.widgets.notice_banner import NoticeBanner

    window = gui.window
    window.show()
    _post(gui.bridge, ev.TimerFired("call Anna"))
    banner = window.findChild(NoticeBanner, "notice_banner")
    qtbot.waitUntil(lambda: banner is not None and banner.isVisible(), timeout=5000)
    assert banner.text() == "SynthBot reminder: Time is up: call Anna"
    layout = window.banner.parentWidget().layout()
    assert layout.indexOf(banner) == layout.indexOf(window.banner) + 1
    assert "call Anna" in window.indicator.text()
