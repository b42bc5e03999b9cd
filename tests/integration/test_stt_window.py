"""The adaptive encoder window for live turns: same words as the full window, and a decode that
loops is caught and retried on the full window so it never reaches the LLM."""

from __future__ import annotations

import pytest

from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.stt import engine as engine_mod
from synthbot_desktop.stt.engine import (
    FULL_WINDOW_S,
    EngineOptions,
    WhisperEngine,
    decode_looks_bad,
    live_window_seconds,
)
from tests.conftest import JFK, SHARED

pytestmark = pytest.mark.slow

CARDS = str(SHARED / "audio" / "corpus" / "ps_cards_003.wav")
CARDS_001 = str(SHARED / "audio" / "corpus" / "ps_cards_001.wav")


@pytest.fixture(scope="module")
def engines() -> tuple[WhisperEngine, WhisperEngine]:
    short = WhisperEngine(EngineOptions(beam_size=1))
    full = WhisperEngine(EngineOptions(beam_size=1, live_window_floor_s=FULL_WINDOW_S))
    short.load()
    full.load()
    return short, full


def test_window_size() -> None:
    assert live_window_seconds(2.0) == 10.0  # the measured floor
    assert live_window_seconds(11.0) == 12.0  # audio + 1 s margin
    assert live_window_seconds(40.0) == FULL_WINDOW_S


def test_guard_flags_the_known_loop() -> None:
    looped = " ".join(["10 of clubs"] * 50)
    assert decode_looks_bad(looped, hit_length_limit=False)
    assert decode_looks_bad("ten of clubs", hit_length_limit=True)  # no end-of-text within the limit
    assert not decode_looks_bad("And so, my fellow Americans, ask not what your country can do for you, "
                                "ask what you can do for your country.", hit_length_limit=False)
    assert not decode_looks_bad("no no no", hit_length_limit=False)
    assert not decode_looks_bad("", hit_length_limit=False)


def test_short_window_matches_full_on_jfk(engines: tuple[WhisperEngine, WhisperEngine]) -> None:
    short, full = engines
    audio = load_audio_file(JFK)
    a = short.transcribe(audio, live=True)
    b = full.transcribe(audio, live=True)
    assert a.timings.get("window_seconds") == pytest.approx(live_window_seconds(a.audio_seconds))
    assert "window_seconds" not in b.timings
    assert a.text.lower().strip(" .") .replace(",", "") == b.text.lower().strip(" .").replace(",", "")


def test_file_transcription_keeps_full_window(engines: tuple[WhisperEngine, WhisperEngine]) -> None:
    short, _ = engines
    assert "window_seconds" not in short.transcribe_file(JFK).timings


