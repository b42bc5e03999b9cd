"""Cut a streaming LLM reply into pieces a TTS engine can speak, as early as sounds natural.

Why it matters: the user hears nothing until the first piece is synthesised, so the first piece
is cut at the first clause (comma, colon, semicolon) once it has ``first_min_chars`` characters,
or at the first sentence end however short ("Sure.");
later pieces are whole sentences, which sound better and still arrive ahead of playback. When no
clause boundary comes within ``first_max_words`` words, the first piece ends at a word boundary
instead (never after an article, preposition or conjunction, which would sound cut off). The
budget is counted in words, not milliseconds: a clock would make the cut depend on network
jitter; at streaming speed (~40 tokens/s, about a word per token) six words are ~150 ms.

What it must never do: cut inside a number (3.14), after an abbreviation (e.g., Dr., U.S.),
inside a URL, a code block, or an open markdown span — the cut decides what is cleaned
together, and an unbalanced ``**`` would be read aloud. Languages without spaces (Chinese,
Japanese) end sentences with 。！？ and need no following space.

The decision at each position depends only on the text up to one character past it, so the
chunks are the same however the stream happened to be split into deltas (a property test checks
this).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from synthbot_desktop.pipeline.speech_text import clean_for_speech

FIRST_SENTENCE_MIN_CHARS = 2
"""A first piece that is a whole sentence may be this short: "Sure." / "Yes!" are spoken as a person
would, at once (at 40 tokens/s waiting for 12 characters, "Sure. That is", cost ~0.1 s before any
sound; Pipecat's aggregator sends "Sure." alone too). Clause cuts keep ``first_min_chars``."""

_BOUNDARY = re.compile(r"[.!?…]+|[;:,]|[。！？；，、：]|\n")
_CLOSERS = "\"'”’)]»」』）"
_SENTENCE_END = set(".!?…。！？\n")
_CJK_PUNCT = set("。！？；，、：")
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "eg", "ie", "approx", "no",
    "fig", "inc", "ltd", "co", "corp", "mt", "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "gen", "col", "lt", "sgt", "capt", "rev", "hon", "dept",
    "est", "vol", "ca", "cf", "al", "min", "max", "nr", "tel", "bzw", "usw", "z.b", "d.h",
})
_DOTTED = re.compile(r"^(?:[A-Za-z]\.)+[A-Za-z]$|^[A-Za-z]$")
_DIGITS = re.compile(r"^\d{1,3}$")
_WORD_END = re.compile(r"(?<=\S)[ \t]+(?=\S)")
_FUNCTION_WORDS = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "with", "by", "into", "onto", "about",
    "and", "or", "but", "nor", "so", "as", "than", "that", "if", "because", "my", "your", "his", "her",
    "its", "our", "their", "this", "these", "those", "very", "not", "no", "is", "are", "was", "were",
    "be", "i", "you", "we", "it", "he", "she", "they", "der", "die", "das", "und", "le", "la", "les", "de",
})


@dataclass(frozen=True)
class SpeechChunk:
    """One piece to synthesise: ``text`` is what is spoken, ``source`` the raw reply it came from."""

    text: str
    source: str
    index: int


