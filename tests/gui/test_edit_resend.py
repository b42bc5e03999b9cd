"""Edit-and-resend on the last question (#21, "what voice-mode users expect").

The real app with the fake OpenAI server proves what the model receives: the edited question in
place of the old one, never both. The window-level rules (only the last question, not while a
turn runs, Esc cancels, an edit overtaken by a new turn is sent as a new message) run against a
recording TalkService and the real bridge, which is fast."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt, QThreadPool

from synthbot_desktop.gui import conversation_actions
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.pipeline.events import TurnState
from tests.gui.conftest import REPLY
from tests.support.recording_talk import RecordingTalk

pytestmark = pytest.mark.gui

QUESTION = "What is the famous line?"
EDITED = "Who first said the famous line?"


def _ask(qtbot: Any, gui: Any, text: str) -> Any:
    w = gui.window
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as done:
        qtbot.keyClicks(w.input, text)
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    return done.args[0]


def _asked(fake_llm: Any) -> list[tuple[str, str]]:
    return [(m["role"], m["content"]) for m in fake_llm.requests[-1].json()["messages"] if m["role"] != "system"]


def test_edited_question_replaces_the_last_one_in_the_models_context(qtbot: Any, gui: Any, fake_llm: Any) -> None:
    w = gui.window
    w.show()
    _ask(qtbot, gui, QUESTION)
    question = w.conversation.last_question()
    assert question is not None and question.text() == QUESTION
    assert question.edit_button.isVisibleTo(w) and question.edit_button.isEnabled()
    sent_before = len(fake_llm.requests)

    question.edit_button.click()
    assert w.input.text() == QUESTION and w.input.hasFocus() and w.edit_notice.isVisibleTo(w)
    w.input.setText(EDITED)
    # While the edited turn runs, the Edit of the new last question is disabled (read at each state).
    while_running: list[bool] = []

    def on_state(event: ev.StateChanged) -> None:
        last = w.conversation.last_question()
        if event.state in (TurnState.THINKING, TurnState.SPEAKING) and last is not None:
            while_running.append(last.edit_button.isEnabled())

    gui.bridge.stateChanged.connect(on_state)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as again:
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    gui.bridge.stateChanged.disconnect(on_state)

    assert again.args[0].text == REPLY
    assert len(fake_llm.requests) == sent_before + 1  # one request: the edit, not the old question again
    assert _asked(fake_llm) == [("user", EDITED)]
    assert [(b.role, b.text()) for b in w.conversation.bubbles()] == [("user", EDITED), ("assistant", REPLY)]
    assert while_running and not any(while_running)
    assert not w.edit_notice.isVisibleTo(w) and w.input.text() == ""
    last = w.conversation.last_question()
    assert last is not None and last.edit_button.isEnabled()
    # The next question carries the edited exchange once, and the old question never.
    _ask(qtbot, gui, "And when?")
    assert _asked(fake_llm) == [("user", EDITED), ("assistant", REPLY), ("user", "And when?")]


# Window rules (recording service) -------------------------------------------------------------


@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Iterator[tuple[MainWindow, RecordingTalk, EventBridge]]:
    talk, bridge = RecordingTalk(), EventBridge()
    w = MainWindow(ctx, talk, bridge)  # type: ignore[arg-type]
    conversation_actions.install(w, bridge)
    qtbot.addWidget(w)
    w.resize(700, 560)
    w.show()
    yield w, talk, bridge
    QThreadPool.globalInstance().waitForDone(10000)


def _turn(qtbot: Any, bridge: EventBridge, w: MainWindow, turn: str, question: str) -> None:
    bridge.sink(ev.StateChanged(ev.TurnState.THINKING, turn))
    bridge.sink(ev.FinalTranscript(question, turn))
    bridge.sink(ev.AssistantDone("Sure.", turn, full_text="Sure.", message_uid=f"uid-{turn}"))
    bridge.sink(ev.StateChanged(ev.TurnState.IDLE, turn))
    qtbot.waitUntil(lambda: w.state == ev.TurnState.IDLE and w.conversation.bubble_for_turn(turn) is not None,
                    timeout=3000)


def _sent(talk: RecordingTalk) -> list[tuple[str, Any]]:
    return [c for c in talk.calls if c[0] in ("send_text", "resend_edited", "regenerate")]


def test_only_the_last_question_offers_edit_and_never_while_a_turn_runs(qtbot: Any, window: Any) -> None:
    w, talk, bridge = window
    _turn(qtbot, bridge, w, "t1", "first question")
    _turn(qtbot, bridge, w, "t2", "second question")
    first, _, second, _ = w.conversation.bubbles()
    assert not first.edit_button.isVisibleTo(first) and second.edit_button.isVisibleTo(second)
    assert second.edit_button.accessibleName()
    bridge.sink(ev.StateChanged(ev.TurnState.HEARING, "t3"))
    qtbot.waitUntil(lambda: not second.edit_button.isEnabled(), timeout=3000)
    assert not w.edit_last(second) and w.input.text() == ""
    bridge.sink(ev.StateChanged(ev.TurnState.IDLE, "t3"))
    qtbot.waitUntil(second.edit_button.isEnabled, timeout=3000)
    assert not w.edit_last(first)  # an older question: not the one to redo
    assert w.edit_last(second) and w.input.text() == "second question"
    qtbot.keyClick(w.input, Qt.Key.Key_Escape)  # Esc leaves the edit; nothing is sent
    assert w.input.text() == "" and not w.edit_notice.isVisibleTo(w)
    qtbot.keyClicks(w.input, "a new message")
    qtbot.keyClick(w.input, Qt.Key.Key_Return)
    assert _sent(talk) == [("send_text", ("a new message",))]
    assert [b.text() for b in w.conversation.bubbles()][-1] == "a new message"


def test_edit_sends_old_and_new_text_and_a_turn_in_between_makes_it_a_new_message(qtbot: Any, window: Any) -> None:
    w, talk, bridge = window
    _turn(qtbot, bridge, w, "t1", "how far is the moon")
    assert w.edit_last()
    w.input.setText("how far is the sun")
    w.send_button.click()
    assert _sent(talk) == [("resend_edited", ("how far is the moon", "how far is the sun"))]
    assert [(b.role, b.text()) for b in w.conversation.bubbles()] == [("user", "how far is the sun")]
    # An edit overtaken by a spoken turn (hands-free) no longer replaces anything.
    bridge.sink(ev.AssistantDone("Far.", "t2", full_text="Far."))
    bridge.sink(ev.StateChanged(ev.TurnState.IDLE, "t2"))
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 2, timeout=3000)
    assert w.edit_last()
    _turn(qtbot, bridge, w, "t3", "something said meanwhile")
    w.input.setText("edited too late")
    w.send_button.click()
    assert _sent(talk)[-1] == ("send_text", ("edited too late",))
    assert [b.text() for b in w.conversation.bubbles()][-3:] == ["something said meanwhile", "Sure.", "edited too late"]
