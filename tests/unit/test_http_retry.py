"""The one Retry-After parser used by the LLM clients and ElevenLabs."""

from __future__ import annotations

import datetime as dt

import httpx

from synthbot_desktop.http_retry import parse_retry_after
from synthbot_desktop.llm import http_errors
from synthbot_desktop.tts import elevenlabs_errors

NOW = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


def test_seconds() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after": "-3"}) == 0.0  # never a negative wait


def test_milliseconds_win_over_seconds() -> None:
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "junk", "retry-after": "9"}) == 9


def test_http_date() -> None:
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2025 12:00:30 GMT"}, NOW) == 30
    assert parse_retry_after({"retry-after": "Wed, 01 Jan 2025 11:59:00 GMT"}, NOW) == 0.0  # in the past


def test_garbage_and_absent() -> None:
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": ""}) is None
    assert parse_retry_after({}) is None
    assert parse_retry_after(None) is None


def test_both_providers_use_the_one_parser() -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    headers = httpx.Headers({"Retry-After": soon.strftime("%a, %d %b %Y %H:%M:%S GMT")})
    assert http_errors.parse_retry_after is parse_retry_after
    # ElevenLabs used to ignore the HTTP-date form; it now waits like the LLM clients.
    waited = elevenlabs_errors.retry_after_seconds(headers)
    assert waited is not None and 100 < waited <= 120
    assert elevenlabs_errors.retry_after_seconds(httpx.Headers({"Retry-After": "4"})) == 4
