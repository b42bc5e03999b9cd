"""Every typed setting key names a registry entry of the declared type, and reads through it."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthbot_desktop import setting_keys
from synthbot_desktop.config import REGISTRY, Settings
from synthbot_desktop.setting_keys import Key

KEYS = {name: k for name, k in vars(setting_keys).items() if isinstance(k, Key)}


def test_every_constant_matches_the_registry() -> None:
    assert len(KEYS) > 20
    wrong = {name: (k.name, k.type.__name__) for name, k in KEYS.items()
             if k.name not in REGISTRY or REGISTRY[k.name].type is not k.type}
    assert wrong == {}


@pytest.mark.parametrize("provider", ["openai", "anthropic", "gemini", "ollama"])
def test_provider_model_key_exists(provider: str) -> None:
    key = setting_keys.provider_model(provider)
    assert REGISTRY[key.name].type is str


def test_value_reads_the_merged_setting_with_its_type(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__ui__show_timings", "false")
    monkeypatch.setenv("SYNTHBOT_SET__llm__max_tokens", "77")
    settings = Settings.load()
    assert settings.value(setting_keys.UI_SHOW_TIMINGS) is False
    assert settings.value(setting_keys.LLM_MAX_TOKENS) == 77
    assert settings.value(setting_keys.AUDIO_OUTPUT_DEVICE) == ""


def test_a_key_of_the_wrong_type_is_refused(app_env: dict[str, str]) -> None:
    with pytest.raises(TypeError, match=r"ui\.show_timings is bool"):
        Settings.load().value(Key("ui.show_timings", str))
