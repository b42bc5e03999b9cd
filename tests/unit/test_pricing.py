"""Price table: lookups, unknown = None, user override, bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from synthbot_desktop import pricing
from synthbot_desktop.errors import ConfigError
from synthbot_desktop.pricing import PriceTable, load_prices


def test_bundled_table_has_as_of_and_known_prices() -> None:
    t = PriceTable.load()
    assert t.as_of and t.as_of[:2] == "20"
    # 1000 in x $0.15/M + 500 out x $0.60/M = 0.00015 + 0.0003
    assert t.llm_cost("openai", "gpt-4o-mini", 1000, 500) == Decimal("0.000450")
    assert t.llm_cost("anthropic", "claude-sonnet-4-5", 1_000_000, 1_000_000) == Decimal("18.000000")


def test_snapshot_and_alias_names_match_base_model() -> None:
    t = PriceTable.load()
    base = t.llm_cost("openai", "gpt-4o", 100, 100)
    assert base is not None
    assert t.llm_cost("openai", "gpt-4o-2024-08-06", 100, 100) == base
    assert t.llm_cost("openai", "gpt-4o-mini", 100, 100) != base  # no prefix confusion
    sonnet = t.llm_cost("anthropic", "claude-sonnet-4-5", 10, 10)
    assert t.llm_cost("anthropic", "claude-sonnet-4-5-20250929", 10, 10) == sonnet
    assert t.llm_cost("anthropic", "claude-3-5-haiku-latest", 10, 10) == t.llm_cost("anthropic", "claude-3-5-haiku", 10, 10)
    assert t.llm_cost("gemini", "models/gemini-2.5-flash", 10, 10) == t.llm_cost("gemini", "gemini-2.5-flash", 10, 10)


def test_unknown_model_is_unknown_not_zero() -> None:
    t = PriceTable.load()
    assert t.llm_cost("openai", "some-local-model", 100, 100) is None
    assert t.llm_cost("openai", "gpt-4o", None, 100) is None
    assert t.llm_cost("ollama", "llama3.2:latest", 100, 100) == Decimal("0")  # local: really free


def test_characters_cost_for_tts() -> None:
    t = PriceTable.load()
    assert t.characters_cost("elevenlabs", "eleven_flash_v2_5", 2000) == Decimal("0.100000")
    assert t.characters_cost("elevenlabs", "eleven_multilingual_v2", 1000) == Decimal("0.100000")
    assert t.characters_cost("elevenlabs", "eleven_unknown", 1000) is None
    assert t.characters_cost("piper", "joe-us", 5000) == Decimal("0")


def test_user_file_overrides_and_extends(tmp_path: Path) -> None:
    (tmp_path / "pricing.toml").write_text(
        'as_of = "2026-02-01"\n[llm.openai]\n"gpt-4o-mini" = { input_per_mtok = 1, output_per_mtok = 2 }\n'
        '"my-proxy-model" = { input_per_mtok = 0.5, output_per_mtok = 0.5 }\n', encoding="utf-8")
    t = load_prices(tmp_path)
    assert t.as_of == "2026-02-01" and len(t.sources) == 2
    assert t.llm_cost("openai", "gpt-4o-mini", 1_000_000, 1_000_000) == Decimal("3.000000")
    assert t.llm_cost("openai", "my-proxy-model", 2_000_000, 0) == Decimal("1.000000")
    assert t.llm_cost("openai", "gpt-4o", 1_000_000, 0) == Decimal("2.500000")  # untouched entries remain
    assert pricing.llm_cost("openai", "my-proxy-model", 2_000_000, 0, config_dir=tmp_path) == Decimal("1.000000")


@pytest.mark.parametrize(("text", "needle"), [
    ('[llm.openai]\n"x" = { input_per_mtok = -1, output_per_mtok = 1 }\n', "zero or more"),
    ('[llm.openai]\n"x" = { input_per_mtok = 1 }\n', "needs input_per_mtok and output_per_mtok"),
    ('[llm.openai]\n"x" = { input_per_mtok = "cheap", output_per_mtok = 1 }\n', "must be a number"),
    ('[tts.elevenlabs]\n"x" = { price = 1 }\n', "per_1k_chars"),
    ("[llm.openai\n", "not valid TOML"),
    ('currency = "EUR"\n', "only USD"),
])
def test_bad_user_file_is_a_clear_error(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "pricing.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        PriceTable.load(path)
    assert needle in str(info.value) and str(path) in str(info.value)
