"""Issue #21, settings side: what is saved in Settings reaches the turns; the Voice page shows the
tuning of the voice it shows; names instead of ids; focus; feedback that does not go stale."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.gui.settings.dialog import SettingsDialog
from tests.support.fake_elevenlabs import DEFAULT_VOICE_ID

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot: Any, gui: Any) -> SettingsDialog:
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    return d


def _turn(qtbot: Any, gui: Any, text: str) -> None:
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000):
        gui.window.input.setText(text)
        gui.window.send_typed()


def test_tuning_saved_after_a_turn_reaches_the_next_turns(qtbot: Any, dialog: SettingsDialog, gui: Any,
                                                          fake_el: Any) -> None:
    """Defect 3: the window keeps its speech provider between turns; tuning saved later must still
    be sent (it used to be only Preview that sent it)."""
    _turn(qtbot, gui, "Hello")
    assert "voice_settings" not in fake_el.state.streams[-1].body  # nothing saved yet
    page = dialog.pages["voice"]
    dialog.show_page("voice")
    assert page.current_voice_id() == DEFAULT_VOICE_ID
    page.sliders["stability"].set_value(0.20)
    qtbot.mouseClick(page.save_default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "as your default" in page.status.text(), timeout=5000)
    seen = len(fake_el.state.streams)
    _turn(qtbot, gui, "Hello again")
    sent = fake_el.state.streams[seen:]
    assert sent and all(s.voice_id == DEFAULT_VOICE_ID for s in sent)
    assert all(s.body["voice_settings"]["stability"] == pytest.approx(0.20) for s in sent)
