"""Split long text at sentence boundaries so each piece fits one TTS request.

ElevenLabs refuses text above a per-model character limit (``max_character_limit_exceeded``);
cutting mid-word would also break the prosody, so pieces end at sentence ends, then clause
ends, then spaces, and only as a last resort inside a word.
"""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,;:—–])\s+")


def _hard_wrap(text: str, limit: int) -> list[str]:
    """Wrap at spaces; split single words longer than ``limit`` (rare: URLs, garbage)."""
    out: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:
            if current:
                out.append(current)
                current = ""
            out.append(word[:limit])
            word = word[limit:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= limit:
            current = candidate
        else:
            out.append(current)
            current = word
    if current:
        out.append(current)
    return out


def _pieces(text: str, limit: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    if len(sentences) == 1:
        clauses = [c.strip() for c in _CLAUSE_END.split(text) if c.strip()]
        if len(clauses) == 1:
            return _hard_wrap(text, limit)
        return [p for c in clauses for p in (_hard_wrap(c, limit) if len(c) > limit else [c])]
    return [p for s in sentences for p in _pieces(s, limit)]


def split_for_requests(text: str, limit: int) -> list[str]:
    """Pieces of ``text`` of at most ``limit`` characters, packing whole sentences greedily.

    Whitespace is normalised; empty or blank text gives an empty list (nothing to say).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    clean = " ".join(text.split())
    if not clean:
        return []
    packed: list[str] = []
    current = ""
    for piece in _pieces(clean, limit):
        candidate = f"{current} {piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
        else:
            packed.append(current)
            current = piece
    if current:
        packed.append(current)
    return packed
