"""Turn-taking: end-of-turn heuristic, withdrawing a turn nobody heard, speculative pause events and
onset-vs-confirmation thresholds on real speech (jfk.flac through the bundled Silero VAD)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from synthbot_desktop.audio.formats import load_audio_file
from synthbot_desktop.audio.vad import Endpointer, EndpointerConfig, SpeechEnd, SpeechPause, SpeechStart
from synthbot_desktop.pipeline.end_of_turn import looks_complete
from synthbot_desktop.pipeline.events import AssistantDone, TurnRetracted
from synthbot_desktop.pipeline.turn import UserInput
from tests.conftest import JFK
from tests.support.turn_fakes import AUDIO, FakeChat, make


@pytest.mark.parametrize(("text", "complete"), [
    ("What is the weather like today?", True), ("Ask what you can do for your country.", True),
    ("Yes.", True), ("Thank you!", True), ("今天天气怎么样？", True), ("", True),
    ("ask what you can do for your country", False),  # no terminal punctuation
    ("I was thinking about,", False), ("Tell me about the", False), ("Book a table and.", False),
    ("Ask!", False), ("Not!", False),  # Whisper punctuates fragments
    ("And so my fellow Americans.", False), ("Well, um.", False),
])
def test_looks_complete(text: str, complete: bool) -> None:
    assert looks_complete(text) is complete


def test_retract_before_any_reply_is_heard_stores_usage_only() -> None:
    async def go() -> None:
        engine, out, rec, events = make(chat=FakeChat(first_delay=0.3))
        task = engine.start_turn(UserInput(audio=AUDIO))
        await asyncio.sleep(0.15)  # transcribed, waiting for the first token
        assert engine.busy and not engine.reply_heard
        assert engine.retract()
        result = await task
        assert result.retracted and result.reply == "" and result.transcript == "what is the plan"
        assert engine.conversation.history == []  # the words come back in the merged turn
        assert len(rec.units) == 1 and rec.units[0].messages == []
        providers = [u.provider for u in rec.units[0].usage]
        assert providers == ["local-whisper", "fakechat"]  # what really ran is still recorded
        assert all(u.message_uid is None for u in rec.units[0].usage)
        llm = rec.units[0].usage[1]
        assert not llm.success and llm.error_kind == "cancelled"
        assert any(isinstance(e, TurnRetracted) for e in events)
        assert not any(isinstance(e, AssistantDone) for e in events)
        assert out.pcm() == b"" and out.seconds_played() == 0.0
    asyncio.run(go())


def test_no_retract_once_the_reply_is_audible() -> None:
    async def go() -> None:
        engine, _out, rec, _ = make(chat=FakeChat(first_delay=0.01))
        task = engine.start_turn(UserInput(audio=AUDIO))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if engine.reply_heard:
                break
        assert engine.reply_heard
        assert not engine.retract()  # that is a barge-in, not a withdrawal
        engine.interrupt()
        result = await task
        assert not result.retracted and result.interrupted
        assert [m.role for m in rec.units[0].messages] == ["user", "assistant"]
    asyncio.run(go())


@pytest.fixture(scope="module")
def jfk() -> np.ndarray:
    return np.concatenate([load_audio_file(JFK), np.zeros(16000, dtype=np.float32)])


def test_pause_event_precedes_the_end_with_the_same_cut(jfk: np.ndarray) -> None:
    ep = Endpointer(EndpointerConfig(silence_ms=600, pause_ms=180))
    events = ep.feed(jfk)
    pauses = [e for e in events if isinstance(e, SpeechPause)]
    ends = [e for e in events if isinstance(e, SpeechEnd)]
    assert ends and pauses
    for end in ends:  # every utterance end was announced by a pause at the same sample
        match = [p for p in pauses if p.end_sample == end.end_sample]
        assert match, (end.end_sample, [p.end_sample for p in pauses])
        p = match[0]
        assert p.audio_start_sample == end.audio_start_sample
        # the same audio but for the last few ms of post-roll
        n = len(p.audio)
        assert 0 <= len(end.audio) - n <= 16000 * 0.05 and np.array_equal(end.audio[:n], p.audio)
    # no pause event without the option, and the old events are unchanged
    plain = Endpointer(EndpointerConfig(silence_ms=600)).feed(jfk)
    assert [e.end_sample for e in plain if isinstance(e, SpeechEnd)] == [e.end_sample for e in ends]


def test_onset_at_normal_threshold_confirmation_at_raised(jfk: np.ndarray) -> None:
    raised = Endpointer(EndpointerConfig(threshold=0.5, silence_ms=600))
    raised.set_threshold(0.85)  # the old echo guard: onset only where the VAD is very sure
    late = next(e for e in raised.feed(jfk) if isinstance(e, SpeechStart))
    confirm = Endpointer(EndpointerConfig(threshold=0.5, silence_ms=600))
    confirm.set_confirm_threshold(0.85)
    events = confirm.feed(jfk)
    start = next(e for e in events if isinstance(e, SpeechStart))
    normal = next(e for e in Endpointer(EndpointerConfig(threshold=0.5, silence_ms=600)).feed(jfk)
                  if isinstance(e, SpeechStart))
    assert start.sample == normal.sample  # the onset is where the user began
    assert late.sample > start.sample  # ... which the raised threshold alone misses
    with pytest.raises(ValueError):
        confirm.set_confirm_threshold(1.5)
    # noise never reaches the confirmation level: no start at all
    rng = np.random.default_rng(1)
    noisy = Endpointer(EndpointerConfig(threshold=0.5))
    noisy.set_confirm_threshold(0.85)
    assert noisy.feed((0.02 * rng.standard_normal(16000 * 3)).astype(np.float32)) == []
