"""The Smart Turn v3 model from the pipecat-ai wheel, on real speech from ../shared/audio/corpus/.

It is installed by scripts/setup.sh from requirements/models.txt: a missing model is a failed
setup, not a skip. The clips end 0.1 s after the last loud frame, as the loop hands them over.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synthbot_desktop.audio import turn_model
from synthbot_desktop.audio.turn_model import SmartTurn, TurnModelError, bundled_model_path, resolve_model_path
from tests.conftest import SHARED

CORPUS = SHARED / "audio" / "corpus"


def _to_last_word(name: str, tail_s: float = 0.1) -> np.ndarray:
    audio, rate = sf.read(CORPUS / name, dtype="float32")
    assert rate == 16000
    frames = np.abs(audio[: len(audio) // 160 * 160]).reshape(-1, 160).max(axis=1)
    end = (int(np.nonzero(frames > 0.02)[0][-1]) + 1) * 160
    return audio[: end + int(tail_s * rate)]


@pytest.fixture(scope="module")
def model() -> SmartTurn:
    loaded = turn_model.load("auto")
    assert loaded is not None, "Smart Turn is not installed: run bash scripts/setup.sh (requirements/models.txt)"
    return loaded


@pytest.mark.parametrize("clip", ["ps_cards_001.wav", "ps_cards_002.wav", "ps_cards_003.wav", "ps_goforward.wav",
                                  "icefall_voices_sp0307.wav"])
def test_whole_short_answers_sound_finished(model: SmartTurn, clip: str) -> None:
    """The MAYBE pieces the loop used to hold ("ten of clubs") and whole sentences."""
    assert model.probability(_to_last_word(clip)) > 0.9


def test_a_sentence_cut_where_the_reader_paused_does_not(model: SmartTurn) -> None:
    """librivox 0880 ends mid-thought in the book ("he was not an ill disposed young man" ...)."""
    assert model.probability(_to_last_word("ps_librivox_0880.wav")) < 0.5
    whole = _to_last_word("ps_cards_001.wav")
    cut = whole[: int(0.45 * 16000)]  # "ten of" ...: the voice has not come down yet
    assert model.probability(cut) < model.probability(whole)


def test_silence_and_odd_lengths_give_a_probability_not_an_error(model: SmartTurn) -> None:
    for audio in (np.zeros(0, np.float32), np.zeros(160, np.float32), np.zeros(20 * 16000, np.float32),
                  np.full(16000, 0.9, np.float32)):
        p = model.probability(audio)
        assert 0.0 <= p <= 1.0


def test_choices_off_auto_and_a_path(tmp_path: Path) -> None:
    assert resolve_model_path("off") is None and resolve_model_path("") is None
    auto = resolve_model_path("auto")
    assert auto is not None and auto.name == "smart-turn-v3.2-cpu.onnx"
    assert resolve_model_path(str(auto)) == auto
    with pytest.raises(TurnModelError, match="does not exist"):
        resolve_model_path(str(tmp_path / "nope.onnx"))


def test_a_damaged_model_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "smart-turn.onnx"
    bad.write_bytes(b"\x08\x07" + b"not an onnx graph" * 100)
    with pytest.raises(TurnModelError) as info:
        SmartTurn(bad)
    line = info.value.one_line()
    assert "smart-turn.onnx could not be loaded" in line and "\n" not in line and "end_of_turn_model = off" in line


def test_the_settings_adapter_warns_once_and_the_loop_goes_on_without_it(tmp_path: Path) -> None:
    from synthbot_desktop.config import Settings
    from synthbot_desktop.pipeline.settings_map import turn_model as from_settings

    env = {"SYNTHBOT_CONFIG_DIR": str(tmp_path / "cfg"), "SYNTHBOT_DATA_DIR": str(tmp_path / "data"),
           "SYNTHBOT_SET__pipeline__end_of_turn_model": str(tmp_path / "missing.onnx")}
    said: list[str] = []
    assert from_settings(Settings.load(env), warn=said.append) is None
    assert len(said) == 1 and said[0].startswith("end-of-turn model off:") and "missing.onnx" in said[0]


def test_found_in_a_frozen_bundle_and_on_any_search_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PyInstaller puts data under sys._MEIPASS with the same relative path; a venv has it in site-packages."""
    assert bundled_model_path([str(tmp_path)]) is None
    target = tmp_path.joinpath(*turn_model.MODEL_DIR)
    target.mkdir(parents=True)
    (target / turn_model.MODEL_FILE).write_bytes(b"x")
    assert bundled_model_path([str(tmp_path)]) == target / turn_model.MODEL_FILE
    monkeypatch.setattr("sys._MEIPASS", str(tmp_path), raising=False)
    assert bundled_model_path([]) == target / turn_model.MODEL_FILE
