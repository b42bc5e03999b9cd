"""Tool calls and results as stored messages, the same for `chat`, `talk` and the window.

Each call the model made is stored as ONE message with role ``tool``: its content is the result
the model got back (redacted: a tool may echo a key from the clipboard or an MCP server's error),
``error`` is set when the call failed or was refused, and ``timings["tool"]`` keeps the tool's
name, the call id and the arguments as the model wrote them (redacted, capped). The table has no
dedicated columns for tools and no migration was planned for it, so the JSON column carries them;
``role = "tool"`` rows are skipped when a session's context is rebuilt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from synthbot_desktop.llm.base import ChatMessage, ToolCall
from synthbot_desktop.redaction import redact
from synthbot_desktop.storage.records import MessageRecord

ARGUMENTS_LIMIT = 4_000
CONTENT_LIMIT = 16_000


@dataclass
class ToolTranscript:
    """Collects a turn's tool messages as the loop produces them (``add`` is the loop's on_message)."""

    session_id: int | None  # None: a new session, created with its first message (#14)
    records: list[MessageRecord] = field(default_factory=list)
    _calls: dict[str, tuple[ToolCall, float]] = field(default_factory=dict)
    _last: float = 0.0  # when the previous result came: calls of one reply run one after another

    def add(self, message: ChatMessage) -> None:
        if message.role == "assistant":
            now = time.monotonic()
            for c in message.tool_calls:
                self._calls[c.id] = (c, now)
            return
        if message.role != "tool":
            return
        found = self._calls.get(message.tool_call_id or "")
        call: ToolCall | None = found[0] if found is not None else None
        started: float | None = found[1] if found is not None else None
        content = redact(message.content)[:CONTENT_LIMIT]
        info: dict[str, Any] = {
            "name": message.name or (call.name if call else "?"), "call_id": message.tool_call_id,
            "arguments": redact(call.arguments)[:ARGUMENTS_LIMIT] if call else None,
            "is_error": message.is_error,
        }
        now = time.monotonic()
        if started is not None:
            info["duration_ms"] = round((now - max(started, self._last)) * 1000.0, 1)
        self._last = now
        self.records.append(MessageRecord(
            session_id=self.session_id, role="tool", content=content, provider="tool", model=info["name"],
            error=content[:1000] if message.is_error else None, timings={"tool": info}))

    def arguments_of(self, call_id: str) -> str:
        """A call's arguments as stored (redacted, capped); "" for a call not seen."""
        found = self._calls.get(call_id)
        return redact(found[0].arguments)[:ARGUMENTS_LIMIT] if found is not None else ""

    def summary(self) -> list[dict[str, Any]]:
        """What `chat --json` reports: one entry per call, in order."""
        out = []
        for r in self.records:
            info = (r.timings or {}).get("tool", {})
            out.append({"name": info.get("name"), "arguments": info.get("arguments"), "result": r.content,
                        "is_error": bool(info.get("is_error"))})
        return out
