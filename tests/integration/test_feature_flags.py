"""Feature flags used for real (issue #18), on SQLite and a fresh MariaDB database per test:
an admin turns a provider, tool or feature off for everyone or chosen users; the app refuses it
in one line and hides it; a policy lock on this machine still wins; a dead database falls back to
the last known state without blocking."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.services import features
from synthbot_desktop.services.voice import resolve_engine
from synthbot_desktop.storage import feature_flags as store
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import AuditLog, ErrorLog, User
from synthbot_desktop.tools.builtins import Timers, builtin_tools
from synthbot_desktop.tools.memory_tools import memory_tools
from synthbot_desktop.tools.registry import ToolRegistry
from tests.conftest import JFK
from tests.support import mariadb


@pytest.fixture
def seat(any_db_url: str, app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The app pointed at the test database (schema created as an admin would)."""
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    db.dispose()
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    return any_db_url


def _as(monkeypatch: pytest.MonkeyPatch, user: str) -> AppContext:
    monkeypatch.setenv("SYNTHBOT_USER", user)
    return AppContext()


def test_flag_for_everyone_and_per_user_override(seat: str, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_USER", "admin")
    assert main(["admin", "flags", "set", "provider.openai", "off"]) == 0
    assert main(["admin", "flags", "set", "provider.openai", "on", "--user", "bob"]) == 0
    assert main(["admin", "flags", "set", "tool.open", "off", "--user", "carol", "--user", "dave"]) == 0
    capsys.readouterr()
    for user, openai, tool_open in (("alice", False, True), ("bob", True, True), ("carol", False, False)):
        ctx = _as(monkeypatch, user)
        assert (features.enabled(ctx, "provider.openai"), features.enabled(ctx, "tool.open")) == (openai, tool_open), user
        assert features.enabled(ctx, "provider.anthropic")  # no decision: the settings' default (on)
        ctx.close()

    monkeypatch.setenv("SYNTHBOT_USER", "admin")
    assert main(["admin", "flags", "list", "--json"]) == 0
    doc = {f["name"]: f for f in json.loads(capsys.readouterr().out)}
    assert doc["provider.openai"]["everyone"] is False and doc["provider.openai"]["users"] == {"bob": True}
    assert doc["tool.open"]["everyone"] is True  # an exception for two users changes nobody else
    assert doc["tool.open"]["users"] == {"carol": False, "dave": False}
    assert doc["provider.gemini"]["everyone"] is None

    assert main(["admin", "flags", "clear", "provider.openai", "--user", "bob"]) == 0
    ctx = _as(monkeypatch, "bob")
    assert not features.enabled(ctx, "provider.openai")
    ctx.close()
    monkeypatch.setenv("SYNTHBOT_USER", "admin")
    assert main(["admin", "flags", "clear", "provider.openai"]) == 0
    ctx = _as(monkeypatch, "bob")
    assert features.enabled(ctx, "provider.openai")
    with ctx.db.session() as s:
        assert not any(f.name == "provider.openai" for f in store.list_flags(s))
        actions = list(s.scalars(select(AuditLog.action).where(AuditLog.entity_id == "provider.openai")))
    assert actions == ["flag.set", "flag.set", "flag.clear", "flag.clear"]
    ctx.close()
    assert main(["admin", "flags", "set", "provider.nope", "off"]) == 2
    assert "unknown feature flag" in capsys.readouterr().err


def test_disabled_provider_and_features_are_refused_in_one_line(
        seat: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    ctx = _as(monkeypatch, "alice")
    with ctx.db.session() as s:
        for name in ("provider.ollama", "feature.enhanced_mode", "feature.tts.piper"):
            store.set_flag(s, name, False)
    ctx.close()
    for argv in (["chat", "hello", "--provider", "ollama"],
                 ["chat", "hello", "--provider", "openai", "--mode", "enhanced"],
                 ["speak", "hello", "--engine", "piper", "--out", "x.wav"],
                 ["talk", "--in", str(JFK), "--out", "reply.wav", "--provider", "ollama"]):
        code = main(argv)
        err = capsys.readouterr().err
        assert code != 0, argv
        assert err.count("\n") == 1 and err.startswith("error: ") and "turned off by your administrator" in err, err
    ctx = _as(monkeypatch, "alice")
    with ctx.db.session() as s:  # every refusal was shown, so every refusal was filed, under alice
        rows = s.execute(select(ErrorLog.source, ErrorLog.kind, User.username)
                         .join(User, User.id == ErrorLog.user_id).order_by(ErrorLog.id)).all()
    assert [tuple(r) for r in rows] == [("cli.chat", "FeatureDisabledError", "alice"),
                                        ("cli.chat", "FeatureDisabledError", "alice"),
                                        ("cli.speak", "FeatureDisabledError", "alice"),
                                        ("cli.talk", "FeatureDisabledError", "alice")]
    assert features.allowed_providers(ctx) == ["openai", "anthropic", "gemini"]  # what the GUI offers
    ctx.close()


def test_auto_voice_skips_a_disabled_elevenlabs(seat: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_API_KEY", "sk_" + "a" * 30)
    ctx = _as(monkeypatch, "alice")
    assert resolve_engine(ctx, "auto") == "elevenlabs"
    with ctx.db.session() as s:
        store.set_flag(s, "feature.tts.elevenlabs", False)
    features.invalidate(ctx)
    assert resolve_engine(ctx, "auto") == "piper"
    with pytest.raises(features.FeatureDisabledError, match="elevenlabs voice engine is turned off"):
        resolve_engine(ctx, "elevenlabs")
    ctx.close()


def test_disabled_tools_are_hidden_from_the_model(seat: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from synthbot_desktop.llm.base import ToolCall

    ctx = _as(monkeypatch, "alice")
    with ctx.db.session() as s:
        store.set_flag(s, "tool.open", False)
        store.set_user_access(s, "tool.remember", ["alice"], False)
    reg = ToolRegistry()
    reg.extend(builtin_tools(Timers(lambda _label: None)))
    reg.extend(memory_tools(ctx.db, ctx.user_id))
    features.apply_to_tools(ctx, reg)
    offered = [t.name for t in reg.available()]
    assert "open" not in offered and "remember" not in offered
    assert {"get_current_time", "set_timer", "list_memory", "forget"} <= set(offered)
    result = asyncio.run(reg.execute(ToolCall("c1", "open", '{"target": "https://example.org"}')))
    assert result.is_error and "unknown tool" in result.content
    ctx.close()


def test_policy_lock_wins_over_the_database(seat: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked]\n"flags.provider.gemini" = false\n"flags.provider.anthropic" = true\n'
                      'llm.provider = "ollama"\n', encoding="utf-8")
    monkeypatch.setenv("SYNTHBOT_POLICY_FILE", str(policy))
    ctx = _as(monkeypatch, "alice")
    with ctx.db.session() as s:
        store.set_flag(s, "provider.gemini", True)  # the database says on; the lock says off
        store.set_flag(s, "provider.anthropic", False)  # the database says off; the lock says on
        store.set_flag(s, "provider.ollama", False)  # the policy requires ollama: it stays on
        store.set_flag(s, "provider.openai", False)  # no lock: the database decides
    assert not features.enabled(ctx, "provider.gemini")
    assert features.enabled(ctx, "provider.anthropic")
    assert features.enabled(ctx, "provider.ollama")
    assert not features.enabled(ctx, "provider.openai")
    assert features.locked_here(ctx, "provider.gemini") and not features.locked_here(ctx, "provider.openai")
    ctx.close()


def test_unreachable_database_uses_the_last_known_flags_without_waiting(
        any_db_url: str, app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    proxy = None
    if any_db_url.startswith("sqlite"):
        url = any_db_url
    else:  # a TCP proxy we own stands between the app and the server, and can be cut
        proxy = mariadb.TcpProxy()
        url = any_db_url.replace(f":{mariadb.PORT}/", f":{proxy.port}/")
    try:
        db = Database(make_engine(url))
        migrate.upgrade(db.engine)
        with db.session() as s:
            store.set_flag(s, "provider.openai", False)
        db.dispose()
        monkeypatch.setenv("SYNTHBOT_DATABASE_URL", url)
        monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
        ctx = _as(monkeypatch, "alice")
        assert not features.enabled(ctx, "provider.openai")
        assert features.source(ctx) == "database"

        if proxy is not None:  # the database goes away under a running app: what it knew still applies
            proxy.cut()
            monkeypatch.setattr(features, "TTL_S", 0.0)
            assert not features.enabled(ctx, "provider.openai")
            assert features.source(ctx) == "cache"
            monkeypatch.setattr(features, "TTL_S", 60.0)
        ctx.close()
        if proxy is None:
            sqlite_file = Path(url.removeprefix("sqlite:///"))
            for extra in (sqlite_file, sqlite_file.with_name(sqlite_file.name + "-wal"),
                          sqlite_file.with_name(sqlite_file.name + "-shm")):
                extra.unlink(missing_ok=True)
            sqlite_file.mkdir()  # a directory where the file was: "unable to open database file"
        ctx = _as(monkeypatch, "alice")
        started = time.monotonic()
        assert not features.enabled(ctx, "provider.openai")  # the last known state, from the disk cache
        first = time.monotonic() - started
        assert features.source(ctx) == "cache"
        started = time.monotonic()
        for _ in range(50):  # later checks do not ask the dead database again
            features.enabled(ctx, "provider.openai")
        assert time.monotonic() - started < 0.5
        assert first < 5.0
        ctx.close()

        (Path(app_env["SYNTHBOT_DATA_DIR"]) / "cache" / "feature_flags.json").unlink()
        ctx = _as(monkeypatch, "alice")  # nothing known: the policy/defaults apply, on
        assert features.enabled(ctx, "provider.openai")
        assert features.source(ctx) == "defaults"
        ctx.close()
    finally:
        if proxy is not None:
            proxy.close()
