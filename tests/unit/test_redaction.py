"""Secrets never survive into log lines or exception text."""

from __future__ import annotations

import io
import logging

import pytest

from synthbot_desktop.redaction import MASK, RedactingFilter, Redactor, redact, register_secret

SAMPLES = [
    ("Authorization: Bearer sk-proj-abcdefghijklmnop1234", "sk-proj-abcdefghijklmnop1234"),
    ("key sk-ant-api03-AbCdEf0123456789xyz leaked", "sk-ant-api03-AbCdEf0123456789xyz"),
    ("headers={'xi-api-key': 'f00dfeedf00dfeedf00dfeed'}", "f00dfeedf00dfeedf00dfeed"),
    ("x-goog-api-key: AIzaSyA1234567890abcdefghijklmnopqrstu", "AIzaSyA1234567890abcdefghijklmnopqrstu"),
    ("GET /v1beta/models?key=AIzaSyZZZ&alt=sse", "AIzaSyZZZ"),
    ("mysql+pymysql://synth:hunter2pass@db.example:3306/app", "hunter2pass"),
    ("elevenlabs sk_0123456789abcdef0123456789abcdef", "sk_0123456789abcdef0123456789abcdef"),
    ('{"api_key": "plain-secret-value"}', "plain-secret-value"),
]


@pytest.mark.parametrize(("text", "secret"), SAMPLES)
def test_common_key_shapes_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


def test_registered_secret_is_masked_anywhere() -> None:
    r = Redactor()
    r.register("opaque-token-without-shape-42")
    assert r.redact("failed with opaque-token-without-shape-42 in body") == f"failed with {MASK} in body"
    r.register("abc")  # too short to register safely: would mangle ordinary words
    assert r.redact("abc") == "abc"


def test_ordinary_text_is_untouched() -> None:
    text = "The skeleton key is in the sk-room; ask what you can do. https://example.org/x?page=2"
    assert redact(text) == text


def test_logging_filter_scrubs_message_args_and_traceback() -> None:
    register_secret("my-very-private-key-123")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("calling with %s", "my-very-private-key-123")
        try:
            raise RuntimeError("boom Bearer my-very-private-key-123")
        except RuntimeError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert "my-very-private-key-123" not in out
    assert out.count(MASK) >= 2 and "RuntimeError" in out
