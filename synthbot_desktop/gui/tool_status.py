"""The window's "running <tool>" state, side-effect questions and timer alerts, hooked onto the
bridge in one line.

Kept out of ``main_window.py`` on purpose (its layout is changed elsewhere): :func:`install` listens
to the bridge's ``anyEvent`` and writes into the window's state indicator, so a slow tool shows
"running get_weather…" instead of a silent "Thinking", and a fired timer is shown and alerted.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox

from synthbot_desktop.pipeline import events as ev


def install(window: Any, bridge: Any) -> None:
    """Connect the tool events to ``window.indicator`` (a StateIndicator)."""
    indicator = window.indicator

    def on_event(event: Any) -> None:
        if isinstance(event, ev.ToolRunning):
            indicator.setText(f"● running {event.name}…")
            indicator.setAccessibleName(f"State: running {event.name}")
        elif isinstance(event, ev.ToolDone):
            indicator.set_state(indicator.state)  # back to what the turn is doing
        elif isinstance(event, ev.ToolConfirmRequest):
            ask(event)
        elif isinstance(event, ev.TimerFired):
            indicator.setText(f"⏰ {event.label}")
            indicator.setAccessibleName(f"Timer: {event.label}")
            QApplication.alert(window)

    def ask(event: ev.ToolConfirmRequest) -> None:
        """Non-modal question: the window keeps painting; closing it without Allow is a no."""
        box = QMessageBox(QMessageBox.Icon.Question, "Allow this action?",
                          f"The assistant wants to use {event.name}.", parent=window)
        box.setObjectName("tool_confirm")
        box.setInformativeText(event.arguments)
        allow = box.addButton("Allow", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Don't allow", QMessageBox.ButtonRole.RejectRole)
        box.finished.connect(lambda _r: event.answer(box.clickedButton() is allow))
        box.open()

    bridge.anyEvent.connect(on_event)
