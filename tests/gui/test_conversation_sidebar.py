"""The Talk tab's conversation sidebar (#21, "what voice-mode users expect"): recent conversations
newest first, read through History's own list; a click continues one exactly like History's
"Open and continue" (the real app and the fake OpenAI server prove where the next turn goes); open
or closed is kept in ``ui.conversation_sidebar`` and a 700×500 window stays usable."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QThreadPool
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from synthbot_desktop.gui import conversation_actions, conversation_sidebar
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.gui.widgets.conversation_sidebar import TOGGLE_SHORTCUT, activity_text
from synthbot_desktop.pipeline.events import TurnState
from synthbot_desktop.setting_keys import UI_CONVERSATION_SIDEBAR
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import MessageRecord
from tests.gui.conftest import REPLY
from tests.support.recording_talk import RecordingTalk

pytestmark = pytest.mark.gui

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _store(ctx: Any, title: str, when: dt.datetime, question: str = "Hello?", answer: str = "Hi.") -> int:
    with ctx.db.session() as s:
        sid = repo.create_session(s, ctx.user_id, title=title, provider="openai", model="gpt-4o-mini").id
        repo.add_message(s, MessageRecord(session_id=sid, role="user", content=question, created_at=when))
        repo.add_message(s, MessageRecord(session_id=sid, role="assistant", content=answer,
                                          created_at=when + dt.timedelta(seconds=2)))
        return int(sid)




def _window(qtbot: Any, ctx: Any, width: int, height: int = 600) -> tuple[MainWindow, RecordingTalk, EventBridge]:
    talk, bridge = RecordingTalk(), EventBridge()
    w = MainWindow(ctx, talk, bridge)  # type: ignore[arg-type]
    conversation_actions.install(w, bridge)  # as gui.application.build does
    conversation_sidebar.install(w, bridge)
    qtbot.addWidget(w)
    w.resize(width, height)
    w.show()
    qtbot.waitExposed(w)
    return w, talk, bridge


@pytest.fixture
def drained() -> Iterator[None]:
    yield
    QThreadPool.globalInstance().waitForDone(10000)


def test_lists_stored_conversations_newest_first_with_title_and_last_activity(qtbot: Any, ctx: Any,
                                                                             drained: None) -> None:
    old = _store(ctx, "Packing for the trip", NOW - dt.timedelta(days=3))
    newest = _store(ctx, "Ten of clubs", NOW - dt.timedelta(minutes=5))
    middle = _store(ctx, "Soup recipe", NOW - dt.timedelta(hours=30))
    w, _talk, _bridge = _window(qtbot, ctx, 1000)
    bar = w.sidebar
    assert bar.expanded  # "auto" and a wide window: shown
    qtbot.waitUntil(lambda: bar.ids() == [newest, middle, old], timeout=5000)
    assert bar.rows() == [("Ten of clubs", activity_text(NOW - dt.timedelta(minutes=5) + dt.timedelta(seconds=2))),
                          ("Soup recipe", activity_text(NOW - dt.timedelta(hours=30) + dt.timedelta(seconds=2))),
                          ("Packing for the trip", activity_text(NOW - dt.timedelta(days=3) + dt.timedelta(seconds=2)))]
    assert bar.list.item(0).data(Qt.ItemDataRole.AccessibleTextRole).startswith("Ten of clubs, last active ")
    # Keyboard and screen readers: every control has a name, and the list takes focus.
    for widget in (bar.hide_button, bar.show_button, bar.new_button, bar.list):
        assert widget.accessibleName(), widget.objectName()
    assert bar.list.focusPolicy() & Qt.FocusPolicy.TabFocus
    # "New conversation" at the top of the list starts one, as the top bar's button does.
    bar.new_button.click()
    assert ("new_session", None) in _talk.calls and w.session_id is None


def test_a_click_continues_that_conversation_and_the_next_turn_goes_to_it(qtbot: Any, gui: Any,
                                                                          fake_llm: Any) -> None:
    ctx, w = gui.ctx, gui.window
    sid = _store(ctx, "Trivia night", NOW - dt.timedelta(days=2), "Who wrote Hamlet?", "Shakespeare.")
    other = _store(ctx, "Weather", NOW - dt.timedelta(hours=1))
    ctx.settings.set(UI_CONVERSATION_SIDEBAR.name, "open")
    w.sidebar_controller.apply_setting()
    w.show()
    qtbot.waitExposed(w)
    w.sidebar_controller.refresh()
    bar = w.sidebar
    qtbot.waitUntil(lambda: bar.ids()[:2] == [other, sid], timeout=5000)
    item = bar.list.item(1)
    QTest.mouseClick(bar.list.viewport(), Qt.MouseButton.LeftButton, pos=bar.list.visualItemRect(item).center())
    assert w.session_id == sid
    qtbot.waitUntil(lambda: [b.text() for b in w.conversation.bubbles()] == ["Who wrote Hamlet?", "Shakespeare."],
                    timeout=5000)
    assert bar.list.currentItem() is item
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000):
        qtbot.keyClicks(w.input, "And when?")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    asked = [(m["role"], m["content"]) for m in fake_llm.requests[-1].json()["messages"] if m["role"] != "system"]
    assert asked == [("user", "Who wrote Hamlet?"), ("assistant", "Shakespeare."), ("user", "And when?")]
    assert ctx.flush(10)
    with ctx.db.session() as s:
        assert [m.content for m in repo.session_messages(s, sid)][-2:] == ["And when?", REPLY]
    # The conversation just continued moves to the top of the list.
    qtbot.waitUntil(lambda: bar.ids()[:1] == [sid], timeout=5000)


def test_open_or_closed_is_kept_in_a_ui_setting_and_auto_follows_the_width(qtbot: Any, ctx: Any,
                                                                           drained: None) -> None:
    assert ctx.settings.value(UI_CONVERSATION_SIDEBAR) == "auto"
    w, _talk, _bridge = _window(qtbot, ctx, 700, 500)
    bar = w.sidebar
    assert not bar.expanded and bar.show_button.isVisible()  # a small window starts with the room it has
    w.resize(1000, 600)
    qtbot.waitUntil(lambda: bar.expanded, timeout=3000)
    w.resize(700, 500)
    qtbot.waitUntil(lambda: not bar.expanded, timeout=3000)
    bar.show_button.click()  # the person's choice is kept, whatever the width
    assert bar.expanded and ctx.settings.value(UI_CONVERSATION_SIDEBAR) == "open"
    assert w.focusWidget() is bar.list  # opened by the person: ready for the arrow keys
    w.resize(701, 500)
    qtbot.wait(20)
    assert bar.expanded
    # Open at 700×500, the window still fits and the conversation keeps most of the width.
    w.resize(700, 500)
    qtbot.waitUntil(lambda: (w.width(), w.height()) == (700, 500), timeout=3000)
    assert w.minimumSizeHint().width() <= 700 and w.minimumSizeHint().height() <= 500
    qtbot.wait(20)
    assert w.conversation.viewport().width() >= 380 and w.conversation.viewport().height() >= 120
    assert bar.mapTo(w, QPoint(0, 0)).x() >= 0
    # The keyboard shortcut closes it again, and that is kept too.
    w.testing_keys = True
    QTest.keySequence(w, QKeySequence(TOGGLE_SHORTCUT))
    qtbot.waitUntil(lambda: not bar.expanded, timeout=3000)
    assert ctx.settings.value(UI_CONVERSATION_SIDEBAR) == "closed"
    w.close()
    again, _t, _b = _window(qtbot, ctx, 1000)  # a new window (next start) shows it as left
    assert not again.sidebar.expanded
    again.sidebar.show_button.click()
    assert again.sidebar.expanded and ctx.settings.value(UI_CONVERSATION_SIDEBAR) == "open"


def test_a_failed_read_says_so_in_one_line(qtbot: Any, ctx: Any, drained: None, monkeypatch: Any) -> None:
    from synthbot_desktop.errors import DatabaseError
    from synthbot_desktop.services import recent_conversations as recent

    def unreachable(*_a: Any, **_k: Any) -> Any:
        raise DatabaseError("the database is unreachable", hint="check Settings → Database")

    monkeypatch.setattr(recent, "recent_conversations", unreachable)
    w, _talk, _bridge = _window(qtbot, ctx, 1000)
    qtbot.waitUntil(lambda: "unreachable" in w.sidebar.status.text(), timeout=5000)
    assert w.sidebar.status.text().startswith("Conversations unavailable: ") and "\n" not in w.sidebar.status.text()


def test_a_read_that_outlasts_its_window_is_dropped(qtbot: Any, ctx: Any, drained: None, monkeypatch: Any) -> None:
    import threading

    from shiboken6 import delete

    from synthbot_desktop.services import recent_conversations as recent

    release = threading.Event()
    real = recent.recent_conversations

    def slow(*a: Any, **k: Any) -> Any:
        release.wait(5)
        return real(*a, **k)

    talk, bridge = RecordingTalk(), EventBridge()
    w = MainWindow(ctx, talk, bridge)  # type: ignore[arg-type]
    controller = conversation_sidebar.install(w, bridge)
    QThreadPool.globalInstance().waitForDone(5000)  # the window's own start-up reads are done
    qtbot.wait(20)
    monkeypatch.setattr(recent, "recent_conversations", slow)
    controller.refresh()  # under way
    delete(w)  # the window goes (closed at exit, a test's end) before the read answers
    release.set()
    QThreadPool.globalInstance().waitForDone(5000)
    qtbot.wait(20)  # the answer is delivered: nothing is touched (pytest-qt fails on an exception here)
