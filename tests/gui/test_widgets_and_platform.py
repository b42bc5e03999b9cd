"""Main-window behaviour with a recording TalkService (no engine), and the global-shortcut adapter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt, QThreadPool
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from synthbot_desktop.gui.bridge import EventBridge
from synthbot_desktop.gui.main_window import MainWindow, format_timings
from synthbot_desktop.gui.widgets.level_meter import level_fraction
from synthbot_desktop.pipeline import events as ev
from tests.support.recording_talk import RecordingTalk

pytestmark = pytest.mark.gui




@pytest.fixture
def window(qtbot: Any, ctx: Any) -> Iterator[tuple[MainWindow, RecordingTalk, EventBridge]]:
    talk, bridge = RecordingTalk(), EventBridge()
    w = MainWindow(ctx, talk, bridge)  # type: ignore[arg-type]
    qtbot.addWidget(w)
    w.testing_keys = True  # offscreen windows are never 'active'
    yield w, talk, bridge
    QThreadPool.globalInstance().waitForDone(10000)  # its DB jobs end before ctx closes


def _key(w: MainWindow, kind: QEvent.Type, key: Qt.Key = Qt.Key.Key_Space, repeat: bool = False) -> None:
    QApplication.sendEvent(w, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, "", repeat))


def test_push_to_talk_key_and_hands_free(window: Any) -> None:
    w, talk, _ = window
    w.set_hands_free(False)  # from the default hands-free mode: switching it off stops listening
    assert talk.calls == [("stop_listening", None)]
    talk.calls.clear()
    _key(w, QEvent.Type.KeyPress)
    _key(w, QEvent.Type.KeyPress, repeat=True)  # auto-repeat while held: ignored
    _key(w, QEvent.Type.KeyRelease)
    assert [c[0] for c in talk.calls] == ["start_listening", "stop_listening"]
    assert talk.calls[0][1] == {"hands_free": False}
    talk.calls.clear()
    w.hands_free_box.setChecked(True)
    w.talk_button.click()
    assert talk.calls == [("start_listening", {"hands_free": True})]


def test_events_render_stream_state_timings_and_errors(qtbot: Any, window: Any) -> None:
    w, talk, bridge = window
    bridge.sink(ev.StateChanged(ev.TurnState.HEARING))
    bridge.sink(ev.InputLevel(-20.0, -6.0))
    bridge.sink(ev.PartialTranscript("what is"))
    bridge.sink(ev.FinalTranscript("what is the time", "t1"))
    bridge.sink(ev.StateChanged(ev.TurnState.SPEAKING, "t1"))
    for piece in ("It is ", "half ", "past three."):
        bridge.sink(ev.AssistantDelta(piece, "t1"))
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 2, timeout=3000)
    qtbot.waitUntil(lambda: w.conversation.bubbles()[1].text() == "It is half past three.", timeout=3000)
    assert w.conversation.bubbles()[0].text() == "what is the time"  # partial replaced by final
    assert w.stop_button.isEnabled() and w.indicator.state == ev.TurnState.SPEAKING
    assert w.meter.rms == pytest.approx(level_fraction(-20.0))
    w.stop_button.click()
    assert talk.calls[-1][0] == "interrupt"
    bridge.sink(ev.TurnTimings("t1", {"transcript_ready": 410.0, "first_token": 655.2}))
    bridge.sink(ev.AssistantDone("It is half", "t1", interrupted=True, full_text="It is half past three."))
    bridge.sink(ev.StateChanged(ev.TurnState.IDLE))
    qtbot.waitUntil(lambda: w.conversation.bubbles()[1].note.text() == "interrupted", timeout=3000)
    assert w.conversation.bubbles()[1].text() == "It is half"
    assert "first token: 655 ms" in w.conversation.bubbles()[1].toolTip()
    assert not w.stop_button.isEnabled()

    opened: list[str] = []
    w.settingsRequested.connect(opened.append)
    bridge.sink(ev.ErrorEvent("openai rejected the API key", hint="replace it", action="open_settings:providers"))
    qtbot.waitUntil(lambda: not w.banner.isHidden(), timeout=3000)
    assert w.banner.text() == "openai rejected the API key — replace it"
    assert w.banner.action_button.text() == "Open settings"
    w.banner.action_button.click()
    assert opened == ["providers"] and w.banner.isHidden()


def test_switchers_and_sessions_reach_the_service(window: Any) -> None:
    w, talk, _ = window
    w.provider_box.setCurrentIndex(w.provider_box.findData("anthropic"))
    assert ("configure", {"provider": "anthropic", "model": "claude-3-5-haiku-latest"}) in talk.calls
    w.voice_box.setCurrentIndex(0)
    w.voice_box.setCurrentIndex(1)
    from synthbot_desktop.services.voice import VoiceChoice

    assert any(c == ("configure", {"voice": VoiceChoice.parse(w.voice_box.itemData(1))}) for c in talk.calls)
    w.new_button.click()
    assert talk.calls[-1][0] == "new_session" and w.conversation.bubbles() == []


def test_format_timings() -> None:
    assert format_timings({"first_token": 655.2, "note": "x", "skip": None}) == "first token: 655 ms\nnote: x"


def test_withdrawn_turn_leaves_the_conversation(qtbot) -> None:  # type: ignore[no-untyped-def]
    from synthbot_desktop.gui.widgets.conversation import ConversationView

    view = ConversationView()
    qtbot.addWidget(view)
    kept = view.add_user("What is the weather")
    kept.setProperty("turn_id", "t1")
    view.finish_assistant("t1", "Sunny.").setProperty("turn_id", "t1")
    piece = view.add_user("And so my fellow Americans")
    piece.setProperty("turn_id", "t2")
    view.append_assistant("t2", "Well")
    assert view.remove_turn("t2") == 2
    assert [b.text() for b in view.bubbles()] == ["What is the weather", "Sunny."]
    assert view.remove_turn("nope") == 0
