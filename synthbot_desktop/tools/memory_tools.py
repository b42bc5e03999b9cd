"""remember / forget built-in tools over storage/memory.py (issue #16), bound to one user.

Handlers block on the database; the tool loop runs them off the event loop like other sync tools.
``forget`` deletes data, so it is a side-effect tool and is confirmed first; ``remember`` only
stores what the user just asked to keep."""

from __future__ import annotations

from typing import Any

from synthbot_desktop.storage import memory
from synthbot_desktop.tools.registry import Tool


def memory_tools(db: Any, user_id: int) -> list[Tool]:
    def remember(fact: str) -> dict[str, Any]:
        with db.session() as s:
            row = memory.add(s, user_id, fact, source="tool")
            return {"id": row.id, "remembered": row.content}

    def forget(id: int) -> dict[str, Any]:  # "id": the model-facing argument name
        with db.session() as s:
            ok = memory.forget(s, user_id, id)
        return {"forgotten": id} if ok else {"error": f"no remembered fact with ID {id}"}

    def list_memory() -> dict[str, Any]:
        with db.session() as s:
            return {"facts": [{"id": f.id, "fact": f.content} for f in memory.list_facts(s, user_id)]}

    return [
        Tool("remember", "Remember a fact the user asked you to keep for future conversations.",
             {"type": "object", "properties": {"fact": {"type": "string"}}, "required": ["fact"],
              "additionalProperties": False}, remember, timeout_s=5),
        Tool("list_memory", "List the facts remembered for this user, with their IDs.",
             {"type": "object", "properties": {}, "additionalProperties": False}, list_memory, timeout_s=5),
        Tool("forget", "Forget one remembered fact by its ID (see list_memory).",
             {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"],
              "additionalProperties": False}, forget, side_effect=True, timeout_s=5),
    ]
