"""Remembered facts reach a NEW session's system context (real CLI, fake OpenAI server, both databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from synthbot_desktop.cli.main import main
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def test_memory_is_injected_into_a_new_session(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
                                               server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", "sk-test-MEMORYkey0123456789")
    monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", server))
    install_fake_llm(server, "openai", "Mia is your cat.")
    assert main(["chat", "hello", "--provider", "openai"]) == 0  # creates the schema; no facts yet
    assert main(["memory", "add", "My cat is called Mia."]) == 0
    assert main(["chat", "What is my cat called?", "--provider", "openai"]) == 0
    capsys.readouterr()
    bodies = [r.json() for r in server.requests if r.body]
    first_system = [m for m in bodies[0]["messages"] if m["role"] == "system"]
    last_system = [m["content"] for m in bodies[-1]["messages"] if m["role"] == "system"]
    assert all("Mia" not in m["content"] for m in first_system)
    assert last_system and "- My cat is called Mia." in last_system[0]
