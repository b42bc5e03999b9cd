"""Does a transcript sound like the user has finished their turn? A small text heuristic.

Why: a pause is not the end of a turn. People stop mid-sentence ("And so, my fellow Americans
... ask not ..."), and answering into that pause both talks over them and splits one question
into two. Pipecat's smart-turn and LiveKit's turn detector use a model for this; this module is
the cheap version, applied to what Whisper heard:

- no terminal punctuation (``. ? ! … 。 ？ ！``), or a trailing comma, colon, dash or ellipsis
  -> unfinished;
- ends on a conjunction, preposition, article or filler ("and", "because", "the", "um") -> unfinished;
- Whisper punctuates fragments anyway ("Ask!", "And so my fellow Americans."), so a piece of one
  or two words that is not a reply on its own ("yes", "thanks", "stop") and a short piece that
  opens with a connective ("and so ...", "but ...") count as unfinished too.

Only the newest piece is judged (the earlier pieces already were). It is deliberately
conservative: a wrong "unfinished" costs the hold time (``pipeline.incomplete_turn_hold_ms``),
a wrong "finished" is repaired by withdrawing the turn if the user speaks again before hearing
the reply.
"""

from __future__ import annotations

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
_OPENERS = ("and", "but", "so", "or", "because", "well", "also", "then")
_STANDALONE = frozenset({
    "yes", "no", "yeah", "yep", "nope", "ok", "okay", "sure", "thanks", "thank you", "stop", "hello", "hi",
    "hey", "bye", "goodbye", "right", "correct", "exactly", "why", "how", "what", "really", "continue",
    "go on", "please", "sorry", "pardon", "great", "cool", "fine", "nothing", "never mind", "wait",
})
_WORD = re.compile(r"[\w']+", re.UNICODE)


def looks_complete(text: str) -> bool:
    """True when ``text`` (the newest transcribed piece of a turn) sounds like a finished turn."""
    t = text.strip().rstrip(_CLOSERS).strip()
    if not t:
        return True  # nothing to wait for
    if t.endswith(_TRAILING_OPEN) or t[-1] not in TERMINAL:
        return False
    words = [w.lower() for w in _WORD.findall(t)]
    if not words:
        return True
    if words[-1] in _DANGLING:
        return False
    phrase = " ".join(words)
    if len(words) <= 2 and phrase not in _STANDALONE and not _is_cjk(t):
        return False
    return not (words[0] in _OPENERS and len(words) <= 5)


def _is_cjk(text: str) -> bool:
    return any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in text)
