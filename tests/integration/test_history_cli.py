"""`history` subcommands against a real database (SQLite file and a fresh MariaDB database)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord

UNICODE = "Grüße 👋🏽 — 你好"


@pytest.fixture
def seeded(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """Two conversations written through the repositories, as the pipeline would."""
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    database = Database(make_engine(any_db_url))
    migrate.upgrade(database.engine)
    database.dispose()
    ctx = AppContext()
    with ctx.db.session() as s:
        a = repo.create_session(s, ctx.user_id, provider="openai", model="gpt-4o-mini")
        repo.add_message(s, MessageRecord(a.id, "user", "What is the capital of Portugal?"))
        repo.add_message(s, MessageRecord(a.id, "assistant", f"Lisbon is the capital. {UNICODE}",
                                          full_content="Lisbon is the capital. And more.", interrupted=True))
        b = repo.create_session(s, ctx.user_id, provider="ollama", model="llama3.2")
        repo.add_message(s, MessageRecord(b.id, "user", "Tell me about penguins"))
        ids = {"a": a.id, "b": b.id}
    ctx.close()
    yield ids


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_search_show(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "history", "list", "--json")
    assert code == 0
    rows = json.loads(out)
    assert [r["id"] for r in rows] == [seeded["b"], seeded["a"]]  # newest activity first
    assert rows[1]["title"] == "What is the capital of Portugal?"
    assert rows[1]["message_count"] == 2

    code, out, _ = run(capsys, "history", "search", "lisbon", "--json")
    assert code == 0
    hits = json.loads(out)
    assert len(hits) == 1 and hits[0]["session_id"] == seeded["a"] and hits[0]["role"] == "assistant"

    code, _, err = run(capsys, "history", "search", "zebra")
    assert code == 1 and "nothing matches" in err

    code, out, _ = run(capsys, "history", "show", str(seeded["a"]))
    assert code == 0
    assert "# What is the capital of Portugal?" in out
    assert "**SynthBot**" in out and "— interrupted" in out and UNICODE in out


def test_export_import_round_trip(seeded: dict[str, int], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "conv.json"
    code, _, err = run(capsys, "history", "export", str(seeded["a"]), "--format", "json", "--out", str(target))
    assert code == 0 and "wrote 2 messages" in err
    doc = json.loads(target.read_text(encoding="utf-8"))
    assert [m["role"] for m in doc["messages"]] == ["user", "assistant"]
    assert doc["messages"][1]["full_content"] == "Lisbon is the capital. And more."

    # Same file again adds nothing (uids exist); a fresh copy with new uids imports as a new session.
    code, out, err = run(capsys, "history", "import", str(target), "--json")
    again = json.loads(out)
    assert code == 0 and again["messages_added"] == 0 and again["messages_existing"] == 2, again
    assert again["sessions_created"] == 0
    for i, m in enumerate(doc["messages"]):
        m["uid"] = f"00000000-0000-4000-8000-00000000000{i}"
    target.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _ = run(capsys, "history", "import", str(target), "--json")
    assert code == 0
    result = json.loads(out)
    assert result["messages_added"] == 2 and result["sessions_created"] == 1
    code, out, _ = run(capsys, "history", "show", str(result["session_ids"][0]), "--json")
    shown = json.loads(out)
    assert [m["content"] for m in shown["messages"]] == [m["content"] for m in doc["messages"]]
    assert shown["messages"][1]["interrupted"] is True

    md = tmp_path / "conv.md"
    assert run(capsys, "history", "export", str(seeded["a"]), "--out", str(md))[0] == 0
    assert md.read_text(encoding="utf-8").startswith("# What is the capital of Portugal?")


def test_import_rejects_bad_files(seeded: dict[str, int], capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "history", "import", str(bad))
    assert code == 2 and "is not valid JSON (line 1" in err
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    code, _, err = run(capsys, "history", "import", str(bad))
    assert code == 2 and "not a SynthBot conversation export" in err
    code, _, err = run(capsys, "history", "import", str(tmp_path / "missing.json"))
    assert code == 2 and "does not exist" in err


def test_rename_and_delete(seeded: dict[str, int], capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "history", "rename", str(seeded["b"]), "Penguins 🐧")[0] == 0
    code, out, _ = run(capsys, "history", "list", "--json")
    assert json.loads(out)[0]["title"] == "Penguins 🐧"

    # Not a TTY and no --yes: refuse, keep the data.
    code, _, err = run(capsys, "history", "delete", str(seeded["a"]))
    assert code == 2 and "add --yes" in err
    code, _, err = run(capsys, "history", "delete", str(seeded["a"]), "--yes")
    assert code == 0 and "deleted" in err
    code, out, _ = run(capsys, "history", "list", "--json")
    assert [r["id"] for r in json.loads(out)] == [seeded["b"]]
    code, out, _ = run(capsys, "history", "search", "lisbon", "--json")
    assert json.loads(out) == []
    code, _, err = run(capsys, "history", "show", str(seeded["a"]))
    assert code == 2 and f"no conversation with id {seeded['a']}" in err
