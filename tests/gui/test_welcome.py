"""First-run welcome: real checks (PulseAudio virtual mic, a fake Ollama server, the keyring) and a
layout where no line overlaps another or is cut off."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.fake_llm import base_url, start_fake_llm


@pytest.fixture
def fake_ollama() -> Iterator[Any]:
    server = start_fake_llm("ollama", "hello", models=["llama3.2:latest", "qwen2.5:0.5b"])
    yield server
    server.stop()


@pytest.fixture
def ollama_env(app_env: dict[str, str], fake_ollama: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", fake_ollama))


@pytest.fixture
def no_ollama_env(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.fake_http import FakeServer

    with FakeServer() as closed:
        url = closed.url
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", url)  # nothing listens there any more


def _assert_readable(dialog: Any) -> None:
    """Every line gets the height its wrapped text needs, and the lines do not overlap."""
    boxes = []
    for label in dialog.labels:
        assert label.isVisible()
        need = label.heightForWidth(label.width())
        assert label.height() >= need, f"{label.objectName()} is cut: {label.height()} < {need} px"
        top_left = label.mapTo(dialog, label.rect().topLeft())
        boxes.append((top_left.y(), top_left.y() + label.height(), label.objectName()))
        assert dialog.rect().contains(label.mapTo(dialog, label.rect().bottomRight()))
    boxes.sort()
    for (_, bottom, a), (top, _, b) in itertools.pairwise(boxes):
        assert bottom <= top, f"{a} overlaps {b}"


@pytest.mark.audio
def test_welcome_checks_and_layout(ollama_env: None, ctx: Any, memory_keyring: Any, qtbot: Any) -> None:
    from synthbot_desktop.gui.welcome import WelcomeDialog, is_first_run

    memory_keyring.set_password("synthbot-desktop", "anthropic", "sk-ant-test-0000")
    assert is_first_run(ctx)
    dialog = WelcomeDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "checking" not in dialog.mic.text() + dialog.llm.text() + dialog.keys.text(),
                    timeout=15000)
    assert dialog.mic.text().startswith("Microphone: ✓"), dialog.mic.text()  # the PulseAudio virtual mic
    assert dialog.llm.text() == "Language model (Ollama (local)): ✓ Ollama answers (2 models)."
    assert dialog.model_box.currentText() == "llama3.2:latest"  # = the configured "llama3.2"
    assert dialog.keys.text() == "API keys set: ✓ Anthropic; not set: OpenAI, Google Gemini, ElevenLabs."
    qtbot.wait(50)  # the deferred resize after the last result
    _assert_readable(dialog)
    # The narrowest the dialog may get still shows every line whole.
    dialog.resize(dialog.minimumWidth(), dialog.minimumHeight())
    qtbot.wait(20)
    _assert_readable(dialog)
    dialog.keys_button.click()
    assert dialog.open_keys and not is_first_run(ctx)


def test_welcome_without_ollama_says_what_to_do(no_ollama_env: None, ctx: Any, memory_keyring: Any,
                                                qtbot: Any) -> None:
    from synthbot_desktop.gui.welcome import WelcomeDialog

    dialog = WelcomeDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: "checking" not in dialog.llm.text() + dialog.keys.text(), timeout=10000)
    assert "none answered" in dialog.llm.text() and "ollama pull" in dialog.llm.text()
    assert dialog.keys.text() == ("API keys not set: OpenAI, Anthropic, Google Gemini, ElevenLabs — optional; "
                                  "they stay in your system keyring.")
    assert not dialog.model_row.isVisible()
    qtbot.wait(50)
    _assert_readable(dialog)
    dialog.start_button.click()
    assert not dialog.open_keys


def test_welcome_offers_the_servers_real_model_names(app_env: dict[str, str], ctx: Any, memory_keyring: Any,
                                                    qtbot: Any) -> None:
    """Issue #21, defect 11: the default "llama3.2" does not exist where the server has "llama3.2:1b"."""
    from synthbot_desktop.gui.welcome import WelcomeDialog

    with start_fake_llm("ollama", "hello", models=["llama3.2:1b", "qwen2.5:0.5b"]) as server:
        ctx.settings._env_values["providers.ollama.base_url"] = base_url("ollama", server)
        dialog = WelcomeDialog(ctx)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: "checking" not in dialog.llm.text(), timeout=10000)
        assert [dialog.model_box.itemText(i) for i in range(dialog.model_box.count())] == ["llama3.2:1b",
                                                                                           "qwen2.5:0.5b"]
        assert dialog.model_box.currentText() == "llama3.2:1b"
        assert "“llama3.2” is not on the server: llama3.2:1b will answer" in dialog.llm.text()
        qtbot.wait(50)
        _assert_readable(dialog)
        dialog.start_button.click()
    assert ctx.settings.get("providers.ollama.model") == "llama3.2:1b"


def test_welcome_checks_the_chosen_cloud_provider(app_env: dict[str, str], ctx: Any, memory_keyring: Any,
                                                  qtbot: Any) -> None:
    """Issue #21, defect 11: with OpenAI chosen, the welcome checked only Ollama."""
    from synthbot_desktop.gui.welcome import WelcomeDialog

    ctx.settings.update({"llm.provider": "openai"})
    dialog = WelcomeDialog(ctx)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "checking" not in dialog.llm.text(), timeout=10000)
    assert dialog.llm.text().startswith("Language model (OpenAI): ✗ OpenAI is chosen but no OpenAI key is set")

    memory_keyring.set_password("synthbot-desktop", "openai", "sk-test-openai-0000")
    with start_fake_llm("openai", "hi", models=["gpt-4o-mini", "gpt-4.1-nano"]) as server:
        ctx.settings._env_values["providers.openai.base_url"] = base_url("openai", server)
        dialog = WelcomeDialog(ctx)
        qtbot.addWidget(dialog)
        qtbot.waitUntil(lambda: "checking" not in dialog.llm.text(), timeout=10000)
        assert dialog.llm.text().startswith("Language model (OpenAI): ✓ OpenAI answers (2 models).")
        assert any(r.path.endswith("/models") for r in server.requests)
        assert dialog.keys.text().startswith("API keys set: ✓ OpenAI;")
