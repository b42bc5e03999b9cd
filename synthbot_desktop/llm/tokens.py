"""Token estimates without tokenizer downloads.

Used only where a provider reports no usage (marked ``estimated``) and to fit context into a
budget, so a cheap, slightly pessimistic rule beats an exact tokenizer we cannot ship for
every model: about four characters per token for Latin text, one token per CJK/kana/hangul
character, and a few tokens of framing per message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

MESSAGE_OVERHEAD_TOKENS = 4


def _is_wide(ch: str) -> bool:
    o = ord(ch)
    return (0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF
            or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F)


def estimate_tokens(text: str) -> int:
    """Approximate token count of ``text`` (0 for empty text)."""
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) / 4)
    wide = sum(1 for ch in text if _is_wide(ch))
    narrow_bytes = len(text.encode("utf-8")) - 3 * wide
    # Non-ASCII Latin/Cyrillic letters cost more than ASCII: count UTF-8 bytes, not characters.
    return wide + math.ceil(max(0, narrow_bytes) / 4)


def estimate_messages_tokens(contents: Iterable[str]) -> int:
    """Tokens for a list of message texts, including per-message framing."""
    return sum(estimate_tokens(c) + MESSAGE_OVERHEAD_TOKENS for c in contents)
