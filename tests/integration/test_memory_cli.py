"""`memory list|add|forget|clear` against a real database (SQLite file and a fresh MariaDB database)."""

from __future__ import annotations

import json

import pytest

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import make_engine


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_memory_cli_roundtrip(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
                              monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    engine = make_engine(any_db_url)
    migrate.upgrade(engine)
    engine.dispose()
    assert run(capsys, "memory", "list")[1].strip() == "no remembered facts"
    code, out, _ = run(capsys, "memory", "add", "My cat is called Mia.", "--json")
    assert code == 0
    first = json.loads(out)["id"]
    run(capsys, "memory", "add", "Grüße 👋🏽 I live in Porto.")
    facts = json.loads(run(capsys, "memory", "list", "--json")[1])["facts"]
    assert [f["content"] for f in facts] == ["My cat is called Mia.", "Grüße 👋🏽 I live in Porto."]
    assert json.loads(run(capsys, "memory", "forget", str(first), "--json")[1]) == {"forgotten": first}
    code, _, err = run(capsys, "memory", "forget", str(first))
    assert code != 0 and f"no remembered fact with ID {first}" in err
    code, _, err = run(capsys, "memory", "add", "   ")
    assert code != 0 and "cannot be empty" in err
    assert json.loads(run(capsys, "memory", "clear", "--json")[1]) == {"cleared": 1}
    assert json.loads(run(capsys, "memory", "list", "--json")[1]) == {"facts": []}
