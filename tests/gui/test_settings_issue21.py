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


def _active(qtbot: Any, d: SettingsDialog) -> None:
    d.show()
    qtbot.waitExposed(d)
    d.activateWindow()
    qtbot.waitUntil(d.isActiveWindow, timeout=5000)


def test_focus_stays_on_the_button_after_test_key_test_connection_and_migrate(
        qtbot: Any, dialog: SettingsDialog, gui: Any) -> None:
    """Defect 13: a disabled-while-working button handed the focus on (after Migrate to "Restore
    Defaults", so Enter would reset the page)."""
    from PySide6.QtWidgets import QDialogButtonBox

    _active(qtbot, dialog)
    restore = dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
    providers = dialog.pages["providers"]
    button = providers.test_buttons["openai"]
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)  # the keyboard user's way
    assert button.hasFocus()
    qtbot.waitUntil(lambda: providers.status.text() == "OpenAI: key works.", timeout=10000)
    assert button.hasFocus() and button.text() == "Test key"

    dialog.show_page("database")
    db = dialog.pages["database"]
    for b, outcome in ((db.test_button, "Connected to"), (db.migrate_button, "Schema of")):
        b.setFocus()
        qtbot.keyClick(b, Qt.Key.Key_Space)
        assert b.hasFocus(), f"{b.text()} lost the focus while working"
        qtbot.waitUntil(lambda o=outcome: db.status.text().startswith(o), timeout=20000)
        assert b.hasFocus() and not restore.hasFocus()


def test_focus_ring_is_visible_and_controls_have_accessible_names(qtbot: Any, dialog: SettingsDialog,
                                                                   gui: Any) -> None:
    """Defect 13: a visible focus ring; every bound field and main control has an accessible name."""
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QPushButton

    _active(qtbot, dialog)
    dialog.show_page("database")
    db = dialog.pages["database"]
    highlight = dialog.palette().highlight().color()

    def ring_pixels(b: QPushButton) -> int:
        img = b.grab().toImage()
        return sum(QColor(img.pixel(x, y)) == highlight for y in range(img.height()) for x in range(img.width()))

    db.test_button.setFocus()
    qtbot.waitUntil(db.test_button.hasFocus, timeout=2000)
    focused = ring_pixels(db.test_button)
    db.migrate_button.setFocus()
    qtbot.waitUntil(db.migrate_button.hasFocus, timeout=2000)
    assert ring_pixels(db.test_button) == 0 and focused > 2 * db.test_button.width()  # a ring all around

    for page in dialog.pages.values():
        assert page.accessibleName()
        for key, editor in page.binder.editors.items():
            assert editor.accessibleName(), f"{page.name}: {key} has no accessible name"
    voice = dialog.pages["voice"]
    for w in (voice.picker, voice.voices, voice.search, voice.preview_button, *(s.slider for s in voice.sliders.values())):
        assert w.accessibleName()
    personas = dialog.pages["personas"]
    assert personas.voice_edit.accessibleName() == "Voice" and personas.name_edit.accessibleName()
    assert dialog.pages["providers"].key_inputs["openai"].accessibleName() == "OpenAI API key"


