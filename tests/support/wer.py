"""Word and character error rates with the normalisation every speech test and benchmark uses.

Shared here (not imported from a test module) so tests and ``benchmarks/`` score the same way.

``wer()`` is the plain score (lower case, no punctuation) the tests were calibrated with.
``number_wer()`` adds an English number-aware normaliser, because Whisper writes "10 of clubs",
"3:45" or "1, 2, 3" where a reference spells "ten of clubs", "three forty five", "one two three":
scoring those as word errors measures formatting, not recognition. Both sides are rewritten the
same way: number words become digits ("twenty-five" -> 25, "one hundred and five" -> 105,
"oh" between digits -> 0), separators inside numbers go ("3:45", "1,000", "10001-90210"), and
a run of adjacent digit tokens is joined into one token ("18 13" -> 1813, "1 2 3" -> 123). So a
spoken digit string counts as ONE word: any digit wrong in it is one error, not one per digit.

``cer()`` is for languages written without spaces between words (zh, ja, ko): characters with
spaces and punctuation removed.
"""

from __future__ import annotations

import re
import unicodedata

import jiwer

_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if i >= 2}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
_ABBREVIATIONS = {"mr": "mister", "mrs": "missus", "ms": "miss", "dr": "doctor"}
_DIGITS = re.compile(r"^\d+(\.\d+)?$")
_NO_SPACE_LANGUAGES = {"zh", "ja", "ko", "th", "lo", "my", "km"}


def _plain_tokens(text: str) -> list[str]:
    """Lower case, keep letters of every script, digits and inner apostrophes; no punctuation."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    text = re.sub(r"(?<=\d)[,:](?=\d)", "", text)  # 1,000 -> 1000 and 3:45 -> 345 (as "three forty five")
    text = re.sub(r"(?<=\d)-(?=\d)", " ", text)  # 10001-90210 -> digit tokens, joined below
    text = re.sub(r"(?<=\d)%", " percent", text)
    text = re.sub(r"[^\w\s'.]|_", " ", text)
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)  # a dot survives only inside a decimal number
    return [t.strip("'") for t in text.split() if t.strip("'")]


def _is_number_word(token: str) -> bool:
    return token in _UNITS or token in _TENS or token in _SCALES


def _parse_number_run(words: list[str]) -> list[str]:
    """A run of number words -> digit strings: 'twenty five' -> ['25'], 'eighteen thirteen' -> ['18', '13']."""
    out: list[str] = []
    total, current, have = 0, 0, False
    last_kind = ""

    def flush() -> None:
        nonlocal total, current, have
        if have:
            out.append(str(total + current))
        total, current, have = 0, 0, False

    for w in words:
        if w in _SCALES:
            scale = _SCALES[w]
            if scale == 100:
                current = (current or 1) * 100
            else:
                total += (current or 1) * scale
                current = 0
            have, last_kind = True, "scale"
            continue
        value = _UNITS.get(w, _TENS.get(w, 0))
        kind = "tens" if w in _TENS else "unit"
        # A unit after a tens word adds to it (twenty five); after a scale it adds too (hundred five).
        # Anything else starts a new number (eighteen thirteen, one two three).
        if have and ((last_kind == "tens" and kind == "unit" and value < 10 and current % 10 == 0)
                     or (last_kind == "scale" and (current % 100 == 0 or current == 0))):
            current += value
        else:
            flush()
            current, have = value, True
        last_kind = kind
    flush()
    return out


def _numbers_to_digits(tokens: list[str]) -> list[str]:
    words: list[str] = []
    for t in tokens:  # twenty-five -> twenty five; cold-hearted -> cold hearted
        words.extend(p for p in t.split("-") if p)
    words = [_ABBREVIATIONS.get(w, w) for w in words]
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if _is_number_word(w) or (w == "oh" and _next_to_number(words, i)):
            j = i
            run: list[str] = []
            while j < len(words) and (_is_number_word(words[j]) or (words[j] == "oh" and _next_to_number(words, j))
                                      or (words[j] == "and" and run and j + 1 < len(words)
                                          and words[j + 1] in _UNITS | _TENS and run[-1] in _SCALES)):
                if words[j] != "and":
                    run.append("zero" if words[j] == "oh" else words[j])
                j += 1
            if run == [] or all(r in _SCALES for r in run):  # a bare "hundred" stays a word
                out.extend(words[i:j])
            else:
                out.extend(_parse_number_run(run))
            i = j
        else:
            out.append(w)
            i += 1
    joined: list[str] = []
    for t in out:  # adjacent digit tokens form one number: 18 13 -> 1813, 1 2 3 -> 123
        if joined and _DIGITS.match(t) and _DIGITS.match(joined[-1]) and "." not in t + joined[-1]:
            joined[-1] += t
        else:
            joined.append(t)
    return joined


def _next_to_number(words: list[str], i: int) -> bool:
    """'oh' is zero only inside a spoken digit string ("nine oh two"), not as an exclamation."""
    def numeric(k: int) -> bool:
        return 0 <= k < len(words) and (words[k] in _UNITS or words[k].isdigit())
    return numeric(i - 1) or numeric(i + 1)


def normalise(text: str, *, numbers: bool = True) -> str:
    """The canonical form both sides are scored in (``numbers=False``: punctuation and case only)."""
    tokens = _plain_tokens(text)
    if numbers:
        tokens = _numbers_to_digits(tokens)
    return " ".join(tokens)


def wer(reference: str, hypothesis: str) -> float:
    """Plain WER (case and punctuation ignored), as the speech tests were calibrated with."""
    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return float(jiwer.wer(reference, hypothesis, reference_transform=norm, hypothesis_transform=norm))


def number_wer(reference: str, hypothesis: str) -> float:
    """WER after the English number-aware normaliser (see the module docstring)."""
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp or "<empty>"))


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate without spaces or punctuation (for zh/ja/ko and as a second view)."""
    ref = "".join(_plain_tokens(reference))
    hyp = "".join(_plain_tokens(hypothesis))
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.cer(ref, hyp or " "))


def error_rate(reference: str, hypothesis: str, language: str) -> tuple[str, float]:
    """The fitting score for ``language``: ('cer', x) where words are not space-separated, else ('wer', x).

    English uses the number-aware WER; other languages the plain one (the number words are English).
    """
    if language in _NO_SPACE_LANGUAGES:
        return "cer", cer(reference, hypothesis)
    return "wer", number_wer(reference, hypothesis) if language == "en" else wer(reference, hypothesis)
