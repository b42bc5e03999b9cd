"""Does a transcript sound like the user has finished their turn? A small text heuristic.

Why: a pause is not the end of a turn. People stop mid-sentence ("And so, my fellow Americans
... ask not ..."), and answering into that pause both talks over them and splits one question
into two. Pipecat's smart-turn and LiveKit's turn detector use a model for this; this module is
the cheap version, applied to what Whisper heard:

- no terminal punctuation (``. ? ! … 。 ？ ！``), or a trailing comma, colon, dash or ellipsis
  -> unfinished;
- ends on a conjunction, preposition, article or filler ("and", "because", "the", "um") -> unfinished;
- Whisper punctuates fragments anyway ("Ask!", "And so am I fellow Americans."), and which mark
  it writes changes with the model version and the CPU's timing. So the rules below look at the
  *words* only, and hold a piece whatever mark ends it (comma, period, "!" or none): a piece of one
  or two words that is not a reply on its own ("yes", "thanks", "stop"), a short piece that opens
  with a connective ("and so ...", "but ..."), a piece that ends on a vocative ("..., my fellow
  Americans") and a short noun phrase with no verb ("the weather in Paris").
  Punctuation can only add a hold (a trailing comma), never remove one the words call for.

Pieces that only *may* go on (a word or two, a verbless noun phrase, no final mark) get the shorter
``pipeline.maybe_turn_hold_ms``; pieces that certainly go on (a dangling "and"/"the", a trailing comma,
an opener, an address) get ``pipeline.incomplete_turn_hold_ms``.

Only the newest piece is judged (the earlier pieces already were). It is deliberately
conservative: a wrong "unfinished" costs the hold time,
a wrong "finished" is repaired by withdrawing the turn if the user speaks again before hearing
the reply.
"""

from __future__ import annotations

import enum
import re

TERMINAL = ".?!…。？！"
_TRAILING_OPEN = (",", ":", ";", "-", "—", "–", "...", "…", "、", "，")
_CLOSERS = "\"'”’)]»」』）"
_DANGLING = frozenset({
    "and", "or", "but", "nor", "so", "because", "if", "when", "while", "although", "though", "unless",
    "than", "that", "which", "who", "whose", "where", "then", "the", "a", "an", "of", "to", "in", "on",
    "at", "for", "from", "with", "by", "about", "into", "like", "my", "your", "our", "their", "his", "her",
    "its", "is", "are", "was", "were", "um", "uh", "er", "erm", "hmm", "mm",
})
_OPENERS = frozenset({"and", "but", "so", "or", "because", "well", "also", "then", "now", "um", "uh"})
_OPENER_MAX_WORDS = 8  # "and so am I fellow Americans" (6) is a preamble, not a question
_STANDALONE = frozenset({
    "yes", "no", "yeah", "yep", "nope", "ok", "okay", "sure", "thanks", "thank you", "stop", "hello", "hi",
    "hey", "bye", "goodbye", "right", "correct", "exactly", "why", "how", "what", "really", "continue",
    "go on", "please", "sorry", "pardon", "great", "cool", "fine", "nothing", "never mind", "wait",
    "good morning", "good afternoon", "good evening", "good night", "thank you very much", "no thanks",
})
# Trailing forms of address: content usually follows them ("..., my fellow Americans: ask not ...").
_VOCATIVES = (
    ("fellow", "americans"), ("fellow", "citizens"), ("ladies", "and", "gentlemen"), ("my", "friends"),
    ("everyone",), ("everybody",), ("folks",), ("guys",), ("friends",), ("you", "all"),
)
# A deliberately small verb lexicon: auxiliaries, modals, question words and the commands people
# give an assistant. A short piece with none of these (and no verb-like ending) is a noun phrase.
_VERBISH = frozenset({
    "am", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had",
    "can", "could", "will", "would", "shall", "should", "may", "might", "must", "let", "lets",
    "what", "who", "why", "how", "when", "where", "which", "whats", "hows", "wheres", "whos",
    "ask", "tell", "give", "show", "play", "stop", "make", "find", "set", "turn", "open", "close", "call",
    "send", "read", "write", "say", "go", "come", "take", "get", "put", "know", "think", "want", "need",
    "like", "love", "see", "look", "help", "try", "use", "keep", "start", "remind", "add", "check", "book",
    "explain", "translate", "search", "repeat", "cancel", "pause", "resume", "skip", "list", "buy", "pay",
    "mean", "means", "thank", "hear", "feel", "believe", "guess", "hope", "wish", "work", "works", "live",
})
_VERB_SUFFIXES = ("ed", "ing", "n't", "'s", "'re", "'m", "'ll", "'ve", "'d")
_NOUN_PHRASE_MAX_WORDS = 6
_WORD = re.compile(r"[\w']+", re.UNICODE)


