"""The GUI soak driver (benchmarks/bench_gui_soak.py) on a few actions, so it cannot rot.

The hour-long run is a benchmark; this runs the same driver on the real window, the PulseAudio
virtual microphone and the fake providers for one action of each kind that matters most here:
typing, a model change checked on the next turn, a hands-free utterance, and hands-free switched
off with speech after it (which must not be answered: issue #21's phantom turns)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.bench_gui_soak import Soak

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]


def test_soak_driver_runs_a_short_script(qapp: Any, app_env: dict[str, str], memory_keyring: Any,
                                         virtual_audio: Any, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> None:
    soak = Soak(virtual_audio, tmp_path / "shots", seed=3, setenv=monkeypatch.setenv, piper=False)
    result = soak.run(actions=["typed", "set_model", "hands_free_speak", "hands_free_off"])
    assert result["failures"] == [], result["log"]
    assert result["phantom_turns"] == 0 and result["missing_turns"] == 0
    assert result["expected_turns"] == 3 == result["turns_reached_llm"]
    assert result["settings_checks_passed"] == 1 and result["settings_checks_failed"] == 0
    assert (tmp_path / "shots" / result["screenshots"][-1]).stat().st_size > 0
