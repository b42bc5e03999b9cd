"""The conversation follows new messages (issue #21, defect 7): new bubbles and streamed words keep
the bottom in view unless the person scrolled up, no blank area after the last message, and a
conversation opened from History ("Open and continue") shows its latest messages."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QPoint

from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import MessageRecord

pytestmark = pytest.mark.gui

LONG = "This answer is long enough to wrap over several lines in a narrow window, like real replies. " * 3


def _bar(w: Any) -> Any:
    return w.conversation.verticalScrollBar()


def _at_bottom(w: Any) -> bool:
    bar = _bar(w)
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def _blank_below_last(w: Any) -> int:
    view = w.conversation.viewport()
    last = w.conversation.bubbles()[-1]
    bottom = last.mapTo(view, QPoint(0, last.height())).y()
    return view.height() - bottom


def test_follows_new_messages_unless_scrolled_up(qtbot: Any, gui: Any) -> None:
    w = gui.window
    w.resize(760, 560)
    w.show()
    qtbot.waitExposed(w)
    for i in range(12):  # as the engine delivers them: final transcript, streamed reply, done
        gui.bridge.sink(ev.FinalTranscript(f"question {i}", f"t{i}"))
        for word in LONG.split(" "):
            gui.bridge.sink(ev.AssistantDelta(word + " ", f"t{i}"))
        gui.bridge.sink(ev.AssistantDone(LONG, f"t{i}"))
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 24, timeout=5000)
    qtbot.waitUntil(lambda: _at_bottom(w), timeout=5000)
    qtbot.waitUntil(lambda: 0 <= _blank_below_last(w) <= 40, timeout=5000)  # no blank area below it

    # Scrolled up to read: a new message does not pull the view down.
    _bar(w).setValue(0)
    gui.bridge.sink(ev.FinalTranscript("one more", "t99"))
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 25, timeout=5000)
    qtbot.wait(100)  # the layout pass in which a wrong jump would happen
    assert _bar(w).value() == 0
    # Back at the bottom: streaming follows again.
    _bar(w).setValue(_bar(w).maximum())
    for word in LONG.split(" "):
        gui.bridge.sink(ev.AssistantDelta(word + " ", "t99"))
    qtbot.waitUntil(lambda: LONG.strip() in w.conversation.bubbles()[-1].text(), timeout=5000)
    qtbot.waitUntil(lambda: _at_bottom(w) and 0 <= _blank_below_last(w) <= 40, timeout=5000)


def test_open_and_continue_shows_the_latest_messages(qtbot: Any, gui: Any) -> None:
    ctx = gui.ctx
    with ctx.db.session() as s:
        session = repo.create_session(s, ctx.user_id, title="Long one")
        for i in range(15):
            repo.add_message(s, MessageRecord(session_id=session.id, role="user", content=f"question {i}"))
            repo.add_message(s, MessageRecord(session_id=session.id, role="assistant", content=LONG))
        s.commit()
        sid = session.id
    w = gui.window
    w.resize(760, 560)
    w.show()
    qtbot.waitExposed(w)
    w.resume_session(sid)
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 30, timeout=10000)
    qtbot.waitUntil(lambda: _at_bottom(w) and 0 <= _blank_below_last(w) <= 40, timeout=5000)
