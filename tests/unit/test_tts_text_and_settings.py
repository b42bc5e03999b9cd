"""Pure logic of the TTS layer: request splitting, settings validation, PCM alignment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthbot_desktop.tts.base import AudioFormat, VoiceSettings
from synthbot_desktop.tts.pcm import SampleAligner
from synthbot_desktop.tts.text_split import split_for_requests
from synthbot_desktop.tts.voice_settings import VoiceSettingsError, merge, to_json, validate


def test_split_keeps_sentences_whole_and_packs_them() -> None:
    text = "First one. Second one! Third one? Fourth."
    assert split_for_requests(text, 25) == ["First one. Second one!", "Third one? Fourth."]
    assert split_for_requests(text, 1000) == [text]


def test_split_falls_back_to_clauses_then_words() -> None:
    text = "a clause here, another clause there, and a last one"
    assert all(len(p) <= 20 for p in split_for_requests(text, 20))
    assert split_for_requests("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_blank_is_empty() -> None:
    assert split_for_requests(" \n\t ", 10) == []


@given(st.text(alphabet=st.characters(categories=("L", "Zs", "Po")), max_size=400),
       st.integers(min_value=5, max_value=120))
def test_split_never_exceeds_limit_and_loses_no_words(text: str, limit: int) -> None:
    pieces = split_for_requests(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_settings_ranges_are_checked_per_field() -> None:
    validate(VoiceSettings(stability=0, similarity_boost=1, style=0.5, speed=0.7))
    validate(VoiceSettings(speed=1.2))
    with pytest.raises(VoiceSettingsError) as err:
        validate(VoiceSettings(stability=-0.1, style=1.01, speed=0.69, similarity_boost=float("nan")))
    assert set(err.value.fields) == {"stability", "style", "speed", "similarity_boost"}
    assert "speed: 0.69 is outside 0.7–1.2" in err.value.message


def test_merge_prefers_unsaved_values() -> None:
    saved = VoiceSettings(stability=0.5, similarity_boost=0.75, speed=1.0)
    assert merge(saved, VoiceSettings(speed=1.1)) == VoiceSettings(stability=0.5, similarity_boost=0.75, speed=1.1)
    assert to_json(VoiceSettings(style=0.0)) == {"style": 0.0}


def test_aligner_never_splits_a_sample() -> None:
    a = SampleAligner(AudioFormat(24000))
    assert a.feed(b"\x01\x02\x03") == b"\x01\x02"
    assert a.leftover == 1
    assert a.feed(b"\x04") == b"\x03\x04"
