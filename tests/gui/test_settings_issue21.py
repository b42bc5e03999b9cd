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


BELLA = "EXAVITQu4vr4xnSDxMaL"


def _catalog(gui: Any) -> None:
    """Two voices in the cached catalog: Rachel (the default voice) and Bella with her own defaults."""
    from synthbot_desktop.storage import voices as vrepo

    with gui.ctx.db.session() as s:
        vrepo.replace_catalog(s, "elevenlabs", [
            vrepo.CatalogVoice("elevenlabs", DEFAULT_VOICE_ID, "Rachel", "premade", {"accent": "american"}),
            vrepo.CatalogVoice("elevenlabs", BELLA, "Bella", "premade", {"accent": "british"},
                               default_settings={"stability": 0.6, "similarity_boost": 0.5}),
        ])


def _sliders(page: Any) -> tuple[float, float]:
    return page.sliders["stability"].value(), page.sliders["similarity_boost"].value()


def test_switching_voices_shows_that_voices_tuning(qtbot: Any, gui: Any) -> None:
    """Defect 4: the sliders follow the voice; Bella is never saved with Rachel's similarity."""
    from synthbot_desktop.storage import voices as vrepo
    from synthbot_desktop.tts import voice_service
    from synthbot_desktop.tts.base import VoiceSettings

    _catalog(gui)
    voice_service.save_preference(gui.ctx, DEFAULT_VOICE_ID, settings=VoiceSettings(stability=0.2,
                                                                                    similarity_boost=0.9))
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    page = d.pages["voice"]
    qtbot.waitUntil(lambda: _sliders(page) == (0.2, 0.9), timeout=5000)
    picker = page.picker
    qtbot.waitUntil(lambda: picker.findData(BELLA) >= 0, timeout=5000)
    picker.setCurrentIndex(picker.findData(BELLA))  # as a person choosing "Bella" does
    qtbot.waitUntil(lambda: _sliders(page) == (0.6, 0.5), timeout=5000)  # Bella's own defaults
    qtbot.mouseClick(page.save_default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Bella" in page.status.text(), timeout=5000)
    with gui.ctx.db.session() as s:
        bella = vrepo.get_preference(s, gui.ctx.user_id, "elevenlabs", BELLA)
    assert bella is not None and (bella.stability, bella.similarity_boost) == (0.6, 0.5)
    # Back to Rachel: hers again, not what was last on screen.
    page.voices.setCurrentRow([page.voices.item(i).data(Qt.ItemDataRole.UserRole)
                               for i in range(page.voices.count())].index(DEFAULT_VOICE_ID))
    qtbot.waitUntil(lambda: _sliders(page) == (0.2, 0.9), timeout=5000)
    assert picker.bound_value() == DEFAULT_VOICE_ID


def test_voices_by_name_and_human_labels(qtbot: Any, gui: Any) -> None:
    """Defect 11: pickers with names (no free "Voice id" field), messages with names, labels for raw values."""
    from PySide6.QtWidgets import QLineEdit

    _catalog(gui)
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    page = d.pages["voice"]
    assert not isinstance(page.binder.editors["tts.elevenlabs.voice_id"], QLineEdit)
    qtbot.waitUntil(lambda: page.picker.currentText().startswith("Rachel"), timeout=5000)
    assert page.picker.bound_value() == DEFAULT_VOICE_ID
    qtbot.mouseClick(page.save_default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status.text().startswith("Saved"), timeout=5000)
    assert page.status.text() == "Saved the tuning of Rachel as your default."
    assert DEFAULT_VOICE_ID not in page.status.text()

    engine = page.binder.editors["tts.engine"]
    assert engine.currentText().startswith("Automatic") and page.binder.value("tts.engine") == "auto"
    providers = d.pages["providers"]
    answer = providers.binder.editors["llm.provider"]
    texts = [answer.itemText(i) for i in range(answer.count())]
    assert "Ollama (local)" in texts and "ollama" not in texts
    providers.binder.set_value("llm.provider", "ollama")
    assert answer.currentText() == "Ollama (local)" and providers.binder.value("llm.provider") == "ollama"
    audio = d.pages["audio"]
    mode = audio.binder.editors["audio.mode"]
    assert "hands_free" not in [mode.itemText(i) for i in range(mode.count())]
    mode.setCurrentIndex(mode.findData("push_to_talk"))
    assert mode.currentText().startswith("Push to talk")
    assert d.apply(), d.problems.text()
    assert gui.ctx.settings.get("audio.mode") == "push_to_talk"  # the raw value is what is stored


def test_persona_voice_is_picked_by_name_and_unknown_ids_are_refused(qtbot: Any, gui: Any) -> None:
    """Defect 11: a persona accepted "Rachel" typed as an id; now voices are picked, unknown ids refused."""
    from synthbot_desktop.storage import personas as prepo

    _catalog(gui)
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    page = d.pages["personas"]
    picker = page.voice_edit
    assert not picker.isEditable()
    qtbot.waitUntil(lambda: picker.findData(BELLA) >= 0, timeout=5000)
    page.name_edit.setText("Narrator")
    page._mark()
    picker.setCurrentIndex(picker.findData(BELLA))
    assert d.apply(), d.problems.text()
    qtbot.waitUntil(lambda: "Narrator" in page.status.text(), timeout=5000)
    with gui.ctx.db.session() as s:
        saved = [p for p in prepo.list_personas(s, gui.ctx.user_id) if p.name == "Narrator"]
    assert saved and saved[0].voice_id == BELLA

    # An old persona whose "voice id" is a name: shown as not in the list, and refused on save.
    page.show_persona(prepo.PersonaData(name="Old", system_prompt="Hi.", voice_id="Rachel"))
    assert "not in your voice list" in picker.currentText()
    page._mark()
    assert not d.apply()
    assert "“Rachel” is not one of your ElevenLabs voices" in d.problems.text()


def test_preview_says_playing_and_can_be_stopped(qtbot: Any, gui: Any, fake_el: Any) -> None:
    """Defect 15: "Playing…" while the sample plays (not "Synthesising…"), and the button stops it."""
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    d.show()
    d.show_page("voice")
    page = d.pages["voice"]
    button = page.preview_button
    width = button.width()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert button.text() == "■ Stop"
    qtbot.waitUntil(lambda: page.status.text().startswith("Playing…"), timeout=20000)
    assert button.width() == width  # the neighbours do not move
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status.text().startswith("Stopped after"), timeout=5000)
    assert button.text() == "▶ Preview" and button.hasFocus()
    played, total = (float(x) for x in page.status.text().removeprefix("Stopped after ").split(" s")[0]
                     .split(" of "))
    assert played < total
