"""Turn provider HTTP failures into the app's one error vocabulary.

The four APIs disagree on shapes (OpenAI ``{"error":{"type","code"}}``, Anthropic
``{"type":"error","error":{"type"}}``, Gemini's Google-RPC ``{"error":{"status","details"}}``,
Ollama's ``{"error":"text"}``) and even on status codes (Gemini answers a bad key with 400,
OpenAI a spent quota with 429). One parser reads them all, so each provider module only
names its request-id header. Every detail is redacted: some providers echo the key back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.http_retry import parse_retry_after
from synthbot_desktop.redaction import redact

K = ProviderErrorKind

# Provider error type/code/status/reason strings that decide the kind regardless of HTTP status.
CODE_KINDS: dict[str, ProviderErrorKind] = {
    "insufficient_quota": K.QUOTA,
    "billing_error": K.QUOTA,
    "enforced_spend_limit_reached": K.QUOTA,
    "billing_hard_limit_reached": K.QUOTA,
    "context_length_exceeded": K.CONTEXT_TOO_LONG,
    "string_above_max_length": K.CONTEXT_TOO_LONG,
    "request_too_large": K.CONTEXT_TOO_LONG,
    "invalid_api_key": K.AUTHENTICATION,
    "authentication_error": K.AUTHENTICATION,
    "api_key_invalid": K.AUTHENTICATION,
    "unauthenticated": K.AUTHENTICATION,
    "permission_error": K.PERMISSION,
    "permission_denied": K.PERMISSION,
    "not_found_error": K.NOT_FOUND,
    "model_not_found": K.NOT_FOUND,
    "not_found": K.NOT_FOUND,
    "overloaded_error": K.UNAVAILABLE,
    "api_error": K.UNAVAILABLE,
    "server_error": K.UNAVAILABLE,
    "unavailable": K.UNAVAILABLE,
    "internal": K.UNAVAILABLE,
    "timeout_error": K.TIMEOUT,
    "deadline_exceeded": K.TIMEOUT,
    "rate_limit_error": K.RATE_LIMIT,
    "rate_limit_exceeded": K.RATE_LIMIT,
    "invalid_request_error": K.BAD_REQUEST,
    "invalid_argument": K.BAD_REQUEST,
}

_CONTEXT_PHRASES = ("context length", "context window", "prompt is too long", "too many tokens",
                    "maximum context", "input is too long")


def kind_for_status(status: int) -> ProviderErrorKind:
    if status in (401,):
        return K.AUTHENTICATION
    if status == 402:
        return K.QUOTA
    if status == 403:
        return K.PERMISSION
    if status == 404:
        return K.NOT_FOUND
    if status in (408, 504):
        return K.TIMEOUT
    if status == 413:
        return K.CONTEXT_TOO_LONG
    if status == 429:
        return K.RATE_LIMIT
    if status == 409 or status >= 500:
        return K.UNAVAILABLE
    return K.BAD_REQUEST


_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)s\s*$")


def _gemini_retry_delay(details: Any) -> float | None:
    if not isinstance(details, list):
        return None
    for d in details:
        if isinstance(d, dict) and str(d.get("@type", "")).endswith("RetryInfo"):
            m = _DURATION.match(str(d.get("retryDelay", "")))
            if m:
                return float(m.group(1))
    return None


def _codes_from(body: Any) -> tuple[list[str], str | None, float | None]:
    """(codes, message, retry delay) from any of the four error body shapes."""
    codes: list[str] = []
    message: str | None = None
    delay: float | None = None
    if not isinstance(body, dict):
        return codes, message, delay
    err = body.get("error")
    if isinstance(err, str):  # Ollama / some OpenAI-compatible servers
        return codes, err, delay
    if isinstance(err, dict):
        message = err.get("message") if isinstance(err.get("message"), str) else None
        for key in ("code", "type", "status"):
            v = err.get(key)
            if isinstance(v, str) and v:
                codes.append(v.lower())
        details = err.get("details")
        if isinstance(details, list):
            for d in details:
                if isinstance(d, dict) and isinstance(d.get("reason"), str):
                    codes.append(d["reason"].lower())
        elif isinstance(details, dict) and isinstance(details.get("error_code"), str):
            codes.insert(0, details["error_code"].lower())  # Anthropic spend cap
        delay = _gemini_retry_delay(details)
    if isinstance(body.get("detail"), dict):  # FastAPI-style proxies
        detail = body["detail"]
        message = message or detail.get("message")
        if isinstance(detail.get("status"), str):
            codes.append(detail["status"].lower())
    return codes, message, delay


def error_from_response(
    provider: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    request_id: str | None = None,
) -> ProviderError:
    """The ProviderError for a non-2xx response (``body`` may be HTML, empty or truncated)."""
    try:
        parsed: Any = json.loads(body.decode("utf-8", errors="replace")) if body.strip() else None
    except (ValueError, RecursionError):
        parsed = None
    codes, message, delay = _codes_from(parsed)
    kind = kind_for_status(status)
    # The most specific code wins: Gemini sends status INVALID_ARGUMENT *and* reason API_KEY_INVALID.
    mapped = [CODE_KINDS[c] for c in codes if c in CODE_KINDS]
    specific = [k for k in mapped if k is not K.BAD_REQUEST]
    if specific:
        kind = specific[0]
    if message and kind is K.BAD_REQUEST and any(p in message.lower() for p in _CONTEXT_PHRASES):
        kind = K.CONTEXT_TOO_LONG
    if parsed is None and body.strip():
        ctype = headers.get("content-type", "unknown type").split(";")[0]
        text = re.sub(r"<[^>]+>", " ", body[:2000].decode("utf-8", errors="replace"))
        text = " ".join(text.split())[:160]
        message = f"non-JSON error body ({ctype}): {text}" if text else f"non-JSON error body ({ctype})"
    if request_id is None and isinstance(parsed, dict) and isinstance(parsed.get("request_id"), str):
        request_id = parsed["request_id"]
    retry_after = parse_retry_after(headers)
    if retry_after is None:
        retry_after = delay
    detail = redact(message.strip())[:400] if message else None
    return ProviderError(provider, kind, detail, status_code=status, request_id=request_id,
                         retry_after=retry_after)


def error_from_transport(provider: str, exc: httpx.HTTPError, base_url: str) -> ProviderError:
    """Connection refused, DNS, TLS and timeouts, in words that point at the fix."""
    where = redact(base_url)
    if isinstance(exc, httpx.TimeoutException):
        what = "connecting" if isinstance(exc, httpx.ConnectTimeout) else "waiting for data"
        return ProviderError(provider, K.TIMEOUT, f"timed out {what} ({where})")
    text = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        low = text.lower()
        if "ssl" in low or "certificate" in low or "tls" in low:
            return ProviderError(provider, K.CONNECTION, f"TLS handshake with {where} failed: {text}",
                                 hint="check the base URL's scheme (http/https) and the system's certificates")
        return ProviderError(provider, K.CONNECTION, f"cannot connect to {where}: {text}")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ProviderError(provider, K.CONNECTION, f"invalid base URL {where}: {text}",
                             hint=f"set providers.{provider}.base_url to an http(s) URL")
    return ProviderError(provider, K.CONNECTION, f"the connection to {where} broke: {text}")
