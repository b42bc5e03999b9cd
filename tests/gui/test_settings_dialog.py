"""Settings round trips: keys into the keyring (fingerprint in the DB), fields into the settings file,
voice sliders into stored preferences and the voice_settings sent to ElevenLabs, policy locks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import Settings
from synthbot_desktop.gui.settings.dialog import SettingsDialog
from synthbot_desktop.keystore import fingerprint
from synthbot_desktop.storage.models import ApiConfiguration
from tests.support.fake_elevenlabs import DEFAULT_VOICE_ID

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot: Any, gui: Any) -> SettingsDialog:
    d = SettingsDialog(gui.ctx)
    qtbot.addWidget(d)
    return d


def test_provider_key_set_test_and_remove(qtbot: Any, dialog: SettingsDialog, gui: Any, memory_keyring: Any,
                                          fake_llm: Any) -> None:
    page = dialog.pages["providers"]
    qtbot.waitUntil(lambda: page.key_status["anthropic"].text() == "no key", timeout=5000)
    assert page.key_status["openai"].text() == f"✓ {fingerprint('sk-test-openai-0000')}"
    assert page.key_inputs["openai"].echoMode() == page.key_inputs["openai"].EchoMode.Password

    page.key_inputs["anthropic"].setText("sk-ant-new-key-1234")
    assert dialog.apply()
    qtbot.waitUntil(lambda: memory_keyring.get_password("synthbot-desktop", "anthropic") == "sk-ant-new-key-1234",
                    timeout=5000)
    qtbot.waitUntil(lambda: page.key_status["anthropic"].text().startswith("✓ sha256:"), timeout=5000)
    assert page.key_inputs["anthropic"].text() == ""  # never kept on screen
    with gui.ctx.db.session() as s:
        row = s.query(ApiConfiguration).filter_by(provider="anthropic").one()
        assert row.key_fingerprint == fingerprint("sk-ant-new-key-1234")
    settings_text = gui.ctx.paths.settings_file.read_text() if gui.ctx.paths.settings_file.exists() else ""
    assert "sk-ant-new-key" not in settings_text

    # "Test key" talks to the (fake) provider off the GUI thread.
    qtbot.mouseClick(page.test_buttons["openai"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.status.text() == "OpenAI: key works.", timeout=10000)
    assert any(r.path.endswith("/models") for r in fake_llm.requests)

    # Models from the provider's own list.
    qtbot.mouseClick(dialog.findChild(type(page.test_buttons["openai"]), "load_models_openai"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.model_boxes["openai"].count() == 2, timeout=10000)

    qtbot.mouseClick(page.remove_buttons["anthropic"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: memory_keyring.get_password("synthbot-desktop", "anthropic") is None, timeout=5000)
    qtbot.waitUntil(lambda: page.key_status["anthropic"].text() == "no key", timeout=5000)


def test_fields_round_trip_into_settings_file_and_validation(qtbot: Any, dialog: SettingsDialog, gui: Any) -> None:
    audio = dialog.pages["audio"]
    audio.binder.set_value("audio.silence_ms", 850)
    audio.binder.set_value("audio.barge_in", False)
    stt = dialog.pages["stt"]
    stt.binder.set_value("stt.language", "de")
    assert dialog.apply(), dialog.problems.text()
    fresh = Settings.load()
    assert fresh.get("audio.silence_ms") == 850 and fresh.get("audio.barge_in") is False
    assert fresh.get("stt.language") == "de"

    providers = dialog.pages["providers"]
    providers.binder.set_value("providers.ollama.base_url", "localhost:11434")
    assert not dialog.apply()
    assert "providers.ollama.base_url must start with http://" in dialog.problems.text()
    assert Settings.load().get("providers.ollama.base_url") == "http://127.0.0.1:11434"  # nothing half-applied

    audio.restore_defaults()
    providers.binder.set_value("providers.ollama.base_url", "http://127.0.0.1:11434")
    assert dialog.apply()
    assert Settings.load().get("audio.silence_ms") == 600


def test_voice_sliders_to_preferences_to_sent_voice_settings(qtbot: Any, dialog: SettingsDialog, gui: Any,
                                                             fake_el: Any) -> None:
    page = dialog.pages["voice"]
    dialog.show_page("voice")
    assert page.current_voice_id() == DEFAULT_VOICE_ID
    page.sliders["stability"].slider.setValue(30)  # the slider drives the number box
    assert page.sliders["stability"].spin.value() == pytest.approx(0.30)
    page.sliders["similarity_boost"].spin.setValue(0.9)  # and the number box drives the slider
    assert page.sliders["similarity_boost"].slider.value() == 90
    page.sliders["style"].set_value(0.2)
    page.sliders["speed"].set_value(1.1)
    page.speaker_boost.setChecked(False)
    qtbot.mouseClick(page.save_default_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "as your default" in page.status.text(), timeout=5000)

    from synthbot_desktop.storage import voices

    with gui.ctx.db.session() as s:
        pref = voices.default_preference(s, gui.ctx.user_id)
    assert pref is not None and pref.voice_id == DEFAULT_VOICE_ID
    assert (pref.stability, pref.similarity_boost, pref.style, pref.speed, pref.use_speaker_boost) == (
        pytest.approx(0.3), pytest.approx(0.9), pytest.approx(0.2), pytest.approx(1.1), False)

    # A real turn now sends exactly these voice_settings to ElevenLabs.
    w = gui.window
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000):
        w.input.setText("Hello")
        w.send_typed()
    body = fake_el.state.streams[-1].body
    assert body["voice_settings"]["stability"] == pytest.approx(0.3)
    assert body["voice_settings"]["similarity_boost"] == pytest.approx(0.9)
    assert body["voice_settings"]["style"] == pytest.approx(0.2)
    assert body["voice_settings"]["use_speaker_boost"] is False
    assert body["voice_settings"]["speed"] == pytest.approx(1.1)

    # Out-of-range tuning is refused before anything is saved.
    page.sliders["speed"].spin.setMaximum(2.0)
    page.sliders["speed"].spin.setValue(1.9)
    assert not dialog.apply() and "speed" in dialog.problems.text()


def test_voice_preview_uses_unsaved_settings(qtbot: Any, dialog: SettingsDialog, gui: Any, fake_el: Any) -> None:
    page = dialog.pages["voice"]
    page.sliders["stability"].set_value(0.11)
    before = len(fake_el.state.streams)
    qtbot.mouseClick(page.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.preview_button.isEnabled() and len(fake_el.state.streams) > before, timeout=20000)
    qtbot.waitUntil(lambda: page.status.text().startswith(("Played", "Synthesised")), timeout=20000)
    assert fake_el.state.streams[-1].body["voice_settings"]["stability"] == pytest.approx(0.11)


def test_personas_saved_to_database(qtbot: Any, dialog: SettingsDialog, gui: Any) -> None:
    page = dialog.pages["personas"]
    page.name_edit.setText("Pirate")
    page.prompt_edit.setPlainText("Talk like a pirate.")
    page.temperature.setValue(1.2)
    page.default_box.setChecked(True)
    assert dialog.apply()
    qtbot.waitUntil(lambda: page.list.count() == 1, timeout=5000)
    from synthbot_desktop.storage import personas

    with gui.ctx.db.session() as s:
        p = personas.default_persona(s, gui.ctx.user_id)
    assert p is not None and (p.name, p.system_prompt, p.temperature) == ("Pirate", "Talk like a pirate.", 1.2)


def test_policy_locked_fields_are_read_only(qtbot: Any, app_env: dict[str, str], memory_keyring: Any,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked]\n"llm.provider" = "ollama"\n"audio.barge_in" = false\n'
                      '"providers.openai.base_url" = "https://proxy.corp.example/v1"\n', encoding="utf-8")
    monkeypatch.setenv("SYNTHBOT_POLICY_FILE", str(policy))
    ctx = AppContext()
    try:
        d = SettingsDialog(ctx)
        qtbot.addWidget(d)
        audio = d.pages["audio"]
        barge = audio.binder.editors["audio.barge_in"]
        assert not barge.isEnabled() and barge.isChecked() is False
        url = d.pages["providers"].binder.editors["providers.openai.base_url"]
        assert not url.isEnabled() and url.text() == "https://proxy.corp.example/v1"
        assert "administrator" in d.pages["providers"].binder.rows["llm.provider"].findChild(
            QLabel, "lock_note").text()
        assert audio.binder.editors["audio.silence_ms"].isEnabled()
        audio.restore_defaults()  # must not touch locked values
        assert d.apply()
        assert ctx.settings.get("audio.barge_in") is False
    finally:
        ctx.close()


def test_a_keyring_error_on_the_providers_page_is_shown_redacted(qtbot: Any, dialog: SettingsDialog, gui: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from synthbot_desktop.errors import SecretStoreError
    from synthbot_desktop.redaction import register_secret

    secret = "sk-live-keyringsecret-0123456789abcdef"
    register_secret(secret)

    def broken(provider: str) -> Any:
        raise SecretStoreError(f"the keyring returned garbage near {secret}")

    monkeypatch.setattr(gui.ctx.keystore, "info", broken)
    page = dialog.pages["providers"]
    page.refresh_key_status()
    qtbot.waitUntil(lambda: "garbage" in page.key_status["openai"].toolTip(), timeout=5000)
    shown = page.key_status["openai"].toolTip()
    assert secret not in shown and "[REDACTED]" in shown


def test_a_closed_settings_dialog_is_destroyed_not_kept(qtbot: Any, gui: Any) -> None:
    """Each opening built every page again while the closed dialogs stayed as hidden children of the
    window: ~14 MB per opening, the steady growth the GUI soak measured (issue #21)."""
    from PySide6.QtWidgets import QApplication

    from synthbot_desktop.gui.settings.dialog import SettingsDialog

    destroyed: list[int] = []
    for n in range(3):
        dialog = gui.open_settings("voice")
        qtbot.waitUntil(dialog.isVisible, timeout=5000)
        dialog.destroyed.connect(lambda *_, n=n: destroyed.append(n))
        dialog.reject()
        qtbot.waitUntil(lambda n=n: n in destroyed, timeout=5000)
    QApplication.sendPostedEvents()
    assert gui.window.findChildren(SettingsDialog) == []
