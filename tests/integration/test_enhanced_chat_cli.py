"""`chat --mode enhanced` end to end (issue #20): pooled bits -> seed on the real wire, recorded on the message."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ConversationMessage, QuantumRandomNumber
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm

KEY = "sk-INTEGRATIONsecretKEY0123456789abcdef"
SEED_PATH = {"openai": ("seed",), "gemini": ("generationConfig", "seed"), "ollama": ("options", "seed")}


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def env(app_env: dict[str, str], memory_keyring: object, tmp_path, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    for kind in ("openai", "anthropic", "gemini"):
        monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_API_KEY", KEY)
    url = f"sqlite:///{tmp_path / 'enh.sqlite3'}"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", url)
    # these tests are about the pooled seed on the wire; the 300 ms deadline has its own tests
    # (test_quantum_pool_deadline, test_quantum_pool_wait) and once missed here under CI load
    monkeypatch.setenv("SYNTHBOT_SET__quantum__pool_wait_ms", "10000")
    return url


def _dig(body: dict, path: tuple[str, ...]):  # type: ignore[no-untyped-def,type-arg]
    for k in path:
        body = body[k]
    return body


@pytest.mark.parametrize("kind", ["openai", "gemini", "ollama", "anthropic"])
def test_enhanced_chat_sends_pooled_seed_and_records_it(kind: str, env: str, server: FakeServer,
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("qiskit_aer")
    assert main(["quantum", "fill", "--source", "aer", "--bits", "256"]) == 0
    install_fake_llm(server, kind, "Fine.")
    monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_BASE_URL", base_url(kind, server))
    assert main(["chat", "Hi", "--provider", kind, "--mode", "enhanced", "--temperature", "0.7", "--json"]) == 0
    out = capsys.readouterr()
    doc = json.loads(out.out)
    rnd = doc["randomness"]
    assert rnd["source"] == "aer" and rnd["block_id"] is not None and rnd["fallback"] is None
    sent = server.requests[0].json()
    if kind == "anthropic":  # no seed parameter in the Messages API
        assert rnd["seed"] is None and "seed" not in json.dumps(sent)
        assert sent["temperature"] == rnd["temperature"]
    else:
        assert _dig(sent, SEED_PATH[kind]) == rnd["seed"]
    assert 0.5 <= rnd["temperature"] <= 0.9
    engine = create_engine(env)
    with Session(engine) as s:
        user, assistant = s.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
        assert assistant.timings["randomness"] == rnd
        block = s.get(QuantumRandomNumber, rnd["block_id"])
        assert block is not None and block.consumed_by == user.uid
    engine.dispose()


def test_enhanced_chat_on_empty_pool_says_so_and_uses_csprng(env: str, server: FakeServer,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    install_fake_llm(server, "openai", "Fine.")
    monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", server))
    assert main(["chat", "Hi", "--provider", "openai", "--mode", "enhanced", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["randomness"]["source"] == "os"
    assert out.err.count("using the OS CSPRNG") == 1
    assert server.requests[0].json()["seed"] == json.loads(out.out)["randomness"]["seed"]


def test_quantum_status_and_export(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["quantum", "fill", "--source", "os", "--bits", "200"]) == 0
    capsys.readouterr()
    assert main(["quantum", "status", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["pool_bits"] == 192 and st["last_job"]["status"] == "done" and st["sources"]["os"] is True
    assert main(["quantum", "export-bits", "--count", "100"]) == 0
    bits = capsys.readouterr().out.strip()
    assert len(bits) == 100 and set(bits) <= {"0", "1"}
    assert main(["quantum", "fill", "--source", "ibm"]) == 2  # no token stored: one clear line
    assert "IBM Quantum token" in capsys.readouterr().err


def test_enhanced_chat_record_on_the_message_on_both_databases(any_db_url: str, app_env: dict[str, str],
                                                                memory_keyring: object, server: FakeServer,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """The reference `talk --mode enhanced` is held to (tests/integration/test_enhanced_talk.py), on SQLite and MariaDB."""
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", KEY)
    assert main(["quantum", "fill", "--source", "os", "--bits", "128"]) == 0
    install_fake_llm(server, "openai", "Fine.")
    monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", server))
    capsys.readouterr()
    assert main(["chat", "Hi", "--provider", "openai", "--mode", "enhanced", "--json"]) == 0
    rnd = json.loads(capsys.readouterr().out)["randomness"]
    engine = create_engine(any_db_url)
    with Session(engine) as s:
        user, assistant = s.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
        assert assistant.timings["randomness"] == rnd and rnd["block_id"] is not None
        block = s.get(QuantumRandomNumber, rnd["block_id"])
        assert block is not None and block.consumed_by == user.uid
    engine.dispose()


def test_ibm_token_hint_names_a_command_that_stores_it(env: str, capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The missing-token line used to say `keys set ibm_quantum`, which `keys set` rejects (its
    choices are the LLM/TTS providers); the command it names must store the token in the keyring."""
    import io
    import shlex

    assert main(["quantum", "fill", "--source", "ibm", "--bits", "64"]) == 2
    err = capsys.readouterr().err
    assert "keys set ibm_quantum" not in err and "quantum set-token" in err
    command = err[err.index("synthbot-desktop quantum set-token"):].split(" (")[0].split("\n")[0]
    args = shlex.split(command)[1:]
    token = "ibm-TOKEN-abcdef0123456789abcdef0123456789"
    monkeypatch.setattr("sys.stdin", io.StringIO(token + "\n"))
    assert main(args) == 0
    out = capsys.readouterr().out
    assert token not in out  # a fingerprint, never the token
    assert main(["quantum", "status", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ibm_token_stored"] is True
