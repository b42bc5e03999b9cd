"""Turn model output (markdown, code, links) into text a voice can read aloud.

LLMs answer in markdown; a TTS engine reading it literally says "asterisk asterisk" or spells
out a URL. The display keeps the original text; only what is *spoken* goes through here.
Cleaning only ever removes characters (or replaces a link with its label / a URL with its host),
so a cleaned piece is never longer than its source — the chunker relies on that for its size cap.
"""

from __future__ import annotations

import re

_FENCE_BLOCK = re.compile(r"```.*?(?:```|\Z)", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]*)`")
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\([^)\s]*\)")
_LINK = re.compile(r"\[([^\]\n]*)\]\([^)\s]*\)")
_URL = re.compile(r"\b(?:https?|ftp)://([\w.:-]+)[\x21-\x7e]*?(?=[.,;:!?)\]]*(?:[^\x21-\x7e]|$))")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~", re.DOTALL)
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])")
_ITALIC_UNDER = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+", re.MULTILINE)
_QUOTE = re.compile(r"^[ \t]{0,3}>[ \t]?", re.MULTILINE)
_BULLET = re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", re.MULTILINE)
_RULE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.MULTILINE)
_TABLE_SEP = re.compile(r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.MULTILINE)
_PIPES = re.compile(r"[ \t]*\|[ \t]*")
_LEFTOVER_MARKS = re.compile(r"\*{2,}|_{2,}|~~|`+")
_SPACES = re.compile(r"[ \t]{2,}")


def clean_for_speech(text: str, *, at_line_start: bool = True) -> str:
    """Strip markdown and code so TTS reads words, not syntax.

    ``at_line_start`` says whether ``text`` begins a line in the full reply: a piece cut after
    "Well. " must not have a leading "- " treated as a bullet, while one cut after a newline must.
    """
    prefix = "" if at_line_start else "\x00"  # a sentinel keeps ^ from matching a mid-line start
    out = prefix + text
    out = _FENCE_BLOCK.sub(" ", out)
    out = _IMAGE.sub(r"\1", out)
    out = _LINK.sub(r"\1", out)
    out = _URL.sub(r"\1", out)
    out = _INLINE_CODE.sub(r"\1", out)
    out = _TABLE_SEP.sub("", out)
    out = _RULE.sub("", out)
    out = _HEADING.sub("", out)
    out = _QUOTE.sub("", out)
    out = _BULLET.sub("", out)
    out = _BOLD.sub(r"\2", out)
    out = _STRIKE.sub(r"\1", out)
    out = _ITALIC_STAR.sub(r"\1", out)
    out = _ITALIC_UNDER.sub(r"\1", out)
    out = _LEFTOVER_MARKS.sub("", out)
    out = _PIPES.sub(" ", out) if "|" in out else out
    out = _SPACES.sub(" ", out)
    if prefix:
        out = out.replace("\x00", "", 1)
    return out


def normalize_ws(text: str) -> str:
    """Collapse all whitespace: the unit in which chunk concatenation is compared to the source."""
    return " ".join(text.split())
