"""The switcher shows the voice the service will speak with: the same rule (services.voice)."""

from __future__ import annotations

from typing import Any

import pytest

from synthbot_desktop.services.voice import VoiceChoice
from synthbot_desktop.storage import voices as voice_repo

pytestmark = pytest.mark.gui


def test_auto_without_key_shows_the_configured_piper_voice(qtbot: Any, gui: Any, memory_keyring: Any) -> None:
    from synthbot_desktop.gui.main_window import MainWindow

    memory_keyring.delete_password("synthbot-desktop", "elevenlabs")
    gui.ctx.settings._env_values["tts.piper.voice"] = "amy-us"
    window = MainWindow(gui.ctx, gui.talk, gui.bridge)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.voice_box.currentData() == "piper:amy-us", timeout=5000)
    window.close()


def test_default_preference_voice_is_shown(qtbot: Any, gui: Any) -> None:
    from synthbot_desktop.gui.main_window import MainWindow

    with gui.ctx.db.session() as s:
        voice_repo.save_preference(s, gui.ctx.user_id, voice_repo.VoicePreference(voice_id="v-mine", is_default=True))
    window = MainWindow(gui.ctx, gui.talk, gui.bridge)
    qtbot.addWidget(window)
    key = VoiceChoice("elevenlabs", "v-mine").key
    qtbot.waitUntil(lambda: window.voice_box.currentData() == key, timeout=5000)
    assert "v-mine" in window.voice_box.currentText()
    window.close()
