"""Tolerant JSON reading for stream events: a malformed line is logged and skipped."""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("synthbot_desktop.llm")


def loads_event(provider: str, text: str) -> dict[str, Any] | None:
    """Parse one event's JSON; None (after a warning) when it is malformed or not an object.

    One broken line from a proxy should not throw away a reply that is otherwise fine; if the
    whole stream is broken, the missing end-of-reply marker turns it into an error anyway.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a line nested thousands of brackets deep
        log.warning("%s: skipped a malformed stream line (%d chars)", provider, len(text))
        return None
    if not isinstance(data, dict):
        log.warning("%s: skipped a stream line that is not a JSON object", provider)
        return None
    return data


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def object_arguments(value: Any) -> str:
    """A complete tool call's arguments as JSON text (Gemini/Ollama send an object, not text)."""
    if isinstance(value, str):
        return value
    return json.dumps(value if value is not None else {}, ensure_ascii=False)


def arguments_object(text: str) -> dict[str, Any]:
    """A stored call's JSON arguments as an object, for providers that want one back ({} if malformed:
    the model already got an error result for it)."""
    try:
        value = json.loads(text or "{}")
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
