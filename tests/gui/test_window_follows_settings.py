"""The main window follows Settings at once (issue #21, defect 5): the switchers show what was
chosen in the Settings dialog and the next turn goes to that provider and speaks with that voice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import REPLY
from tests.support.fake_llm import start_fake_llm

pytestmark = pytest.mark.gui

OLLAMA_REPLY = "This is Ollama answering."
OTHER_VOICE = "FAKEvoice000000000002"  # "My Cloned Voice" in the fake's catalog


@pytest.fixture
def ollama_first(gui_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Ollama answers by default (the built-in default); OpenAI is the other, reachable, choice."""
    server = start_fake_llm("ollama", OLLAMA_REPLY)
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", server.url)
    monkeypatch.delenv("SYNTHBOT_SET__LLM__PROVIDER")
    yield server
    server.stop()


@pytest.fixture
def app(qtbot: Any, ollama_first: Any) -> Iterator[Any]:
    from synthbot_desktop.gui.application import build
    from synthbot_desktop.pipeline.memory_output import MemoryOutput

    gui = build(output_factory=lambda _ctx: MemoryOutput(realtime=False))
    qtbot.addWidget(gui.window)
    yield gui
    gui.close()


def _posts(server: Any) -> int:
    return sum(1 for r in server.requests if r.method == "POST")


def _say(qtbot: Any, gui: Any, text: str) -> Any:
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000) as done:
        qtbot.keyClicks(gui.window.input, text)
        qtbot.keyClick(gui.window.input, Qt.Key.Key_Return)
    return done.args[0]


def test_provider_and_voice_chosen_in_settings_reach_switchers_and_next_turn(
        qtbot: Any, app: Any, ollama_first: Any, fake_llm: Any, fake_el: Any) -> None:
    w = app.window
    assert w.provider_box.currentData() == "ollama"
    assert _say(qtbot, app, "hello").text == OLLAMA_REPLY  # the conversation is under way
    # The person picked a voice in the switcher earlier; a later choice in Settings still wins.
    w.voice_box.setCurrentIndex(w.voice_box.findData("piper:" + app.ctx.settings.get_str("tts.piper.voice")))

    dialog = app.open_settings("providers")
    dialog.pages["providers"].binder.set_value("llm.provider", "openai")
    dialog.pages["voice"].binder.set_value("tts.engine", "elevenlabs")
    dialog.pages["voice"].binder.set_value("tts.elevenlabs.voice_id", OTHER_VOICE)
    assert dialog.apply(), dialog.problems.text()
    dialog.close()

    qtbot.waitUntil(lambda: w.provider_box.currentData() == "openai", timeout=5000)
    assert w.model_box.currentText() == app.ctx.settings.get_str("providers.openai.model")
    qtbot.waitUntil(lambda: w.voice_box.currentData() == f"elevenlabs:{OTHER_VOICE}", timeout=10000)

    ollama_calls, el_streams = _posts(ollama_first), len(fake_el.state.streams)
    assert _say(qtbot, app, "and now?").text == REPLY  # OpenAI's fake answered
    assert _posts(ollama_first) == ollama_calls and _posts(fake_llm) == 1
    spoke = {s.voice_id for s in fake_el.state.streams[el_streams:]}
    assert spoke == {OTHER_VOICE}, spoke  # the voice shown is the voice that speaks


def test_unrelated_settings_keep_the_switchers_picks(qtbot: Any, app: Any) -> None:
    """Saving, say, an audio setting must not undo a voice the person just picked in the window."""
    w = app.window
    piper = "piper:" + app.ctx.settings.get_str("tts.piper.voice")
    qtbot.waitUntil(lambda: w.voice_box.findData(piper) >= 0, timeout=5000)
    w.voice_box.setCurrentIndex(w.voice_box.findData(piper))
    app.ctx.settings.update({"audio.silence_ms": 900})
    qtbot.wait(300)  # the queued settings news and any voice read it would start
    qtbot.waitUntil(lambda: app.talk.voice is not None and app.talk.voice.key == piper, timeout=5000)
    assert w.voice_box.currentData() == piper
