"""The window's "running <tool>" state, side-effect questions and timer alerts, hooked onto the
bridge in one line.

Kept out of ``main_window.py`` on purpose (its layout is changed elsewhere): :func:`install` listens
to the bridge's ``anyEvent`` and writes into the window's state indicator, so a slow tool shows
"running get_weather…" instead of a silent "Thinking", and a fired timer is shown in the indicator
and as a desktop notification (the tray's message, or a banner in the window: ``gui/notifier.py``).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QMessageBox

from synthbot_desktop.gui.notifier import Notifier
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.services.notifications import clean_label, timer_notice


def install(window: Any, bridge: Any) -> Notifier:
    """Connect the tool events to ``window.indicator`` (a StateIndicator) and the notifier
    (returned: it shows timers through the window's tray icon, ``window._tray``, or its banner)."""
    indicator = window.indicator
    notifier = Notifier(window, getattr(window, "_tray", None))

    def on_event(event: Any) -> None:
        if isinstance(event, ev.ToolRunning):
            indicator.setText(f"● running {event.name}…")
            indicator.setAccessibleName(f"State: running {event.name}")
        elif isinstance(event, ev.ToolDone):
            indicator.set_state(indicator.state)  # back to what the turn is doing
        elif isinstance(event, ev.ToolConfirmRequest):
            ask(event)
        elif isinstance(event, ev.Preparing):
            if event.done >= event.total:
                indicator.set_state(indicator.state)
            else:
                pct = 100 * event.done // max(event.total, 1)
                indicator.setText(f"● preparing {event.what}… {pct} %")
                indicator.setAccessibleName(f"State: preparing {event.what}, {pct} percent")
        elif isinstance(event, ev.TimerFired):
            label = clean_label(event.label)
            indicator.setText(f"⏰ {label}")
            indicator.setAccessibleName(f"Timer: {label}")
            notifier.notify(timer_notice(event.label))

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
    return notifier