def test_looping_decode_is_retried_on_full_window(engines: tuple[WhisperEngine, WhisperEngine],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The real short-window decode runs; the guard is made to see what the 6 s floor produced
    (the cards clip looping) and the engine must answer from the full window instead."""
    short, full = engines
    audio = load_audio_file(CARDS)
    seen: list[str] = []

    def looping(text: str, hit_length_limit: bool) -> bool:
        seen.append(text)
        return decode_looks_bad(" ".join([text] * 50), hit_length_limit)

    monkeypatch.setattr(engine_mod, "decode_looks_bad", looping)
    before = short.window_retries
    result = short.transcribe(audio, live=True)
    assert seen, "the short-window decode did not run"
    assert short.window_retries == before + 2 and len(seen) == 2  # the window, then twice the window
    assert "window_seconds" not in result.timings  # answered by the full window
    assert result.text == full.transcribe(audio, live=True).text
    assert "clubs" in result.text.lower()


def test_a_loop_at_the_short_window_is_first_retried_at_twice_the_window(
        engines: tuple[WhisperEngine, WhisperEngine], monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the first decode "loops": the answer comes from the doubled window, not the 30 s one
    (ps_cards_001 loops at 10 s without a prompt and decodes right at 20 s in half the full window's time)."""
    short, _full = engines
    audio = load_audio_file(CARDS)
    calls: list[str] = []
    real = engine_mod.decode_looks_bad

    def first_loops(text: str, hit_length_limit: bool) -> bool:
        calls.append(text)
        return True if len(calls) == 1 else real(text, hit_length_limit)

    monkeypatch.setattr(engine_mod, "decode_looks_bad", first_loops)
    result = short.transcribe(audio, live=True)
    first_window = engine_mod.live_window_seconds(result.audio_seconds, short.options.live_window_floor_s)
    assert len(calls) == 2 and result.timings["window_seconds"] == 2 * first_window
    assert "clubs" in result.text.lower()


def test_the_token_budget_follows_the_audio_so_a_loop_stops_early() -> None:
    assert engine_mod.live_token_budget(1.6, 223) == engine_mod.LIVE_TOKENS_MIN
    assert engine_mod.live_token_budget(10.0, 223) == 150
    assert engine_mod.live_token_budget(29.0, 223) == 223  # never past the model's own limit



def test_guard_flags_a_phrase_said_twice_by_the_decoder() -> None:
    """Found by the GUI soak (issue #21): the short window wrote "10 of Clops. 10 of Clops." for one
    "ten of clubs" (and "10 of clubs in 18 13. In 18 13."): a loop of two, below the x5 n-gram rule."""
    assert decode_looks_bad("10 of clubs 10 of clubs", hit_length_limit=False)
    assert decode_looks_bad("10 of Clops. 10 of Clops.", hit_length_limit=False)
    assert decode_looks_bad("10 of clubs in 18 13. In 18 13.", hit_length_limit=False)
    assert not decode_looks_bad("Very, very good.", hit_length_limit=False)
    assert not decode_looks_bad("Ten of clubs, then seven of clubs.", hit_length_limit=False)


def test_live_turn_with_a_short_preroll_is_not_said_twice() -> None:
    """The endpointer's cut (90 ms before the speech, none after) is what made the short window loop."""
    import numpy as np

    engine = WhisperEngine(EngineOptions(language="en"))  # the app's beam size
    audio = np.concatenate([np.zeros(1440, dtype=np.float32), load_audio_file(CARDS_001)])
    text = engine.transcribe(audio, language="en", live=True).text
    assert text.lower().count("clubs") == 1, text


GOFORWARD = str(SHARED / "audio" / "corpus" / "ps_goforward.wav")
REPLY = "Sure. That is a short answer, spoken right away, so you can get on with your day."


@pytest.mark.parametrize("clip,said", [(CARDS_001, "10 of close."), (GOFORWARD, "Go forward 10 meters.")])
def test_a_prompted_decode_said_twice_is_retried_without_the_prompt_at_the_same_window(clip: str, said: str) -> None:
    """Seen in the v2v benchmark (#12): from the second turn on, the last turns are Whisper's prompt and
    tiny.en wrote the utterance twice at the 10 s window ("Go forward 10 meters. Go forward 10 meters."),
    so every later "ten of clubs" paid the 20 s retry (0.3-0.45 s instead of ~0.1 s)."""
    audio = load_audio_file(clip)
    prompt = f"{said} {REPLY}"  # the previous turn, as TurnEngine.stt_prompt builds it
    old = WhisperEngine(EngineOptions(beam_size=1, retry_without_prompt=False))
    new = WhisperEngine(EngineOptions(beam_size=1))
    before = old.transcribe(audio, prompt=prompt, live=True)
    assert before.timings["window_seconds"] == 20.0, "tiny.en no longer doubles this utterance with this prompt"
    after = new.transcribe(audio, prompt=prompt, live=True)
    assert after.timings["window_seconds"] == 10.0 and new.window_retries == 1
    words = after.text.lower()
    assert words.count("forward" if clip == GOFORWARD else "of") == 1, after.text
