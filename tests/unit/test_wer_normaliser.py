"""The number-aware WER normaliser the STT benchmarks score with (tests/support/wer.py)."""

from __future__ import annotations

import pytest

from tests.support.wer import cer, error_rate, normalise, number_wer, wer


@pytest.mark.parametrize(("spoken", "written"), [
    ("ten of clubs", "10 of clubs"),
    ("go forward ten meters", "Go forward 10 meters."),
    ("it is three forty five", "It is 3:45."),
    ("twenty-five people", "25 people"),
    ("twenty five people", "25 people"),
    ("one hundred and five", "105"),
    ("two thousand and five", "2005"),
    ("in eighteen thirteen", "In 1813."),
    ("one two three", "1, 2, 3"),
    ("one zero zero zero one nine oh two one oh zero one eight zero three", "10001-90210-01803"),
    ("one thousand dollars", "1,000 dollars"),
    ("mister john dashwood", "Mr. John Dashwood"),
    ("a cold hearted man", "a cold-hearted man"),
])
def test_spoken_and_written_numbers_score_equal(spoken: str, written: str) -> None:
    assert normalise(spoken) == normalise(written)
    assert number_wer(spoken, written) == 0.0
    assert number_wer(written, spoken) == 0.0


def test_plain_wer_still_counts_formatting_as_errors() -> None:
    # The reason the number-aware score exists: plain WER calls "10" a substitution of "ten".
    assert wer("ten of clubs", "10 of clubs") == pytest.approx(1 / 3)
    assert number_wer("ten of clubs", "10 of clubs") == 0.0


def test_wrong_numbers_are_still_errors() -> None:
    assert number_wer("ten of clubs", "11 of clubs") == pytest.approx(1 / 3)
    assert number_wer("twenty five people", "26 people") == pytest.approx(1 / 2)
    assert number_wer("it is three forty five", "It is 3:46") > 0
    # A spoken digit string is one token: one wrong digit is one error.
    assert number_wer("one two three", "1 2 4") == 1.0


def test_oh_is_zero_only_inside_digit_strings_and_hundred_alone_stays_a_word() -> None:
    assert normalise("oh what a day") == "oh what a day"
    assert normalise("nine oh two") == "902"
    assert normalise("a hundred times") == "a hundred times"
    assert normalise("the first one") == "the first 1"


def test_decimals_punctuation_and_case() -> None:
    assert normalise("It costs 2.5 euros. Really!") == "it costs 2.5 euros really"
    assert normalise("Don't stop") == "don't stop"
    assert normalise("ten percent") == normalise("10%")


def test_empty_sides() -> None:
    assert number_wer("", "") == 0.0
    assert number_wer("", "something") == 1.0
    assert number_wer("ten", "") == 1.0


def test_cer_for_languages_without_spaces() -> None:
    assert cer("广州市房地产中介协会分析", "广州市房地产中介协会分析。") == 0.0
    assert cer("广州市房地产中介协会分析", "广州市房地产中介协会分折") == pytest.approx(1 / 12)
    assert cer("그는 이리저리 피하면서", "그는이리저리 피하면서") == 0.0
    assert error_rate("广州市", "广州市", "zh") == ("cer", 0.0)
    assert error_rate("ten of clubs", "10 of clubs", "en") == ("wer", 0.0)
    kind, value = error_rate("Sous le consulat", "sous le consulat.", "fr")
    assert (kind, value) == ("wer", 0.0)
