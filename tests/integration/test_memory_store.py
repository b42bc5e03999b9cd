"""Per-user memory facts on SQLite and MariaDB: add/list/forget/clear and the prompt budget."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from synthbot_desktop.storage import memory, migrate
from synthbot_desktop.storage.db import make_engine
from synthbot_desktop.storage.repositories import get_or_create_user


def test_memory_facts_are_per_user_and_fit_the_budget(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as s:
            alice = get_or_create_user(s, "alice").id
            bob = get_or_create_user(s, "bob").id
            f1 = memory.add(s, alice, "My cat is called Mia.")
            memory.add(s, alice, "  I prefer   metric units. ")
            memory.add(s, bob, "Bob likes tea.")
            s.commit()
            assert [f.content for f in memory.list_facts(s, alice)] == ["My cat is called Mia.",
                                                                      "I prefer metric units."]
            assert not memory.forget(s, bob, f1.id)  # not Bob's fact
            assert memory.forget(s, alice, f1.id)
            s.commit()
            assert [f.content for f in memory.list_facts(s, alice)] == ["I prefer metric units."]
            for i in range(50):
                memory.add(s, alice, f"fact number {i} " + "x" * 40)
            s.commit()
            block = memory.facts_for_prompt(s, alice, budget_tokens=100)
            assert block is not None and memory.estimate_tokens(block) <= 100
            assert "fact number 49" in block and "fact number 0 " not in block
            assert memory.facts_for_prompt(s, bob) == "Things the user asked you to remember:\n- Bob likes tea."
            with pytest.raises(ValueError, match="cannot be empty"):
                memory.add(s, alice, "   ")
            assert memory.clear(s, alice) == 51
            s.commit()
            assert memory.list_facts(s, alice) == [] and memory.facts_for_prompt(s, alice) is None
            assert len(memory.list_facts(s, bob)) == 1
    finally:
        engine.dispose()
