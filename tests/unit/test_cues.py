"""Sound cues and spoken errors: the decisions (pipeline.cues), from the events a front end sees."""

from __future__ import annotations

import numpy as np
import pytest

from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.pipeline.cues import (
    CUE_LEVEL_DBFS,
    CuePolicy,
    PlayCue,
    SayError,
    cue_tone,
    spoken_error_text,
)

S = ev.TurnState
FAIL = ev.ErrorEvent("the model server is not reachable at http://127.0.0.1:11434/", kind="connection")


def run(policy: CuePolicy, events: list[ev.Event], cues: bool = True, spoken: bool = True) -> list[object]:
    out: list[object] = []
    for e in events:
        out += policy.observe(e, cues=cues, spoken_errors=spoken)
    return out


def states(*names: ev.TurnState) -> list[ev.Event]:
    return [ev.StateChanged(s) for s in names]


@pytest.mark.parametrize("kind", ["listening", "sent", "error"])
def test_tones_are_short_quiet_and_click_free(kind: str) -> None:
    tone = cue_tone(kind)
    assert tone.dtype == np.float32 and 0.03 < len(tone) / 22050 <= 0.2
    peak_db = 20 * np.log10(np.max(np.abs(tone)))
    assert peak_db == pytest.approx(CUE_LEVEL_DBFS, abs=0.1)  # far below speech: never a barge-in
    assert abs(tone[0]) < 1e-3 and abs(tone[-1]) < 1e-3  # faded in and out


def test_tones_differ() -> None:
    spectra = {k: int(np.argmax(np.abs(np.fft.rfft(cue_tone(k)[:1000])))) for k in ("listening", "sent", "error")}
    assert len(set(spectra.values())) == 3, spectra


def test_push_to_talk_turn_listening_then_sent() -> None:
    p = CuePolicy()
    acts = run(p, states(S.LISTENING, S.HEARING, S.HEARING, S.TRANSCRIBING, S.THINKING, S.SPEAKING, S.IDLE))
    assert acts == [PlayCue("listening"), PlayCue("sent")]


def test_hands_free_replies_do_not_chime_each_time_and_speculation_is_one_utterance() -> None:
    p = CuePolicy()
    acts = run(p, states(S.LISTENING, S.HEARING, S.THINKING, S.HEARING, S.THINKING, S.SPEAKING,
                         S.LISTENING, S.HEARING, S.THINKING, S.SPEAKING, S.LISTENING))
    # listening once (the loop's Listening after a reply is not a start); one "sent" per utterance,
    # the withdrawn speculative start (Thinking -> Hearing -> Thinking) included.
    assert acts == [PlayCue("listening"), PlayCue("sent"), PlayCue("sent")]


def test_typed_messages_make_no_sound_even_while_hands_free_listens() -> None:
    p = CuePolicy()
    assert run(p, states(S.THINKING, S.SPEAKING, S.IDLE)) == []
    p = CuePolicy()
    assert run(p, states(S.LISTENING)) == [PlayCue("listening")]
    assert run(p, states(S.THINKING, S.SPEAKING, S.LISTENING)) == []


def test_a_failed_spoken_turn_chimes_once_and_says_a_short_sentence() -> None:
    p = CuePolicy()
    run(p, states(S.LISTENING, S.HEARING, S.TRANSCRIBING, S.THINKING))
    acts = run(p, [FAIL, ev.ErrorEvent("again", kind="connection"), ev.StateChanged(S.IDLE)])
    assert acts == [PlayCue("error"), SayError(spoken_error_text(FAIL))]
    said = spoken_error_text(FAIL)
    assert "reach" in said and "http" not in said and "127.0.0.1" not in said  # no details aloud
    # The next turn can fail (and be told) again.
    run(p, states(S.LISTENING, S.HEARING, S.THINKING))
    assert run(p, [FAIL]) == [PlayCue("error"), SayError(said)]


def test_a_failed_typed_turn_chimes_but_is_not_spoken() -> None:
    p = CuePolicy()
    run(p, states(S.THINKING))
    assert run(p, [FAIL]) == [PlayCue("error")]


def test_errors_outside_a_turn_and_cancellations_are_silent() -> None:
    p = CuePolicy()
    assert run(p, [ev.ErrorEvent("echo canceller unavailable")]) == []  # a warning at rest
    run(p, states(S.LISTENING))
    assert run(p, [ev.ErrorEvent("wake word model missing")]) == []  # listening, no turn yet
    run(p, states(S.HEARING, S.THINKING))
    assert run(p, [ev.ErrorEvent("stopped", kind="cancelled")]) == []
    # Notices while the turn goes on: another voice speaks, sampling falls back, a kindless warning.
    run(p, states(S.SPEAKING))
    for kind in ("engine_fallback", "voice_fallback", "randomness", "tts_language", None):
        assert run(p, [ev.ErrorEvent("ElevenLabs failed; speaking with Piper", kind=kind)]) == [], kind
    assert run(p, [ev.ErrorEvent("speech output failed, the reply is shown as text", kind="tts")]) == [
        PlayCue("error"), SayError("Sorry, my voice failed. The answer is on the screen.")]


def test_settings_switch_each_part_off() -> None:
    p = CuePolicy()
    assert run(p, states(S.LISTENING, S.HEARING, S.THINKING), cues=False) == []
    assert run(p, [FAIL], cues=False) == [SayError(spoken_error_text(FAIL))]
    p = CuePolicy()
    run(p, states(S.LISTENING, S.HEARING, S.THINKING))
    assert run(p, [FAIL], spoken=False) == [PlayCue("error")]


def test_unknown_kinds_get_the_generic_sentence() -> None:
    assert spoken_error_text(ev.ErrorEvent("x", kind="something-new")).startswith("Sorry, something went wrong")
    assert spoken_error_text(ev.ErrorEvent("x")).startswith("Sorry, something went wrong")
