"""The semantic end-of-turn hold decides from the words: the same words are held (or not) whatever
punctuation Whisper writes after them, since that mark changes with the model version and timing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synthbot_desktop.pipeline.end_of_turn import Finish, judge, looks_complete, words_sound_complete

MARKS = ["", ".", ",", "!", "?", "...", " -", ":", "…"]

UNFINISHED = [
    "And so am I fellow Americans",  # what Whisper heard on jfk.flac (issue #11)
    "And so my fellow Americans",
    "But then",
    "So what I wanted to say is that",
    "Well um",
    "Ask",
    "Not",
    "Tell me about the",
    "The weather in Paris",  # a subject, no verb yet
    "My fellow Americans",  # a trailing vocative
    "And now ladies and gentlemen",
    "I was thinking about",
]
FINISHED = [
    "What is the weather like today",
    "Ask what you can do for your country",
    "Tell me a joke",
    "Set a timer for five minutes",
    "Thank you my friends",
    "Yes",
    "Thank you",
    "Good morning",
    "How are you",
]


@pytest.mark.parametrize("words", UNFINISHED)
@pytest.mark.parametrize("mark", MARKS)
def test_unfinished_words_are_held_whatever_the_punctuation(words: str, mark: str) -> None:
    assert looks_complete(words + mark) is False
    assert looks_complete(words.lower() + mark) is False


@pytest.mark.parametrize("words", FINISHED)
@pytest.mark.parametrize("mark", [".", "!", "?"])
def test_finished_words_answer_with_any_terminal_mark(words: str, mark: str) -> None:
    assert looks_complete(words + mark) is True


@pytest.mark.parametrize("words", FINISHED)
@pytest.mark.parametrize("mark", ["", ",", "...", " -"])
def test_an_open_ending_can_only_add_a_hold(words: str, mark: str) -> None:
    assert looks_complete(words + mark) is False


_PUNCT = st.sampled_from(["", ".", ",", "!", "?", ";", "…", " ,", "  "])


@given(st.sampled_from(UNFINISHED + FINISHED), st.lists(_PUNCT, min_size=1, max_size=3), _PUNCT)
def test_word_judgement_ignores_every_punctuation_variant(words: str, inner: list[str], end: str) -> None:
    """Sprinkling punctuation between and after the same words never changes the word judgement,
    and whenever the words call for a hold the full check holds too."""
    parts = words.split()
    mixed = " ".join(p + (inner[i % len(inner)] if i < len(parts) - 1 else "") for i, p in enumerate(parts)) + end
    assert words_sound_complete(mixed) is words_sound_complete(words)
    if not words_sound_complete(words):
        assert looks_complete(mixed) is False


def test_empty_and_cjk() -> None:
    assert looks_complete("") is True
    assert looks_complete("今天天气怎么样？") is True


@pytest.mark.parametrize(("text", "grade"), [
    ("What time is it?", Finish.COMPLETE),
    ("Ten of clubs.", Finish.MAYBE),  # a short verbless answer: probably the whole turn
    ("Paris", Finish.UNFINISHED),  # one or two words: jfk.flac's "Ask!" ... "Not." are mid-sentence
    ("What time is it", Finish.MAYBE),  # no final mark only
    ("Tell me about the", Finish.UNFINISHED),  # dangling article
    ("Hello,", Finish.UNFINISHED),  # trailing comma
    ("And so, my fellow Americans", Finish.UNFINISHED),
    ("", Finish.COMPLETE),
])
def test_grades_give_sure_endings_the_long_hold_and_likely_ones_the_short(text: str, grade: Finish) -> None:
    assert judge(text) is grade
    assert looks_complete(text) is (grade is Finish.COMPLETE)
