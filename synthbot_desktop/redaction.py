"""Scrub secrets from any text before it is logged, shown or stored.

Two layers: every secret the app itself loaded (keyring, env) is registered and replaced
verbatim, and common key shapes are caught by pattern even when the app never saw the value
(a key pasted into a prompt, a key echoed back in a provider's error message).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "[REDACTED]"

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # Authorization headers and similar "scheme token" pairs.
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=\-]{6,}"), r"\1 " + MASK),
    # Header-style secrets: xi-api-key, x-api-key, x-goog-api-key, api-key, api_key, token.
    (re.compile(r"(?i)\b((?:xi|x|x-goog)-api-key|api[-_]?key|access[-_]?token|password|passwd|secret)"
                r"([\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]{4,})"), r"\1\2" + MASK),
    # Query parameters such as ?key=AIza... (Gemini) or &api_key=...
    (re.compile(r"(?i)([?&](?:key|api_key|token|access_token)=)[^&\s\"']+"), r"\1" + MASK),
    # Provider key shapes: OpenAI/Anthropic sk-..., Google AIza..., ElevenLabs sk_...
    (re.compile(r"\bsk-(?:ant-|proj-|svcacct-)?[A-Za-z0-9_\-]{12,}"), MASK),
    (re.compile(r"\bsk_[A-Za-z0-9]{20,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{30,}"), MASK),
    # Passwords inside URLs: scheme://user:password@host
    (re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]+:)([^@\s/]+)(@)"), r"\1" + MASK + r"\3"),
]


class Redactor:
    """Thread-safe registry of known secrets plus the shape patterns above."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def register(self, secret: str | None) -> None:
        """Remember a secret value so it is masked wherever it appears later."""
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def forget_all(self) -> None:
        with self._lock:
            self._secrets.clear()

    def redact(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, repl in _PATTERNS:
            text = pattern.sub(repl, text)
        return text


REDACTOR = Redactor()


def redact(text: str) -> str:
    """Mask every registered secret and every common key shape in ``text``."""
    return REDACTOR.redact(text)


def register_secret(secret: str | None) -> None:
    REDACTOR.register(secret)


def redact_value(value: Any) -> Any:
    """Redact strings inside nested dicts/lists (for JSON details stored in the database)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


class RedactingFilter(logging.Filter):
    """Logging filter that renders the message (and traceback) and scrubs it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed format string must not hide the log line
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
