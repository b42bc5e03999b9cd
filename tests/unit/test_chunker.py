"""Sentence chunker: early first clause, no cuts inside numbers/abbreviations/URLs/code/markdown."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from synthbot_desktop.config import Settings
from synthbot_desktop.pipeline.chunker import SentenceChunker
from synthbot_desktop.pipeline.speech_text import clean_for_speech, normalize_ws


def chunks(text: str, step: int = 3, **kw: int) -> list[str]:
    c = SentenceChunker(**kw)
    out = []
    for i in range(0, len(text), step):
        out += c.feed(text[i : i + step])
    out += c.flush()
    return [x.text for x in out]


def test_first_clause_is_cut_early_then_whole_sentences() -> None:
    text = "Well, the quick answer is yes, you can. It takes a minute, maybe two. Then you are done."
    assert chunks(text, first_min_chars=12) == [
        "Well, the quick answer is yes,", "you can.", "It takes a minute, maybe two.", "Then you are done."]


def test_first_clause_respects_the_minimum_a_whole_sentence_need_not() -> None:
    """#12: "Sure." is said at once (as Pipecat does); before, the first piece waited for 12
    characters ("Sure. That is"), ~0.1 s of silence at 40 tokens/s. A clause ("So,") still waits."""
    assert chunks("Hi! Nice to meet you today. Bye.", first_min_chars=12)[0] == "Hi!"
    assert chunks("Sure. That is a short answer.", first_min_chars=12)[0] == "Sure."
    assert chunks("So, the quick answer is yes. Bye.", first_min_chars=12)[0] == "So, the quick answer is yes."
    assert chunks("No. 5 is the one.", first_min_chars=12)[0] == "No. 5 is the one."  # an abbreviation, not a sentence
    assert chunks("I. Then more.", first_min_chars=12)[0] == "I. Then more."  # one letter: too short to say alone


def test_no_cut_inside_numbers_abbreviations_or_urls() -> None:
    text = ("Pi is about 3.14159 today. Dr. Smith and Mr. Jones met in the U.S. yesterday, e.g. at noon. "
            "Read https://example.com/docs/v1.2/index.html?x=1 later.")
    got = chunks(text, first_min_chars=1)
    assert got == ["Pi is about 3.14159 today.", "Dr. Smith and Mr. Jones met in the U.S. yesterday, e.g. at noon.",
                   "Read example.com later."]


def test_markdown_is_cleaned_for_speech_and_never_split_open() -> None:
    text = "Here is **bold. Still bold** and *it. alic* text. ## Not a heading mid-line.\n## Heading\n- item one\n"
    got = chunks(text, first_min_chars=1)
    joined = " ".join(got)
    assert "*" not in joined and "#" not in joined.replace("## Not", "") and "- item" not in joined
    assert got[0] == "Here is bold. Still bold and it. alic text."
    assert "Heading" in got and "item one" in got


def test_code_blocks_are_not_spoken_or_split() -> None:
    text = "Try this:\n```python\nx = 1. y = 2. print(x)\n```\nThat prints one. Use `len(x)` too."
    got = chunks(text, first_min_chars=1)
    assert got == ["Try this:", "That prints one.", "Use len(x) too."]


def test_links_speak_their_label() -> None:
    assert chunks("See [the docs](https://x.org/a.b) now. Ok.", first_min_chars=1) == ["See the docs now.", "Ok."]


def test_languages_without_spaces() -> None:
    got = chunks("你好，我是你的助手，很高兴认识你。今天天气很好！你呢？", first_min_chars=4)
    assert got == ["你好，我是你的助手，", "很高兴认识你。", "今天天气很好！", "你呢？"]


def test_long_run_without_punctuation_is_capped_at_max() -> None:
    text = " ".join(["word"] * 200)
    got = chunks(text, max_chars=60)
    assert all(len(c) <= 60 for c in got)
    assert normalize_ws(" ".join(got)) == text


def test_settings_control_the_chunker(ctx) -> None:  # type: ignore[no-untyped-def]
    """The turn's chunker is configured in one place, pipeline.settings_map (no per-class from_settings)."""
    from synthbot_desktop.pipeline.settings_map import turn_config

    s: Settings = ctx.settings
    s.set("pipeline.first_chunk_min_chars", 21)
    s.set("pipeline.chunk_max_chars", 333)
    cfg = turn_config(s)
    assert (cfg.first_chunk_min_chars, cfg.chunk_max_chars) == (21, 333)


