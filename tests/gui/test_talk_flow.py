"""Talk flow driven through the UI: typed and spoken turns against the fake OpenAI and ElevenLabs
servers, the real turn engine, real Whisper on a recorded utterance, rows in the database."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from synthbot_desktop.pipeline.events import TurnState
from synthbot_desktop.storage import repositories as repo
from tests.gui.conftest import REPLY, RecordedMic

pytestmark = pytest.mark.gui


def _messages(gui: Any) -> list[tuple[str, str, bool]]:
    with gui.ctx.db.session() as s:
        return [(m.role, m.content, bool(m.interrupted)) for m in repo.session_messages(s, gui.window.session_id)]


def test_typed_turn_streams_reply_speaks_and_stores(qtbot: Any, gui: Any, fake_llm: Any, fake_el: Any) -> None:
    w = gui.window
    deltas: list[str] = []
    gui.bridge.assistantDelta.connect(lambda e: deltas.append(e.text))
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as done:
        qtbot.keyClicks(w.input, "What is the famous line?")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    assert done.args[0].text == REPLY and not done.args[0].interrupted
    assert len(deltas) > 1, "the reply must stream in pieces"
    bubbles = w.conversation.bubbles()
    assert [(b.role, b.text()) for b in bubbles] == [("user", "What is the famous line?"), ("assistant", REPLY)]
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    qtbot.waitUntil(lambda: bool(bubbles[1].toolTip()), timeout=5000)
    assert "first token" in bubbles[1].toolTip()  # per-turn timing tooltip
    # The LLM got the user's words; the speech went to ElevenLabs and was "played".
    sent = fake_llm.requests[-1].json()
    assert sent["messages"][-1] == {"role": "user", "content": "What is the famous line?"}
    assert fake_el.state.streams and all(s.status == 200 for s in fake_el.state.streams)
    assert "".join(s.body["text"] for s in fake_el.state.streams).replace(" ", "") == REPLY.replace(" ", "")
    assert gui.outputs and len(gui.outputs[0].pcm()) > 0
    gui.ctx.recorder.flush()
    # A new session is created with its first message: the window learns its id once that is stored.
    qtbot.waitUntil(lambda: gui.window.session_id is not None, timeout=5000)
    assert _messages(gui) == [("user", "What is the famous line?", False), ("assistant", REPLY, False)]


def test_provider_error_shows_banner_with_settings_action(qtbot: Any, gui: Any, memory_keyring: Any) -> None:
    memory_keyring.set_password("synthbot-desktop", "openai", "sk-wrong")
    fake = gui.window
    # The fake accepts any bearer token, so make the failure real: point OpenAI at a closed port.
    gui.ctx.settings._env_values["providers.openai.base_url"] = "http://127.0.0.1:9/v1"
    opened: list[str] = []
    fake.settingsRequested.connect(opened.append)
    with qtbot.waitSignal(gui.bridge.error, timeout=20000):
        qtbot.keyClicks(fake.input, "hello")
        qtbot.keyClick(fake.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not fake.banner.isHidden(), timeout=3000)
    assert "openai" in fake.banner.text().lower() and "could not be reached" in fake.banner.text()
    assert fake.input.isEnabled()  # never frozen, never modal


@pytest.mark.slow
def test_push_to_talk_with_recorded_utterance(qtbot: Any, gui: Any, jfk_samples: Any, fake_llm: Any) -> None:
    """Hold Space while the recording plays into the capture layer, release, get the answer."""
    import numpy as np

    mic = RecordedMic(np.concatenate([jfk_samples, np.zeros(8000, dtype=np.float32)]), speed=8.0)
    gui.talk._mic_factory = lambda _ctx: mic
    w = gui.window
    w.set_hands_free(False)
    states: list[TurnState] = []
    gui.bridge.stateChanged.connect(lambda e: states.append(e.state))
    levels: list[float] = []
    gui.bridge.inputLevel.connect(lambda r, p: levels.append(r))
    w.talk_page.setFocus()
    QApplication.sendEvent(w, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    qtbot.waitUntil(lambda: getattr(mic, "finished", False), timeout=20000)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=60000):
        QApplication.sendEvent(w, QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier))
    user = w.conversation.bubbles()[0]
    assert user.role == "user"
    text = user.text().lower()
    assert "ask not what your country can do for you" in text
    assert TurnState.HEARING in states and TurnState.TRANSCRIBING in states and TurnState.SPEAKING in states
    assert max(levels) > -40  # the meter saw speech
    sent = fake_llm.requests[-1].json()["messages"][-1]["content"].lower()
    assert "ask not what your country" in sent
    gui.ctx.recorder.flush()
    # A new session is created with its first message: the window learns its id once that is stored.
    qtbot.waitUntil(lambda: gui.window.session_id is not None, timeout=5000)
    roles = [m[0] for m in _messages(gui)]
    assert roles == ["user", "assistant"]
