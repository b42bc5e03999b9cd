"""Reading a conversation export someone hands us: every field's type checked before anything is
stored, so a hostile or hand-edited file gets one clear line instead of a traceback or wrong rows
("abc" in an integer column, the string "false" stored as true, a duplicate uid counted twice)."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

from synthbot_desktop.errors import UsageError

MAX_BYTES = 200 * 1024 * 1024
MAX_DEPTH = 32  # an export is 4 levels deep; `timings` may nest a little

_ROLES = {"user", "assistant", "system", "tool"}  # tool: a call and its result (#16)
_TEXT = ("full_content", "error", "stt_model", "stt_language", "provider", "model")
_INTS = ("tokens_in", "tokens_out")
_NUMBERS = ("audio_duration_s", "stt_confidence")
_SESSION_TEXT = ("title", "provider", "model", "tts_engine", "voice_id")
_HINT = "import a file made by `synthbot-desktop history export ID --format json`"


def _depth_ok(text: str) -> bool:
    """Bracket depth outside strings, without recursion (json.loads overflows the stack at ~100k)."""
    depth = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def load_export(path: Path) -> dict[str, Any]:
    """Read, parse and validate an export file; raises UsageError naming the first problem."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UsageError(f"{path} is larger than {MAX_BYTES // (1024 * 1024)} MB", hint=_HINT)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    if not _depth_ok(text):
        raise UsageError(f"{path} is nested more than {MAX_DEPTH} levels deep", hint=_HINT)
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})", hint=_HINT) from None
    return validate(doc)


def _no_constant(name: str) -> Any:
    raise UsageError(f"the export contains {name}, which is not a JSON number", hint=_HINT)


def _is_iso_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _fail(where: str, what: str) -> UsageError:
    return UsageError(f"{where} in the export {what}", hint=_HINT)


def validate(doc: Any, format_name: str = "synthbot-desktop.session", version: int = 1) -> dict[str, Any]:
    """The document itself if every field has its type; duplicates and wrong types are rejected."""
    if not isinstance(doc, dict) or doc.get("format") != format_name:
        raise UsageError("this file is not a SynthBot conversation export", hint=_HINT)
    v = doc.get("version")
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise _fail("'version'", f"must be a positive whole number, not {type(v).__name__}")
    if v > version:
        raise UsageError(f"the export is format version {v}, newer than this app understands",
                         hint="update SynthBot Desktop")
    sess = doc.get("session", {})
    if sess is None:
        sess = {}
    if not isinstance(sess, dict):
        raise _fail("'session'", f"must be an object, not {type(sess).__name__}")
    for key in _SESSION_TEXT:
        if sess.get(key) is not None and not isinstance(sess[key], str):
            raise _fail(f"session '{key}'", "must be text")
    messages = doc.get("messages")
    if not isinstance(messages, list):
        raise UsageError("the export has no 'messages' list", hint=_HINT)
    seen: set[str] = set()
    for i, m in enumerate(messages, start=1):
        where = f"message {i}"
        if not isinstance(m, dict) or m.get("role") not in _ROLES or not isinstance(m.get("content"), str):
            raise _fail(where, "is malformed (needs role user/assistant/system and content text)")
        for key in _TEXT:
            if m.get(key) is not None and not isinstance(m[key], str):
                raise _fail(f"{where} '{key}'", "must be text")
        for key in _INTS:
            val = m.get(key)
            if val is not None and (isinstance(val, bool) or not isinstance(val, int) or not 0 <= val < 2**31):
                raise _fail(f"{where} '{key}'", "must be a whole number of tokens")
        for key in _NUMBERS:
            val = m.get(key)
            if val is not None and (isinstance(val, bool) or not isinstance(val, int | float)
                                    or not math.isfinite(val) or val < 0):
                raise _fail(f"{where} '{key}'", "must be a non-negative number")
        if m.get("interrupted") is not None and not isinstance(m["interrupted"], bool):
            raise _fail(f"{where} 'interrupted'", "must be true or false")
        if m.get("timings") is not None and not isinstance(m["timings"], dict):
            raise _fail(f"{where} 'timings'", "must be an object")
        uid = m.get("uid")
        if uid is not None:
            if not isinstance(uid, str) or not 0 < len(uid) <= 36:
                raise _fail(f"{where} 'uid'", "must be text of at most 36 characters")
            if uid in seen:
                raise _fail(f"{where} 'uid'", f"repeats an earlier message's uid {uid!r}")
            seen.add(uid)
        stamp = m.get("created_at")
        if stamp is not None and not _is_iso_time(stamp):
            raise _fail(f"{where} 'created_at'", "must be an ISO 8601 time")
    return doc
