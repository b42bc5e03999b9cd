"""Whisper repeating its prompt instead of hearing anything.

Why: each piece of a turn is transcribed with the words heard so far as Whisper's prompt, so a
piece after a pause continues the sentence. On a short noise blip (a breath, a click, the room after
the last word) Whisper often writes nothing new but the prompt's last words again, once or several
times: "ten of clubs" held for the end-of-turn hold, a blip, and the turn became "ten of clubs ten of
clubs" (seen in the voice-to-voice benchmark; the live caption showed it four times). A piece made
only of whole repetitions of the prompt's tail is such an echo and is treated as silence.

A person saying the same two or more words twice across a pause loses the repetition: a smaller
harm than every held turn doubling on a breath.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[\w']+", re.UNICODE)
MIN_ECHO_WORDS = 2  # "no ... no" is a person; "ten of clubs ... ten of clubs" after a blip is Whisper


def _words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(text) if w.strip("'")]


def is_prompt_echo(text: str, prompt: str | None) -> bool:
    """True when ``text`` is one or more copies of the last N (>= 2) words of ``prompt``, nothing else."""
    piece, tail = _words(text), _words(prompt or "")
    if len(piece) < MIN_ECHO_WORDS or not tail:
        return False
    for n in range(MIN_ECHO_WORDS, min(len(tail), len(piece)) + 1):
        if len(piece) % n:
            continue
        suffix = tail[-n:]
        if all(piece[i:i + n] == suffix for i in range(0, len(piece), n)):
            return True
    return False
