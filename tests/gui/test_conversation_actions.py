"""Regenerate, ratings and latency in the real app (fake OpenAI and ElevenLabs servers, the real
turn engine and SQLite): Regenerate re-runs the last question through the service's turn path
without the old answer in the model's context; Good/Bad land in the rating storage History uses
(#17) and come back when the conversation is opened again, with its tool rows (#16)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.pipeline.events import TurnState
from synthbot_desktop.services.history import export_document
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import MessageRecord
from tests.gui.conftest import REPLY

pytestmark = pytest.mark.gui


def _ask(qtbot: Any, gui: Any, text: str) -> Any:
    w = gui.window
    w.show()
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as done:
        qtbot.keyClicks(w.input, text)
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    return done.args[0]


def _ratings(gui: Any) -> dict[int, int]:
    with gui.ctx.db.session() as s:
        ids = [m.id for m in repo.session_messages(s, gui.window.session_id)]
        return {k: r.rating for k, r in meta.ratings_for(s, ids).items()}


def test_regenerate_reruns_the_last_question_without_the_old_answer(qtbot: Any, gui: Any, fake_llm: Any) -> None:
    w = gui.window
    first = _ask(qtbot, gui, "What is the famous line?")
    assert first.message_uid  # the stored reply's uid reaches the window
    reply = w.conversation.bubbles()[-1]
    qtbot.waitUntil(lambda: "s to first sound" in reply.meta.text(), timeout=5000)  # the turn's own timing
    qtbot.waitUntil(reply.regenerate_button.isVisible, timeout=3000)
    sent_before = len(fake_llm.requests)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as again:
        reply.regenerate_button.click()
    assert again.args[0].text == REPLY and again.args[0].message_uid != first.message_uid
    messages = fake_llm.requests[-1].json()["messages"]
    assert len(fake_llm.requests) == sent_before + 1
    assert [m for m in messages if m["role"] != "system"] == [{"role": "user", "content": "What is the famous line?"}]
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    assert [(b.role, b.text()) for b in w.conversation.bubbles()] == [
        ("user", "What is the famous line?"), ("assistant", REPLY)]
    # The next question has the regenerated answer (once) in its context.
    _ask(qtbot, gui, "And who said it?")
    context = [m["role"] for m in fake_llm.requests[-1].json()["messages"] if m["role"] != "system"]
    assert context == ["user", "assistant", "user"]


def test_good_and_bad_from_the_talk_window_use_historys_rating_storage(qtbot: Any, gui: Any) -> None:
    w = gui.window
    _ask(qtbot, gui, "What is the famous line?")
    reply = w.conversation.bubbles()[-1]
    qtbot.waitUntil(reply.good_button.isVisible, timeout=3000)
    reply.good_button.click()  # rated seconds after the turn: the recorder may still be writing
    # Stored, and the job's answer is back on the GUI thread (the bubble learns its message id).
    qtbot.waitUntil(lambda: list(_ratings(gui).values()) == [1] and reply.message_id is not None, timeout=10000)
    assert reply.good_button.isChecked()
    reply.bad_button.click()
    qtbot.waitUntil(lambda: _ratings(gui) == {reply.message_id: -1}, timeout=10000)
    assert reply.bad_button.isChecked() and not reply.good_button.isChecked()
    with gui.ctx.db.session() as s:  # the same rating History shows and exports
        doc = export_document(s, w.session_id, gui.ctx.user_id)
    assert [m["rating"]["rating"] for m in doc["messages"] if "rating" in m] == [-1]


def test_opened_conversation_shows_ratings_times_and_collapsed_tool_rows(qtbot: Any, gui: Any) -> None:
    ctx = gui.ctx
    with ctx.db.session() as s:
        sid = repo.create_session(s, ctx.user_id, provider="openai", model="gpt-4o-mini").id
        repo.add_message(s, MessageRecord(session_id=sid, role="user", content="What time is it?"))
        repo.add_message(s, MessageRecord(session_id=sid, role="tool", content="14:05", provider="tool",
                                          model="get_time", timings={"tool": {
                                              "name": "get_time", "call_id": "c1", "arguments": "{}",
                                              "is_error": False}}))
        answer = repo.add_message(s, MessageRecord(session_id=sid, role="assistant", content="It is **14:05**.",
                                                   timings={"first_token": 420.0, "first_sample_played": 910.0}))
        meta.rate(s, ctx.user_id, answer.id, 1)
    w = gui.window
    w.resume_session(sid)
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 2, timeout=5000)
    user, reply = w.conversation.bubbles()
    assert reply.good_button.isChecked() and reply.message_id == answer.id
    assert reply.meta.text().endswith("0.91 s to first sound") and user.meta.text()
    rows = w.conversation.tool_rows()
    assert [r.title() for r in rows] == ["Used tool: get_time"] and not rows[0].expanded()
    assert reply.regenerate_button.isVisibleTo(reply)  # the last reply of an opened conversation too