class Finish(enum.Enum):
    """How sure the words are that the turn is over; each grade has its own end-of-turn hold.

    Why grades: a short verbless answer ("Ten of clubs.", "the red one") is usually the whole turn when it
    answers a question, yet "the weather in Paris" may go on. Holding both as long as "and the ..."
    (which certainly goes on) made every short answer wait 1.2 s of silence. ``MAYBE`` waits a shorter
    hold, and the loop prepares the reply during it (a speculative turn released when it ends). One or
    two words stay UNFINISHED: in jfk.flac "Ask!" and "Not." are pauses inside one sentence."""

    COMPLETE = "complete"
    MAYBE = "maybe"  # a phrase with no verb, or no final mark: probably over, wait a little
    UNFINISHED = "unfinished"  # ends on "and"/"the", a comma, an opener or an address: more is coming


def judge(text: str) -> Finish:
    """The grade for ``text``, the newest transcribed piece of a turn."""
    t = text.strip().rstrip(_CLOSERS).strip()
    if not t:
        return Finish.COMPLETE  # nothing to wait for
    words_grade = judge_words(t)
    if words_grade is Finish.UNFINISHED or t.endswith(_TRAILING_OPEN):
        return Finish.UNFINISHED
    if words_grade is Finish.MAYBE or t[-1] not in TERMINAL:
        return Finish.MAYBE
    return Finish.COMPLETE


def looks_complete(text: str) -> bool:
    """True when ``text`` (the newest transcribed piece of a turn) sounds like a finished turn."""
    return judge(text) is Finish.COMPLETE


def words_sound_complete(text: str) -> bool:
    """The word-only part of the judgement: the same answer whatever punctuation Whisper wrote."""
    return judge_words(text) is Finish.COMPLETE


def judge_words(text: str) -> Finish:
    """The grade from the words alone (Whisper's punctuation varies; see the module docstring)."""
    words = [w.lower().strip("'") for w in _WORD.findall(text)]
    words = [w for w in words if w]
    if not words or _is_cjk(text):
        return Finish.COMPLETE
    if words[-1] in _DANGLING:
        return Finish.UNFINISHED
    phrase = " ".join(words)
    if phrase in _STANDALONE:
        return Finish.COMPLETE
    if len(words) <= 2:
        return Finish.UNFINISHED  # "Ask!" ... "not": mid-speech fragments far more often than answers
    if words[0] in _OPENERS and len(words) <= _OPENER_MAX_WORDS:
        return Finish.UNFINISHED
    rest = _strip_vocative(words)
    if rest is not None and " ".join(rest) not in _STANDALONE:
        return Finish.UNFINISHED  # "... my fellow Americans" — the address, the point comes next
    if len(words) <= _NOUN_PHRASE_MAX_WORDS and not any(_is_verbish(w) for w in words):
        return Finish.MAYBE
    return Finish.COMPLETE


def _strip_vocative(words: list[str]) -> list[str] | None:
    """The words before a trailing form of address, or None when the piece does not end on one."""
    for voc in _VOCATIVES:
        n = len(voc)
        if len(words) >= n and tuple(words[-n:]) == voc:
            rest = words[:-n]
            if rest and rest[-1] == "my":
                rest = rest[:-1]
            return rest
    return None


def _is_verbish(word: str) -> bool:
    return word in _VERBISH or (len(word) > 4 and word.endswith(_VERB_SUFFIXES))


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)