class SentenceChunker:
    """Incremental chunker: ``feed`` deltas as they stream, ``flush`` at the end of the reply."""

    def __init__(self, first_min_chars: int = 12, max_chars: int = 250, clause_min_chars: int | None = None,
                 first_max_words: int = 0) -> None:
        if first_min_chars < 1 or max_chars < 10 or first_max_words < 0:
            raise ValueError("first_min_chars must be >= 1, max_chars >= 10 and first_max_words >= 0")
        self.first_min_chars = first_min_chars
        self.max_chars = max_chars
        self.first_max_words = first_max_words
        # After the first piece, a clause is only cut when the sentence is getting long.
        self.clause_min_chars = clause_min_chars if clause_min_chars is not None else max(first_min_chars, max_chars // 2)
        self._buf = ""
        self._at_line_start = True
        self._index = 0

    @property
    def pending(self) -> str:
        """Raw text received but not yet emitted."""
        return self._buf

    def feed(self, delta: str) -> list[SpeechChunk]:
        self._buf += delta
        out: list[SpeechChunk] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                return out
            out.extend(self._emit(cut))

    def flush(self) -> list[SpeechChunk]:
        """Everything left, at the end of the reply (or when it was cut off)."""
        out: list[SpeechChunk] = []
        while True:
            cut = self._find_cut()
            if cut is None:
                break
            out.extend(self._emit(cut))
        if self._buf:
            out.extend(self._emit(len(self._buf)))
        return out

    # Internals ------------------------------------------------------------------------------------
    def _emit(self, cut: int) -> list[SpeechChunk]:
        segment, self._buf = self._buf[:cut], self._buf[cut:]
        at_line_start = self._at_line_start
        trailing = segment[len(segment.rstrip()):]
        stripped = segment.rstrip(" \t")
        self._at_line_start = "\n" in trailing or (not stripped and at_line_start) or stripped.endswith("\n")
        cleaned = " ".join(clean_for_speech(segment, at_line_start=at_line_start).split())
        if not cleaned:
            return []
        pieces = _split_long(cleaned, self.max_chars)
        out = []
        for i, piece in enumerate(pieces):
            out.append(SpeechChunk(piece, segment if i == 0 else "", self._index))
            self._index += 1
        return out

    def _find_cut(self) -> int | None:
        buf = self._buf
        # The earliest valid cut wins, whichever rule found it, so the result never depends on how
        # much text had arrived when the question was asked.
        word_cut = self._first_word_cut(buf) if self._index == 0 and self.first_max_words else None
        for m in _BOUNDARY.finditer(buf):
            if m.start() >= self.max_chars:
                break
            if word_cut is not None and word_cut <= m.start():
                return word_cut
            end = m.end()
            while end < len(buf) and buf[end] in _CLOSERS:
                end += 1
            punct = m.group()
            if end >= len(buf):
                return word_cut  # cannot tell yet (a space, digit or closing quote may follow)
            nxt = buf[end]
            cjk = punct[-1] in _CJK_PUNCT
            if punct != "\n" and not cjk and not nxt.isspace():
                continue  # 3.14, example.com, "a,b"
            if punct == "." and self._is_abbreviation_or_list(buf, m.start()):
                continue
            cut = end
            while cut < len(buf) and buf[cut] in " \t\n":
                cut += 1
            if cut >= len(buf):
                return word_cut  # whitespace may continue; decide when real text follows
            if not _balanced(buf[:cut]):
                continue
            sentence = punct[-1] in _SENTENCE_END
            spoken = len(clean_for_speech(buf[:cut], at_line_start=self._at_line_start).strip())
            if spoken == 0:
                return cut if word_cut is None else min(cut, word_cut)  # markup only: consume silently
            if self._index == 0:  # a whole sentence ("Sure.") is a natural first piece; a clause ("So,") is not
                needed = min(self.first_min_chars, FIRST_SENTENCE_MIN_CHARS) if sentence else self.first_min_chars
            else:
                needed = 1 if sentence else self.clause_min_chars
            if spoken >= needed:
                return cut if word_cut is None else min(cut, word_cut)
        if word_cut is not None:
            return word_cut
        if len(buf) > self.max_chars and not _in_open_fence(buf[: self.max_chars]):
            return _forced_cut(buf, self.max_chars)
        return None

    def _first_word_cut(self, buf: str) -> int | None:
        """First piece, no clause yet: the earliest word boundary after ``first_max_words`` words
        where a cut sounds natural and breaks nothing (numbers, abbreviations, URLs, markdown)."""
        for m in _WORD_END.finditer(buf, 0, self.max_chars):
            words = len(buf[:m.start()].split())
            if words < self.first_max_words:
                continue
            cut = m.end()
            if cut >= len(buf):
                return None
            last = buf[:m.start()].split()[-1]
            bare = last.strip("\"'“”‘’()[]*_`~#>").lower()
            if not bare or bare.rstrip(".,;:") in _FUNCTION_WORDS or (not bare[-1].isalnum() and bare[-1] not in ".!?"):
                continue
            if bare.rstrip(".") in _ABBREVIATIONS or _DOTTED.match(bare.rstrip(".")) or bare.endswith("."):
                continue  # "Dr. Smith", "U.S. Army": the period decides it, not the word count
            if bare[-1].isdigit():
                continue  # "3 000", "20 %", "5 km": a number and what it counts are said together
            if not _balanced(buf[:cut]) or len(clean_for_speech(buf[:cut], at_line_start=self._at_line_start).strip()) \
                    < self.first_min_chars:
                continue
            return cut
        return None

    @staticmethod
    def _is_abbreviation_or_list(buf: str, dot: int) -> bool:
        start = dot
        while start > 0 and not buf[start - 1].isspace():
            start -= 1
        token = buf[start:dot].lstrip("([\"'“‘*_")
        if not token:
            return False
        if token.lower().replace(".", "") in _ABBREVIATIONS or token.lower() in _ABBREVIATIONS:
            return True
        if _DOTTED.match(token):
            return True
        line_start = start == 0 or buf[start - 1] == "\n"
        return bool(line_start and _DIGITS.match(token))


def _in_open_fence(text: str) -> bool:
    return text.count("```") % 2 == 1


def _balanced(text: str) -> bool:
    """True when no code fence, inline code, emphasis or link is left open at the end of ``text``."""
    if _in_open_fence(text):
        return False
    outside = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    if outside.count("`") % 2:
        return False
    if outside.count("**") % 2 or outside.count("~~") % 2:
        return False
    lone = re.sub(r"^[ \t]*\*[ \t]+", "", outside.replace("**", ""), flags=re.MULTILINE)
    lone = re.sub(r"(?<=\s)\*(?=\s)", "", lone)  # "2 * 3" is arithmetic, not emphasis
    if lone.count("*") % 2:
        return False
    last_open = outside.rfind("[")
    if last_open > outside.rfind("]"):
        return False
    paren = outside.rfind("](")
    return not (paren != -1 and outside.find(")", paren) == -1)


def _forced_cut(buf: str, max_chars: int) -> int:
    """No natural boundary within ``max_chars``: cut at the last balanced space, else after the last
    balanced punctuation or non-Latin character (CJK runs have no spaces), else hard."""
    for i in range(max_chars, 0, -1):
        if buf[i - 1].isspace() and _balanced(buf[:i]):
            return i
    for i in range(max_chars, 0, -1):
        if (buf[i - 1] in ",;:!?" or not buf[i - 1].isascii()) and _balanced(buf[:i]):
            return i
    return max_chars


def _split_long(text: str, max_chars: int) -> list[str]:
    """Split already-cleaned text so no piece exceeds ``max_chars`` (spaces first, else hard)."""
    pieces: list[str] = []
    while len(text) > max_chars:
        space = text.rfind(" ", 0, max_chars + 1)
        at = space if space > 0 else max_chars
        pieces.append(text[:at].strip())
        text = text[at:].strip()
    if text:
        pieces.append(text)
    return [p for p in pieces if p]
