"""CLI and GUI build the pipeline from the same settings mapping."""

from __future__ import annotations

from pathlib import Path

from synthbot_desktop.config import Settings
from synthbot_desktop.pipeline.settings_map import endpointer_config, loop_config, turn_config


def test_settings_reach_every_pipeline_config(tmp_path: Path) -> None:
    env = {"SYNTHBOT_CONFIG_DIR": str(tmp_path / "c"), "SYNTHBOT_DATA_DIR": str(tmp_path / "d"),
           "SYNTHBOT_SET__pipeline__speculative_pause_ms": "150",
           "SYNTHBOT_SET__pipeline__incomplete_turn_hold_ms": "900",
           "SYNTHBOT_SET__pipeline__first_chunk_max_words": "4",
           "SYNTHBOT_SET__stt__language": "de", "SYNTHBOT_SET__audio__silence_ms": "700",
           "SYNTHBOT_SET__audio__headphones": "true"}
    s = Settings.load(env)
    tc = turn_config(s, voice_id="v1", temperature=0.2)
    assert (tc.language, tc.first_chunk_max_words, tc.voice_id, tc.temperature) == ("de", 4, "v1", 0.2)
    ec = endpointer_config(s)
    assert (ec.pause_ms, ec.silence_ms) == (150, 700)
    short = endpointer_config(s, silence_ms=200)
    assert (short.silence_ms, short.pause_ms) == (200, 100)  # the pause is at most half the silence
    assert endpointer_config(s, silence_ms=120).pause_ms == 80
    lc = loop_config(s)
    assert lc.incomplete_hold_ms == 900 and lc.headphones is True and lc.max_turns is None
    assert lc.speculative_turn is True
    assert loop_config(Settings.load({**env, "SYNTHBOT_SET__pipeline__speculative_turn": "false"})).speculative_turn is False
    assert loop_config(s, headphones=False, barge_in=False, max_turns=2).headphones is False
