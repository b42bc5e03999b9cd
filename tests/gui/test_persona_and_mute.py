"""Persona picker and mute button in the main window (issue #21, defect 12 and the voice-mode list)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.pipeline.events import TurnState
from synthbot_desktop.storage import personas as prepo
from synthbot_desktop.storage.personas import PersonaData
from tests.gui.conftest import RecordedMic

pytestmark = pytest.mark.gui

PIRATE = "You are a pirate. Answer like one."
PIRATE_VOICE = "FAKEvoice000000000002"


def _save(gui: Any, data: PersonaData) -> int:
    with gui.ctx.db.session() as s:
        saved = prepo.save_persona(s, gui.ctx.user_id, data)
        s.commit()
    assert saved.id is not None
    return saved.id


def test_persona_chosen_in_the_window_answers_with_its_prompt_model_and_voice(
        qtbot: Any, gui: Any, fake_llm: Any, fake_el: Any) -> None:
    from synthbot_desktop.gui.main_window import MainWindow

    w = gui.window
    pirate = _save(gui, PersonaData(name="Pirate", system_prompt=PIRATE, model="gpt-4.1-nano",
                                    voice_id=PIRATE_VOICE))
    w.refresh_personas()
    qtbot.waitUntil(lambda: w.persona_box.findData(pirate) > 0, timeout=5000)
    assert w.persona_box.currentText() == "No persona"
    w.persona_box.setCurrentIndex(w.persona_box.findData(pirate))
    qtbot.waitUntil(lambda: w.voice_box.currentData() == f"elevenlabs:{PIRATE_VOICE}", timeout=5000)
    qtbot.waitUntil(lambda: w.model_box.currentText() == "gpt-4.1-nano", timeout=5000)
    streams = len(fake_el.state.streams)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000):
        qtbot.keyClicks(w.input, "Who are you?")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    sent = fake_llm.requests[-1].json()
    assert sent["model"] == "gpt-4.1-nano"
    assert sent["messages"][0]["role"] == "system" and PIRATE in sent["messages"][0]["content"]
    assert {s.voice_id for s in fake_el.state.streams[streams:]} == {PIRATE_VOICE}

    # Back to no persona: the settings' prompt and the default voice again.
    w.persona_box.setCurrentIndex(0)
    qtbot.waitUntil(lambda: w.voice_box.currentData() != f"elevenlabs:{PIRATE_VOICE}", timeout=5000)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000):
        qtbot.keyClicks(w.input, "And now?")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    system = fake_llm.requests[-1].json()["messages"][0]
    assert PIRATE not in system.get("content", "")

    # A default persona is chosen when the window opens.
    with gui.ctx.db.session() as s:
        prepo.set_default_persona(s, gui.ctx.user_id, pirate)
        s.commit()
    fresh = MainWindow(gui.ctx, gui.talk, gui.bridge)
    qtbot.addWidget(fresh)
    qtbot.waitUntil(lambda: fresh.persona_box.currentData() == pirate, timeout=5000)
    fresh.close()


@pytest.mark.slow
def test_mute_button_silences_the_microphone(qtbot: Any, gui: Any, jfk_samples: Any) -> None:
    mic = RecordedMic(np.concatenate([jfk_samples, np.zeros(16000, dtype=np.float32)]), speed=2.0)
    gui.talk._mic_factory = lambda _ctx: mic
    w = gui.window
    w.set_hands_free(False)
    levels: list[float] = []
    gui.bridge.inputLevel.connect(lambda rms, peak: levels.append(peak))
    w.mute_button.click()
    assert w.mute_button.isChecked() and w.mute_button.text() == "Unmute"
    assert "muted" in w.indicator.text()
    w.begin_push_to_talk()  # speaking (the recording plays) while muted
    qtbot.waitUntil(lambda: len(levels) >= 100, timeout=60000)  # 2 s of blocks
    assert max(levels) < -100, max(levels)  # all silence: the speech never got through
    w.mute_button.click()
    assert not w.mute_button.isChecked() and "muted" not in w.indicator.text()
    qtbot.waitUntil(lambda: max(levels[100:], default=-200) > -30, timeout=20000)  # heard again
    qtbot.waitUntil(lambda: getattr(mic, "finished", False), timeout=60000)
    with qtbot.waitSignal(gui.bridge.finalTranscript, timeout=90000) as final:
        w.end_push_to_talk()
    heard = final.args[0].text.lower()
    # The words said while muted (the first ~4 s: "And so my fellow Americans") never reached Whisper.
    assert "your country" in heard and "fellow" not in heard, heard


def test_push_to_talk_on_a_silent_microphone_makes_no_turn(qtbot: Any, gui: Any, fake_llm: Any) -> None:
    """A digitally silent take (muted, dead device) is no turn: Whisper would invent words in it."""
    mic = RecordedMic(np.zeros(16000 * 2, dtype=np.float32), speed=4.0)
    gui.talk._mic_factory = lambda _ctx: mic
    w = gui.window
    w.set_hands_free(False)
    states: list[Any] = []
    gui.bridge.stateChanged.connect(lambda e: states.append(e.state))
    w.begin_push_to_talk()
    qtbot.waitUntil(lambda: getattr(mic, "finished", False), timeout=60000)
    qtbot.waitUntil(lambda: gui.talk._ptt_blocks is not None and len(gui.talk._ptt_blocks) > 20, timeout=10000)
    w.end_push_to_talk()
    qtbot.waitUntil(lambda: gui.talk._ptt_blocks is None and "Ready" in w.indicator.text(), timeout=20000)
    assert not any(r.method == "POST" for r in fake_llm.requests) and w.conversation.bubbles() == []
    assert TurnState.TRANSCRIBING not in states, states  # silence is not even given to Whisper to "hear"
