"""Real faster-whisper on real speech: accuracy, the CLI contract, threading and bad input."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.cli.main import main
from synthbot_desktop.errors import ModelError
from synthbot_desktop.stt.engine import EngineOptions, WhisperEngine
from synthbot_desktop.stt.models import bundled_model_path
from tests.conftest import JFK, JFK_TEXT
from tests.support.wer import wer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine() -> WhisperEngine:
    e = WhisperEngine(EngineOptions())
    e.load()
    return e


def test_jfk_word_error_rate(engine: WhisperEngine) -> None:
    result = engine.transcribe_file(JFK)
    assert wer(JFK_TEXT, result.text) <= 0.10, result.text
    assert result.language == "en"
    assert result.audio_seconds == pytest.approx(11.0, abs=0.05)
    assert result.segments and result.segments[-1].end <= 11.5
    assert result.avg_logprob is not None and -1.0 < result.avg_logprob < 0
    assert result.no_speech_prob is not None and result.no_speech_prob < 0.5
    assert result.confidence is not None and 0 < result.confidence < 1
    assert result.elapsed_seconds > 0 and engine.load_report is not None
    assert engine.load_report.load_seconds > 0 and engine.load_report.warmup_seconds > 0


def test_silence_is_not_transcribed(engine: WhisperEngine) -> None:
    result = engine.transcribe(np.zeros(32000, dtype=np.float32))
    assert result.text == "" and result.segments == [] and result.audio_seconds == 2.0


def test_prompt_and_threads(engine: WhisperEngine) -> None:
    audio = load_audio_file(JFK)[: 5 * 16000]
    results: list[str] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            results.append(engine.transcribe(audio, prompt="President Kennedy's inaugural address.").text)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 2 and results[0] == results[1]
    assert "fellow americans" in results[0].lower()


def test_async_wrapper_keeps_the_loop_free(engine: WhisperEngine) -> None:
    audio = load_audio_file(JFK)[: 4 * 16000]

    async def run() -> tuple[str, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        task = asyncio.create_task(ticker())
        result = await engine.transcribe_async(audio)
        task.cancel()
        return result.text, ticks

    text, ticks = asyncio.run(run())
    assert "americans" in text.lower()
    assert ticks >= 5  # the loop kept running while Whisper worked


def test_damaged_model_bin_is_a_model_error(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    for f in bundled_model_path().iterdir():
        if f.name != "model.bin":
            (folder / f.name).symlink_to(f)
    with open(bundled_model_path() / "model.bin", "rb") as src:
        (folder / "model.bin").write_bytes(src.read(200_000))  # truncated copy
    with pytest.raises(ModelError, match="cannot load the Whisper model") as info:
        WhisperEngine(model=str(folder)).load()
    assert "damaged" in (info.value.hint or "")


def test_cli_transcribe_json_contract(app_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["transcribe", str(JFK), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"text", "language", "segments", "audio_seconds", "elapsed_seconds"}
    assert wer(JFK_TEXT, data["text"]) <= 0.10
    assert all(set(s) == {"start", "end", "text"} for s in data["segments"])


def test_cli_several_files_with_bad_ones(app_env: dict[str, str], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(16000, dtype=np.float32), 16000)
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    # An mp3/ogg path through PyAV: re-encode jfk as OGG/Vorbis.
    ogg = tmp_path / "jfk.ogg"
    sf.write(ogg, load_audio_file(JFK), 16000, format="OGG", subtype="VORBIS")
    rc = main(["transcribe", str(ogg), str(silent), str(empty), "--json"])
    out, err = capsys.readouterr()
    assert rc == 1
    data = json.loads(out)
    assert [d["file"] for d in data] == [str(ogg), str(silent), str(empty)]
    assert wer(JFK_TEXT, data[0]["text"]) <= 0.10
    assert "only silence" in data[1]["error"] and "empty" in data[2]["error"]
    assert "only silence" in err


@pytest.mark.parametrize(("args", "match"), [
    (["/nonexistent/x.wav"], "audio file not found"),
    (["--model", "/nonexistent/model", str(JFK)], "model folder not found"),
])
def test_cli_single_bad_input_is_one_line(app_env: dict[str, str], capsys: pytest.CaptureFixture[str],
                                          args: list[str], match: str) -> None:
    assert main(["transcribe", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and match in err and "\n" not in err and "Traceback" not in err