def test_clean_for_speech_reads_no_syntax() -> None:
    assert clean_for_speech("**Bold** and __also__ and ~~gone~~ and `code`") == "Bold and also and gone and code"
    assert clean_for_speech("> quoted\n---\n| a | b |\n|---|---|") .split() == ["quoted", "a", "b"]
    assert clean_for_speech("snake_case_name stays") == "snake_case_name stays"


def test_first_chunk_ends_at_a_word_when_no_clause_comes_soon() -> None:
    text = "Those words come from the inaugural address of John F. Kennedy, given in 1961. He asked."
    assert chunks(text, step=1, first_max_words=6) == [
        "Those words come from the inaugural", "address of John F. Kennedy, given in 1961.", "He asked."]
    # off by default: the first clause as before
    assert chunks(text, step=1)[0] == "Those words come from the inaugural address of John F. Kennedy,"
    # a clause boundary inside the budget still wins
    first = chunks("Well, the quick answer is yes, you can.", step=1, first_max_words=6)[0]
    assert first == "Well, the quick answer is yes,"


def test_word_cut_never_splits_numbers_abbreviations_urls_or_after_function_words() -> None:
    got = chunks("It costs 3 000 dollars at https://shop.example.com/a.b today for sure.", step=2, first_max_words=2)
    assert got[0] == "It costs 3 000 dollars"
    got = chunks("Please ask Dr. Smith about the U.S. Army rules now please.", step=1, first_max_words=2, first_min_chars=1)
    assert got[0] == "Please ask"
    got = chunks("Go to Dr. Smith and the U.S. Army then.", step=1, first_max_words=3, first_min_chars=1)
    assert got[0] == "Go to Dr. Smith"  # not after "to" (function word) nor after "Dr." (abbreviation)
    got = chunks("Read https://example.com/x.y?z=1 and then some more words.", step=1, first_max_words=1)
    assert got[0] == "Read example.com and then"  # the URL stays whole (spoken as its host), no cut after "and"
    got = chunks("The **very bold claim here** is true and more.", step=1, first_max_words=2, first_min_chars=1)
    assert "**" not in got[0] and got[0].startswith("The very bold claim here")


# Properties ---------------------------------------------------------------------------------------
WORDS = st.sampled_from(["hello", "world", "3.14", "Dr.", "e.g.", "U.S.", "x", "答案", "好", "https://a.io/p.q",
                         "**bold**", "*it*", "`co.de`", "[lnk](http://z.z/y)", "snake_case", "2 * 3"])
SEPS = st.sampled_from([" ", " ", " ", ", ", ". ", "! ", "? ", "; ", ": ", "。", "，", "\n", "\n- ", "\n\n## "])
FENCE = st.just("\n```\ncode. more, code\n```\n")


@st.composite
def replies(draw: st.DrawFn) -> str:
    parts = [w + s for w, s in draw(st.lists(st.tuples(WORDS, SEPS), min_size=1, max_size=40))]
    if draw(st.booleans()):  # a code block between two words
        parts.insert(draw(st.integers(0, len(parts))), draw(FENCE))
    return "".join(parts)


@st.composite
def splits(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def run(deltas: list[str], **kw: int) -> list[str]:
    c = SentenceChunker(**kw)
    out = []
    for d in deltas:
        out += c.feed(d)
    out += c.flush()
    return [x.text for x in out]


@settings(max_examples=300, deadline=None)
@given(data=st.data(), first_min=st.integers(1, 30), max_chars=st.integers(40, 300),
       words=st.sampled_from([0, 1, 3, 6]))
def test_properties(data: st.DataObject, first_min: int, max_chars: int, words: int) -> None:
    text = data.draw(replies())
    deltas = data.draw(splits(text))
    got = run(deltas, first_min_chars=first_min, max_chars=max_chars, first_max_words=words)
    # 1. the same chunks however the stream was split
    assert got == run([text], first_min_chars=first_min, max_chars=max_chars, first_max_words=words)
    # 2. nothing over the cap, nothing empty
    assert all(0 < len(c) <= max_chars for c in got)
    # 3. no markdown syntax read aloud
    assert not any("**" in c or "`" in c or "](" in c for c in got)
    # 4. nothing lost, nothing invented: concatenation == cleaned text (modulo whitespace)
    if len(text) <= max_chars:
        assert normalize_ws("".join(got)).replace(" ", "") == normalize_ws(clean_for_speech(text)).replace(" ", "")
