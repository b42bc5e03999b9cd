"""search_history finds this user's earlier talk (not other users', not tool rows) on both databases."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.services.tools import builtin_tool_list
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord
from synthbot_desktop.tools.registry import ToolRegistry


def test_search_history_tool(any_db_url: str) -> None:
    db = Database(make_engine(any_db_url))
    try:
        migrate.upgrade(db.engine)
        with db.session() as s:
            me, other = repo.get_or_create_user(s, "dana").id, repo.get_or_create_user(s, "eve").id
            mine = repo.create_session(s, me, provider="openai", model="m").id
            theirs = repo.create_session(s, other, provider="openai", model="m").id
            repo.add_message(s, MessageRecord(mine, "user", "Which bakery sells sourdough near the station?"))
            repo.add_message(s, MessageRecord(mine, "assistant", "Try the sourdough at Brotzeit."))
            repo.add_message(s, MessageRecord(mine, "tool", "sourdough result text", timings={"tool": {}}))
            repo.add_message(s, MessageRecord(theirs, "user", "My secret sourdough recipe"))
        ctx = SimpleNamespace(db=db, user_id=me, reachable_db=lambda: db)
        tools, _ = builtin_tool_list(ctx)  # type: ignore[arg-type]
        reg = ToolRegistry()
        reg.extend(tools)
        res = asyncio.run(reg.execute(ToolCall("1", "search_history", '{"query": "sourdough"}')))
        assert not res.is_error
        matches = json.loads(res.content)["matches"]
        assert {m["role"] for m in matches} == {"user", "assistant"} and len(matches) == 2
        assert all(m["session_id"] == mine for m in matches)
        assert "secret" not in res.content
        bad = asyncio.run(reg.execute(ToolCall("2", "search_history", '{"query": 5}')))
        assert bad.is_error and "query must be of type string" in bad.content
    finally:
        db.dispose()
