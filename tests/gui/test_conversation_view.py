"""The Talk window's conversation view (#21 "what voice-mode users expect", #17, #16): Markdown
replies, times and latency on the bubbles, Copy / Regenerate / Good-Bad, collapsed tool rows.

Widget-level with a recording TalkService and the real bridge (fast); the turn path and the
storage behind Regenerate and the ratings run for real in test_conversation_actions.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QThreadPool, QUrl
from PySide6.QtGui import QFont, QFontDatabase, QGuiApplication, QTextCursor, QTextFormat
from PySide6.QtTest import QTest

from synthbot_desktop.gui import conversation_actions
from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.gui.widgets.conversation import Bubble, ConversationView, clock_text, latency_text
from synthbot_desktop.pipeline import events as ev
from tests.support.recording_talk import RecordingTalk

pytestmark = pytest.mark.gui

LONG_CODE = "print('" + "x" * 240 + "')"
MARKDOWN = (f"Use **bold** words and a [guide](https://example.com/guide).\n\n```python\n{LONG_CODE}\n```\n\n"
            "- first\n- second\n")




@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Iterator[tuple[MainWindow, RecordingTalk, EventBridge]]:
    talk, bridge = RecordingTalk(), EventBridge()
    w = MainWindow(ctx, talk, bridge)  # type: ignore[arg-type]
    conversation_actions.install(w, bridge)  # as gui.application.build does
    qtbot.addWidget(w)
    w.resize(700, 560)
    w.show()
    yield w, talk, bridge
    QThreadPool.globalInstance().waitForDone(10000)


def _turn(qtbot: Any, bridge: EventBridge, w: MainWindow, turn: str, question: str, answer: str,
          timings: dict[str, float] | None = None) -> Bubble:
    bridge.sink(ev.FinalTranscript(question, turn))
    for piece in (answer[: len(answer) // 2], answer[len(answer) // 2:]):
        bridge.sink(ev.AssistantDelta(piece, turn))
    bridge.sink(ev.AssistantDone(answer, turn, full_text=answer, message_uid=f"uid-{turn}"))
    bridge.sink(ev.TurnTimings(turn, timings or {}))
    bridge.sink(ev.StateChanged(ev.TurnState.IDLE, turn))
    qtbot.waitUntil(lambda: (b := w.conversation.bubble_for_turn(turn)) is not None and b.text() == answer,
                    timeout=3000)
    bubble = w.conversation.bubble_for_turn(turn)
    assert bubble is not None
    return bubble


def _fragments(bubble: Bubble) -> list[Any]:
    assert bubble.reply is not None
    out = []
    block = bubble.reply.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            out.append((block, it.fragment()))
            it += 1
        block = block.next()
    return out


# 1. Markdown ----------------------------------------------------------------------------------
def test_reply_renders_markdown_with_qt_and_long_code_is_never_cut(qtbot: Any) -> None:
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(460, 600)
    view.show()
    view.add_user("show me **not markdown**")
    bubble = view.finish_assistant("t1", MARKDOWN)
    assert bubble.text() == MARKDOWN  # the source, as the model wrote it (copy, storage, tests)
    frags = _fragments(bubble)
    bold = [f.text() for _b, f in frags if f.charFormat().fontWeight() >= QFont.Weight.Bold]
    assert bold == ["bold"]
    assert [b.text() for b, _f in frags if b.textList() is not None] == ["first", "second"]
    code = [(b, f) for b, f in frags if b.text() == LONG_CODE]
    assert code and code[0][0].blockFormat().stringProperty(QTextFormat.Property.BlockCodeLanguage) == "python"
    fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    assert code[0][1].charFormat().font().family() == fixed  # a code block in the fixed-width font
    assert bubble.reply is not None and bubble.reply.links() == ["https://example.com/guide"]
    user = view.bubbles()[0]
    assert user.text() == "show me **not markdown**" and user.reply is None  # what the person said: plain

    # The long code line wraps inside the bubble: nothing past the view's right edge, no hidden part.
    reply = bubble.reply

    def fits() -> bool:
        right = bubble.mapTo(view.viewport(), QPoint(bubble.width(), 0)).x()
        return (right <= view.viewport().width() and reply.horizontalScrollBar().maximum() == 0
                and reply.height() >= reply.heightForWidth(reply.width()) > 4 * reply.fontMetrics().height())

    qtbot.waitUntil(fits, timeout=3000)
    line = reply.document().findBlock(reply.document().find(LONG_CODE[:20]).position())
    assert line.layout().lineCount() > 1  # wrapped, not a single line cut at the edge


def test_links_open_in_the_browser_only_when_clicked(qtbot: Any) -> None:
    view = ConversationView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    opened: list[str] = []
    bubble = view.append_assistant("t1", "See [the guide](https://example.com/guide) or [this](javascript:alert(1)).")
    assert bubble.reply is not None
    reply = bubble.reply
    reply.open_url = lambda url: opened.append(url.toString())
    qtbot.waitUntil(lambda: reply.isVisible() and reply.width() > 100 and reply.rendered(), timeout=3000)
    assert opened == []  # showing a link opens nothing

    def click(word: str) -> None:
        cursor = reply.document().find(word)
        cursor.setPosition(cursor.selectionStart() + 2, QTextCursor.MoveMode.MoveAnchor)
        QTest.mouseClick(reply.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         reply.cursorRect(cursor).center())

    click("guide")
    assert opened == ["https://example.com/guide"]
    click("this")  # not a web link: inert
    assert opened == ["https://example.com/guide"]
    assert reply.markdown().startswith("See [the guide]") and reply.source() == QUrl()  # never navigated


# 2. Timestamps and latency --------------------------------------------------------------------
def test_bubbles_show_time_and_the_turns_own_latency(qtbot: Any, window: Any) -> None:
    w, _talk, bridge = window
    spoken = _turn(qtbot, bridge, w, "t1", "hello", "Hi there.",
                   {"speech_end": 0.0, "first_token": 310.0, "first_sample_played": 620.4, "done": 1900.0})
    now = clock_text(dt.datetime.now().astimezone())
    qtbot.waitUntil(lambda: "0.62 s to first sound" in spoken.meta.text(), timeout=3000)
    assert spoken.meta.text().startswith(now[:2])  # "14:05 · 0.62 s to first sound"
    assert w.conversation.bubbles()[0].meta.text() == clock_text(w.conversation.bubbles()[0].when)
    text_only = _turn(qtbot, bridge, w, "t2", "again", "Once more.", {"speech_end": 0.0, "first_token": 480.0})
    qtbot.waitUntil(lambda: "0.48 s to first word" in text_only.meta.text(), timeout=3000)
    nothing = _turn(qtbot, bridge, w, "t3", "and", "No timings.", {})
    qtbot.wait(20)
    assert nothing.meta.text() == clock_text(nothing.when)  # no number invented


def test_latency_and_clock_text() -> None:
    assert latency_text({"first_sample_played": 1234.0, "first_token": 10.0}) == "1.23 s to first sound"
    assert latency_text({"first_token": 655.2}) == "0.66 s to first word"
    assert latency_text({"done": 900.0}) is None and latency_text({"first_token": True}) is None
    today = dt.datetime(2026, 12, 2, 9, 5, tzinfo=dt.UTC)
    assert clock_text(today, now=today) == today.astimezone().strftime("%H:%M")
    assert clock_text(today - dt.timedelta(days=3), now=today).startswith("29 Nov")


# 3. Copy, Regenerate, rating ------------------------------------------------------------------
def test_copy_and_regenerate_only_the_last_reply(qtbot: Any, window: Any) -> None:
    w, talk, bridge = window
    first = _turn(qtbot, bridge, w, "t1", "what is markdown", MARKDOWN)
    qtbot.waitUntil(first.regenerate_button.isVisible, timeout=3000)
    assert first.copy_button.isVisible() and first.good_button.isVisible() and first.bad_button.isVisible()
    first.copy_button.click()
    assert QGuiApplication.clipboard().text() == MARKDOWN  # the source: code fences survive a paste
    second = _turn(qtbot, bridge, w, "t2", "say it shorter", "Text with *style*.")
    qtbot.waitUntil(lambda: second.regenerate_button.isVisible() and not first.regenerate_button.isVisible(),
                    timeout=3000)
    assert first.copy_button.isVisible()

    talk.calls.clear()
    first.regenerate_button.click()  # hidden, but a stale click must not redo an older reply
    assert talk.calls == []
    second.regenerate_button.click()
    assert talk.calls == [("regenerate", ("say it shorter",))]
    assert second not in w.conversation.bubbles()
    # The engine echoes the question as the new turn's transcript: it is not shown twice.
    _turn(qtbot, bridge, w, "t3", "say it shorter", "Shorter.")
    assert [(b.role, b.text()) for b in w.conversation.bubbles()] == [
        ("user", "what is markdown"), ("assistant", MARKDOWN), ("user", "say it shorter"), ("assistant", "Shorter.")]


def test_no_regenerate_while_a_turn_runs(qtbot: Any, window: Any) -> None:
    w, talk, bridge = window
    _turn(qtbot, bridge, w, "t1", "hello", "Hi.")
    bridge.sink(ev.StateChanged(ev.TurnState.THINKING, "t2"))
    qtbot.waitUntil(lambda: w.state == ev.TurnState.THINKING, timeout=3000)
    talk.calls.clear()
    assert not w.regenerate_last()
    assert talk.calls == [] and len(w.conversation.bubbles()) == 2


# 4. Tool rows ---------------------------------------------------------------------------------
def test_tool_calls_show_as_collapsed_rows_above_the_reply(qtbot: Any, window: Any) -> None:
    w, _talk, bridge = window
    secret = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    bridge.sink(ev.FinalTranscript("what time is it", "t1"))
    bridge.sink(ev.AssistantDelta("Let me check. ", "t1"))
    bridge.sink(ev.ToolCalled("get_time", "t1", "c1", '{"zone": "Europe/Lisbon"}'))
    qtbot.waitUntil(lambda: len(w.conversation.tool_rows()) == 1, timeout=3000)
    row = w.conversation.tool_rows()[0]
    assert row.title() == "Using tool: get_time…"
    bridge.sink(ev.ToolDone("get_time", "t1", "c1", False, '{"zone": "Europe/Lisbon"}',
                            f"14:05 (clipboard had {secret})"))
    bridge.sink(ev.AssistantDelta("It is 14:05.", "t1"))
    bridge.sink(ev.AssistantDone("Let me check. It is 14:05.", "t1"))
    qtbot.waitUntil(lambda: row.title() == "Used tool: get_time", timeout=3000)
    assert not row.details.isVisible() and len(w.conversation.bubbles()) == 2  # collapsed; not a bubble
    reply = w.conversation.bubbles()[1]
    column = w.conversation.widget().layout()
    assert column.indexOf(row) < column.indexOf(reply.parentWidget())  # between question and answer
    qtbot.waitUntil(lambda: row.toggle.isVisible() and row.toggle.width() > 20, timeout=3000)
    qtbot.mouseClick(row.toggle, Qt.MouseButton.LeftButton)
    assert row.details.isVisible() and row.expanded()
    assert '"zone": "Europe/Lisbon"' in row.details.text() and "14:05" in row.details.text()
    assert secret not in row.details.text()  # redacted on screen
    bridge.sink(ev.ToolDone("open_url", "t1", "c2", True, "{}", "refused by the user"))
    qtbot.waitUntil(lambda: len(w.conversation.tool_rows()) == 2, timeout=3000)
    assert w.conversation.tool_rows()[1].title() == "Tool failed: open_url"
    w.new_session()
    assert w.conversation.tool_rows() == []


def test_a_rating_that_cannot_be_stored_is_undone_and_said(qtbot: Any, window: Any) -> None:
    w, _talk, bridge = window
    bridge.sink(ev.FinalTranscript("hello", "t1"))
    bridge.sink(ev.AssistantDone("Hi.", "t1"))  # no stored message (no recorder): nothing to rate
    qtbot.waitUntil(lambda: w.conversation.bubble_for_turn("t1") is not None, timeout=3000)
    reply = w.conversation.bubble_for_turn("t1")
    assert reply is not None
    qtbot.waitUntil(reply.good_button.isVisible, timeout=3000)
    reply.good_button.click()
    qtbot.waitUntil(lambda: not w.banner.isHidden(), timeout=5000)
    assert w.banner.text().startswith("could not rate the reply: this reply was not stored")
    assert not reply.good_button.isChecked() and reply.rating == 0  # what is shown is what is stored
