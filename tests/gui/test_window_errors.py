"""A failed turn in the real window (issue #21, defect 6): the error note in the reply bubble wraps
inside a narrow window, the banner offers "Open settings" and "Retry", and the state says Error."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt

from tests.gui.conftest import REPLY

pytestmark = pytest.mark.gui


def test_failed_turn_wraps_offers_settings_and_retry_and_shows_error(qtbot: Any, gui: Any) -> None:
    w = gui.window
    w.resize(700, 500)
    w.show()
    good_url = gui.ctx.settings.get_str("providers.openai.base_url")  # the fake
    gui.ctx.settings._env_values["providers.openai.base_url"] = "http://127.0.0.1:9/v1/a/long/path/" + "x" * 60
    opened: list[str] = []
    w.settingsRequested.connect(opened.append)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000) as done:
        qtbot.keyClicks(w.input, "hello")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    assert done.args[0].error
    qtbot.waitUntil(lambda: "Error" in w.indicator.text(), timeout=10000)
    assert "Ready" not in w.indicator.text() and w.talk_button.text() == "Try again"

    # The bubble with the error note fits the view: nothing is cut at the right edge.
    bubble = w.conversation.bubbles()[-1]
    qtbot.waitUntil(lambda: bubble.note.isVisible(), timeout=5000)
    view = w.conversation.viewport()

    def fits() -> bool:
        right = bubble.mapTo(view, QPoint(bubble.width(), 0)).x()
        return right <= view.width() and w.conversation.widget().width() <= view.width()

    qtbot.waitUntil(fits, timeout=5000)  # after the layout pass that follows the note
    assert (w.width(), w.height()) == (700, 500)  # the long URL in the banner did not widen the window
    qtbot.waitUntil(lambda: bubble.note.height() > bubble.note.fontMetrics().height(), timeout=5000)  # wrapped

    # The banner: where to fix it, and try again.
    assert not w.banner.isHidden()
    assert w.banner.action_button.isVisible() and w.banner.action_button.text() == "Open settings"
    assert w.banner.retry_button.isVisible()
    w.banner.action_button.click()
    assert opened == ["providers"]

    # Fixed in Settings; Retry sends the same words again and the answer comes.
    gui.ctx.settings._env_values["providers.openai.base_url"] = good_url
    w.follow_settings({"providers.openai.base_url"})
    w.banner.show_error("again", retry=True)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000) as again:
        w.banner.retry_button.click()
    assert again.args[0].text == REPLY and not again.args[0].error
    assert [b.text() for b in w.conversation.bubbles() if b.role == "user"] == ["hello", "hello"]
    qtbot.waitUntil(lambda: "Ready" in w.indicator.text(), timeout=10000)


def test_an_unexpected_exception_in_the_window_is_a_banner_and_an_error_row(qtbot: Any, gui: Any) -> None:
    """Issue #14: a bug in a slot on the GUI thread is shown in the banner (redacted), filed in
    error_logs and logged with its traceback; the window stays open. Without the hook, PySide6
    printed the traceback on stderr and the person saw nothing."""
    import sys

    from PySide6.QtCore import QTimer
    from sqlalchemy import select

    from synthbot_desktop.gui import crash
    from synthbot_desktop.redaction import register_secret
    from synthbot_desktop.services import error_reports
    from synthbot_desktop.storage.models import ErrorLog

    secret = "s3ntinel-GUI-0815"
    register_secret(secret)
    w = gui.window
    w.show()

    def boom() -> None:
        raise RuntimeError(f"a bug that mentions {secret}\nsecond line")

    error_reports.bind(gui.ctx)
    before = sys.excepthook
    restore = crash.install_exception_hook(w)
    try:
        QTimer.singleShot(0, boom)
        qtbot.waitUntil(lambda: w.banner.isVisible(), timeout=10000)
    finally:
        restore()
    assert sys.excepthook is before
    text = w.banner.text()
    assert text.startswith("unexpected problem: RuntimeError: a bug that mentions") and secret not in text, text
    assert "second line" not in text and w.isVisible()

    def rows() -> list[str]:
        with gui.ctx.db.session() as s:
            return [e.message for e in s.scalars(select(ErrorLog).where(ErrorLog.source == "gui.banner"))]

    try:
        qtbot.waitUntil(lambda: any("unexpected problem" in r for r in rows()), timeout=10000)
    finally:
        assert error_reports.flush(10)
        error_reports.bind(None)
    assert not any(secret in r for r in rows())