def test_saved_messages_clear_on_the_next_edit_and_after_a_while(qtbot: Any, dialog: SettingsDialog, gui: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 14: "Saved." went stale — it stayed while new, unsaved edits were made."""
    from synthbot_desktop.gui.settings import base

    _active(qtbot, dialog)
    dialog.show_page("audio")
    audio = dialog.pages["audio"]
    assert dialog.apply() and dialog.problems.text() == "Saved."
    barge = audio.binder.editors["audio.barge_in"]
    barge.setFocus()
    qtbot.keyClick(barge, Qt.Key.Key_Space)  # a new edit, not saved yet
    assert dialog.problems.text() == ""
    monkeypatch.setattr(base, "TRANSIENT_MS", 300)
    assert dialog.apply() and dialog.problems.text() == "Saved."
    qtbot.waitUntil(lambda: dialog.problems.text() == "", timeout=5000)
    # Errors stay until they are dealt with.
    dialog.pages["providers"].binder.set_value("providers.ollama.base_url", "localhost:11434")
    assert not dialog.apply()
    qtbot.wait(600)
    assert dialog.problems.text().startswith("Not saved")


def test_level_meter_is_smoothed() -> None:
    """Defect 14: 50 ms speech levels jump between full and empty; the Audio page's bar falls back
    gradually (rises stay instant, so a sound shows at once)."""
    from synthbot_desktop.gui.settings.audio_page import METER_RELEASE_S
    from synthbot_desktop.gui.widgets.level_meter import LevelMeter, level_fraction

    meter = LevelMeter(release_s=METER_RELEASE_S)
    meter.set_level(-6.0, -3.0)
    assert meter.rms == pytest.approx(level_fraction(-6.0))  # instant rise
    shown = []
    for _ in range(6):  # a word, a gap, a word... at the block rate
        meter._level_at -= 0.05
        meter.set_level(-60.0, -60.0)
        shown.append(meter.rms)
        meter._level_at -= 0.05
        meter.set_level(-6.0, -3.0)
    assert min(shown) > 0.6 * level_fraction(-6.0), shown  # never drops to empty between blocks
    raw = LevelMeter()
    raw.set_level(-6.0, -3.0)
    raw.set_level(-60.0, -60.0)
    assert raw.rms == 0.0  # the main window's meter is unchanged (opt-in)


@pytest.mark.audio
def test_audio_page_names_devices_keeps_its_layout_and_test_becomes_stop(qtbot: Any, dialog: SettingsDialog,
                                                                          virtual_audio: Any) -> None:
    """Defect 14: "pulse"/"default" were listed as devices; "Test microphone" never became "Stop";
    the page jumped as results arrived."""
    _active(qtbot, dialog)
    dialog.show_page("audio")
    page = dialog.pages["audio"]
    mode = page.binder.editors["audio.mode"]

    def geometry() -> list[tuple[int, int, int, int]]:
        out = []
        for w in (page.input_box, page.mic_button, page.tone_button, page.meter, mode):
            top = w.mapTo(page, w.rect().topLeft())
            out.append((top.x(), top.y(), w.width(), w.height()))
        return out

    qtbot.waitUntil(lambda: "microphones" in page.status.text(), timeout=15000)
    before = geometry()
    texts = [page.input_box.itemText(i) for i in range(page.input_box.count())]
    assert not {"pulse", "default", ""} & set(texts), texts
    assert texts[0] == "System default — VirtualMic"  # the sound server's default source, by name
    assert page.binder.value("audio.input_device") == ""  # stored value unchanged: the default
    outputs = [page.output_box.itemText(i) for i in range(page.output_box.count())]
    assert outputs[0] == "System default — VirtualSpeaker"

    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert page.mic_button.text() == "■ Stop" and page.mic_button.isChecked()
    qtbot.waitUntil(lambda: page._stream is not None, timeout=15000)
    qtbot.waitUntil(lambda: page.status.text().startswith("Speak"), timeout=5000)
    assert geometry() == before
    qtbot.mouseClick(page.mic_button, Qt.MouseButton.LeftButton)
    assert page.mic_button.text() == "Test microphone" and page._stream is None
    assert geometry() == before


def test_speech_page_offers_the_offline_models_and_a_language_choice(qtbot: Any, dialog: SettingsDialog,
                                                                     gui: Any) -> None:
    """Issue #19 leftover: the model list is stt.models.MODEL_CHOICES (incl. "multilingual" with its
    size), not a hard-coded list of models the app never downloads; the language is auto or fixed."""
    from synthbot_desktop.stt.models import MODEL_CHOICES, MULTILINGUAL_SIZE

    page = dialog.pages["stt"]
    models = page.binder.editors["stt.model"]
    assert tuple(models.itemData(i) for i in range(models.count())) == MODEL_CHOICES
    multi = models.itemText(models.findData("multilingual"))
    assert multi.startswith("Multilingual") and f"{MULTILINGUAL_SIZE / 1e6:.0f} MB" in multi
    languages = page.binder.editors["stt.language"]
    assert languages.itemData(0) == "auto" and languages.itemText(0).startswith("Detect automatically")
    assert languages.itemText(languages.findData("fr")) == "French (fr)"
    page.binder.set_value("stt.language", "fr")
    assert "English only" in page.note.text()  # tiny.en with French: say what to do
    page.binder.set_value("stt.model", "multilingual")
    qtbot.waitUntil(lambda: page._multilingual is not None, timeout=5000)
    assert "English only" not in page.note.text()
    assert dialog.apply(), dialog.problems.text()
    assert (gui.ctx.settings.get("stt.model"), gui.ctx.settings.get("stt.language")) == ("multilingual", "fr")


def test_catalog_refresh_goes_through_the_catalog_service_to_every_listener(qtbot: Any, dialog: SettingsDialog,
                                                                            gui: Any, fake_el: Any) -> None:
    """Issue #13 leftover: "Refresh from ElevenLabs" runs services.voice_catalog on the engine loop; the
    pickers of this context (Voice page, Personas page) and the window's switcher hear it."""
    from synthbot_desktop.services.voice_catalog import voice_catalog

    heard: list[int] = []
    unsubscribe = voice_catalog(gui.ctx).subscribe(lambda c: heard.append(len(c)))
    try:
        page = dialog.pages["voice"]
        qtbot.mouseClick(page.refresh_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.status.text() == "2 voices.", timeout=10000)
    finally:
        unsubscribe()
    assert heard == [2]
    rachel = "FAKEvoice000000000001"
    assert page.picker.findData(rachel) >= 0
    personas = dialog.pages["personas"].voice_edit
    qtbot.waitUntil(lambda: personas.findData(rachel) >= 0, timeout=5000)
    assert personas.itemText(personas.findData(rachel)).startswith("Rachel")
    box = gui.window.voice_box
    qtbot.waitUntil(lambda: box.findData(f"elevenlabs:{rachel}") >= 0, timeout=5000)
    assert box.itemText(box.findData(f"elevenlabs:{rachel}")) == "ElevenLabs — Rachel"


def test_a_stored_voice_missing_from_the_catalog_is_reported_not_blocking(qtbot: Any, gui: Any) -> None:
    """The Voice page names a stored voice the catalog lacks, without blocking Apply of every page."""
    from synthbot_desktop.storage import voices as vrepo

    with gui.ctx.db.session() as s:
        vrepo.replace_catalog(s, "elevenlabs", [vrepo.CatalogVoice("elevenlabs", BELLA, "Bella")])
    gui.ctx.settings.update({"tts.elevenlabs.voice_id": "gone-voice-1234567"})
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    page = d.pages["voice"]
    qtbot.waitUntil(lambda: "is not one of your ElevenLabs voices" in page.status.text(), timeout=5000)
    assert "(not in your voice list)" in page.picker.currentText()
    assert d.apply(), d.problems.text()
    assert gui.ctx.settings.get("tts.elevenlabs.voice_id") == "gone-voice-1234567"  # kept, not lost
