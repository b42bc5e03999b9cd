"""remember / list_memory / forget tools write through to the real database (SQLite and MariaDB)."""

from __future__ import annotations

from synthbot_desktop.storage import memory, migrate
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.repositories import get_or_create_user
from synthbot_desktop.tools.memory_tools import memory_tools


def test_memory_tools_roundtrip(any_db_url: str) -> None:
    db = Database(make_engine(any_db_url))
    try:
        migrate.upgrade(db.engine)
        with db.session() as s:
            uid = get_or_create_user(s, "carol").id
        tools = {t.name: t for t in memory_tools(db, uid)}
        assert tools["forget"].side_effect and not tools["remember"].side_effect
        fid = tools["remember"].handler(fact="I am vegetarian.")["id"]
        assert tools["list_memory"].handler() == {"facts": [{"id": fid, "fact": "I am vegetarian."}]}
        with db.session() as s:
            assert memory.facts_for_prompt(s, uid) == "Things the user asked you to remember:\n- I am vegetarian."
        assert tools["forget"].handler(id=fid) == {"forgotten": fid}
        assert "no remembered fact" in tools["forget"].handler(id=fid)["error"]
    finally:
        db.dispose()
