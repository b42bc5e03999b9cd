"""Turn ElevenLabs error replies into the app's ProviderError vocabulary.

ElevenLabs answers FastAPI-style: ``{"detail": {"status": code, "message": text}}`` for its own
errors and ``{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`` for 422 validation errors.
Quota exhaustion is a 401 (not a 429), so the ``status`` code decides, not the HTTP status alone.
"""

from __future__ import annotations

import json
from typing import Any

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.http_retry import parse_retry_after
from synthbot_desktop.redaction import redact

PROVIDER = "elevenlabs"
VOICE_MISSING_CODES = {"voice_does_not_exist", "voice_not_found"}
RETRY_CODES = {"too_many_concurrent_requests", "system_busy"}


class VoiceNotFoundError(ProviderError):
    """The requested voice id is unknown to the account: callers fall back to the default voice."""

    def __init__(self, voice_id: str | None, detail: str, **kw: Any) -> None:
        super().__init__(PROVIDER, ProviderErrorKind.NOT_FOUND, detail, **kw)
        self.voice_id = voice_id


class ValidationFailedError(ProviderError):
    """A 422: ``fields`` maps each rejected request field (e.g. ``voice_settings.speed``) to why."""

    def __init__(self, fields: dict[str, str], **kw: Any) -> None:
        listing = "; ".join(f"{k}: {v}" for k, v in fields.items()) or "validation failed"
        super().__init__(PROVIDER, ProviderErrorKind.BAD_REQUEST, listing,
                         hint="fix the named field(s); voice settings take 0–1, speed 0.7–1.2", **kw)
        self.fields = fields


class StreamInterruptedError(ProviderError):
    """The audio stream broke after some audio arrived; that audio was already handed on."""

    def __init__(self, bytes_received: int, detail: str, **kw: Any) -> None:
        super().__init__(PROVIDER, ProviderErrorKind.CONNECTION,
                         f"the audio stream was cut after {bytes_received} bytes ({detail})",
                         hint="the part that arrived was kept; check the network", **kw)
        self.bytes_received = bytes_received


def retry_after_seconds(headers: Any) -> float | None:
    """The shared parser (seconds or HTTP date), so TTS waits as long as the LLM clients would."""
    return parse_retry_after(headers)


def _detail(body: bytes) -> tuple[str | None, str | None, Any]:
    """(status code, message, raw detail) from an error body; tolerant of HTML and garbage."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        text = body.decode("utf-8", "replace").strip().splitlines()
        return None, (text[0][:200] if text else None), None
    detail = data.get("detail") if isinstance(data, dict) else None
    if isinstance(detail, dict):
        return detail.get("status"), detail.get("message"), detail
    if isinstance(detail, str):
        return None, detail, detail
    return None, None, detail


def _validation_fields(detail: Any) -> dict[str, str]:
    fields: dict[str, str] = {}
    if isinstance(detail, list):
        for item in detail:
            if not isinstance(item, dict):
                continue
            loc = [str(p) for p in item.get("loc", []) if p != "body"]
            fields[".".join(loc) or "request"] = str(item.get("msg", "invalid"))
    return fields


def error_from_response(status: int, headers: Any, body: bytes, *, voice_id: str | None = None) -> ProviderError:
    """The ProviderError for one non-2xx reply (body already read)."""
    code, message, detail = _detail(body)
    request_id = headers.get("request-id") or headers.get("x-trace-id") if headers is not None else None
    msg = redact(message or f"HTTP {status}")
    kw: dict[str, Any] = {"status_code": status, "request_id": request_id}
    if status == 422:
        return ValidationFailedError(_validation_fields(detail) or {"request": msg}, **kw)
    if code in VOICE_MISSING_CODES or (status == 404 and voice_id and "voice" in msg.lower()):
        return VoiceNotFoundError(voice_id, msg, **kw)
    if code == "quota_exceeded":
        return ProviderError(PROVIDER, ProviderErrorKind.QUOTA, msg, **kw)
    if status in (401, 403) or code in {"invalid_api_key", "missing_api_key"}:
        kind = ProviderErrorKind.AUTHENTICATION if status == 401 else ProviderErrorKind.PERMISSION
        return ProviderError(PROVIDER, kind, msg, **kw)
    if status == 429 or code in RETRY_CODES:
        retry = retry_after_seconds(headers)
        hint = None
        if code == "too_many_concurrent_requests":
            hint = "your plan limits parallel requests; the app queues and retries"
        return ProviderError(PROVIDER, ProviderErrorKind.RATE_LIMIT, f"{code or 'rate limited'}: {msg}",
                             retry_after=retry, hint=hint, **kw)
    if status >= 500:
        return ProviderError(PROVIDER, ProviderErrorKind.UNAVAILABLE, msg, **kw)
    if code == "max_character_limit_exceeded":
        return ProviderError(PROVIDER, ProviderErrorKind.BAD_REQUEST, msg,
                             hint="the text is split at sentences; lower the chunk size in settings", **kw)
    if status == 404:
        return ProviderError(PROVIDER, ProviderErrorKind.NOT_FOUND, msg, **kw)
    return ProviderError(PROVIDER, ProviderErrorKind.BAD_REQUEST, msg, **kw)
