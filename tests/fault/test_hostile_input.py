"""Hostile input and broken servers: every case ends in one `error:` line and an exit code, never a
traceback or a hang, and never a password in output or files."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthbot_desktop.cli import main as cli_main
from synthbot_desktop.config import Settings
from synthbot_desktop.errors import ConfigError

SENTINEL = "s3ntinel-PW-4711"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in [k for k in __import__("os").environ if k.startswith("SYNTHBOT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SYNTHBOT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SYNTHBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTHBOT_SET__secrets__allow_file_backend", "true")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, out, err


@pytest.mark.parametrize("key,value", [
    ("llm.temperature", "nan"), ("llm.temperature", "inf"), ("llm.temperature", "1e999"),
    ("providers.openai.timeout_s", "nan"), ("database.url", "not a url"), ("database.url", "oracle://x/y"),
])
def test_config_set_rejects_hostile_values(home: Path, capsys: pytest.CaptureFixture[str],
                                           key: str, value: str) -> None:
    code, _, err = run(capsys, "config", "set", key, value)
    assert code != 0 and err.startswith("error:") and len(err.strip().splitlines()) <= 2, err
    settings_file = home / "config" / "settings.toml"
    assert not settings_file.exists() or value not in settings_file.read_text()


def test_non_table_section_is_one_clear_line(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.toml").write_text("audio = 5\n")
    code, _, err = run(capsys, "config", "set", "audio.silence_ms", "400")
    assert code != 0 and "'audio' must be a table" in err, err


def test_database_password_goes_to_keyring_and_is_masked(home: Path, capsys: pytest.CaptureFixture[str],
                                                         memory_keyring: Any) -> None:
    url = f"mysql+pymysql://bob:{SENTINEL}@db.example:3306/synthbot"
    code, out, err = run(capsys, "config", "set", "database.url", url)
    assert code == 0, err
    assert "moved to the keyring" in err
    text = (home / "config" / "settings.toml").read_text()
    assert SENTINEL not in text and "bob@db.example:3306/synthbot" in text
    for argv in (("config", "list"), ("config", "list", "--json"), ("config", "get", "database.url")):
        _, out, err = run(capsys, *argv)
        assert SENTINEL not in out + err
    assert list(memory_keyring.store.values()) == [SENTINEL]  # the keyring holds it, nothing else


def test_database_url_from_env_is_masked(home: Path, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__url", f"mysql+pymysql://bob:{SENTINEL}@h/db")
    for argv in (("config", "list"), ("config", "list", "--json"), ("config", "get", "database.url")):
        _, out, err = run(capsys, *argv)
        assert SENTINEL not in out + err and "bob:***@h/db" in out


@pytest.mark.parametrize("extra,needle", [
    (("--session", "0"), "--session"), (("--session", "99999999999999999999"), "--session"),
    (("--temperature", "99"), "maximum"), (("--temperature", "nan"), "finite"),
    (("--max-tokens", "-5"), "minimum"),
])
def test_chat_options_obey_the_settings_bounds(home: Path, capsys: pytest.CaptureFixture[str],
                                               extra: tuple[str, ...], needle: str) -> None:
    code, _, err = run(capsys, "chat", "hi", "--provider", "ollama", "--model", "m", *extra)
    assert code != 0 and err.startswith("error:") and needle in err, err


HUGE = "99999999999999999999"  # past SQLite's and MySQL's 64-bit integers


@pytest.mark.parametrize("argv", [
    ("history", "show", HUGE), ("history", "export", HUGE), ("history", "delete", HUGE, "--yes"),
    ("history", "rename", HUGE, "t"), ("history", "tag", HUGE, "x"), ("history", "untag", HUGE, "x"),
    ("history", "note", HUGE, "x"), ("history", "rate", HUGE, "up"), ("history", "show", "0"),
    ("history", "list", "--limit", HUGE), ("history", "list", "--offset", HUGE), ("history", "list", "--limit", "-1"),
    ("history", "search", "x", "--limit", HUGE), ("memory", "forget", HUGE), ("admin", "errors", "--limit", HUGE),
])
def test_out_of_range_ids_and_counts_are_usage_errors(home: Path, capsys: pytest.CaptureFixture[str],
                                                      argv: tuple[str, ...]) -> None:
    """A number no database column can hold is the user's mistake, named as such (exit 2), not an
    'unexpected failure' filed as a bug (it was OverflowError from the SQLite driver)."""
    try:
        code = cli_main.main(list(argv))
    except SystemExit as exc:  # argparse refuses a bad argument with its usage line and exit 2
        code = int(exc.code or 0)
    _, err = capsys.readouterr()
    assert "Traceback" not in err and "unexpected failure" not in err, err
    assert code == 2 and "error:" in err, err


def test_unexpected_exception_is_one_redacted_line_and_an_error_row(
        home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from synthbot_desktop.cli.commands import config_cmd
    from synthbot_desktop.redaction import register_secret

    register_secret(SENTINEL)

    def boom(*_a: object, **_k: object) -> int:
        raise RuntimeError(f"a bug that mentions {SENTINEL}\nsecond line")

    monkeypatch.setattr(config_cmd, "_list", boom)
    code, out, err = run(capsys, "config", "list")
    assert code == 1 and err.startswith("error: unexpected failure (RuntimeError")
    assert len(err.strip().splitlines()) == 1 and SENTINEL not in out + err
    import sqlite3
    db = next((home / "data").rglob("*.sqlite3"))
    rows = sqlite3.connect(db).execute("SELECT source, kind, message FROM error_logs").fetchall()
    assert rows and rows[0][0] == "cli.config" and rows[0][1] == "unexpected"
    assert SENTINEL not in repr(rows)


@pytest.fixture
def half_open_server() -> Iterator[int]:
    """Accepts TCP connections and never says a word (a hung server or a dead NAT path)."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for s in held:
        s.close()
    listener.close()


def test_half_open_mysql_does_not_hang_a_command(home: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, half_open_server: int) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__url", f"mysql+pymysql://u@127.0.0.1:{half_open_server}/db")
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    start = time.monotonic()
    code, _, err = run(capsys, "history", "list")
    elapsed = time.monotonic() - start
    assert code != 0 and err.startswith("error:"), err
    assert "spooled" not in err
    assert elapsed < 12, f"took {elapsed:.1f} s"


_toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(
    st.text(max_size=200),
    st.builds(lambda sec, key, val: f"[{sec}]\n{key} = {val}\n",
              st.sampled_from(["audio", "llm", "database", "providers.openai", "tts", "x"]),
              st.sampled_from(["silence_ms", "temperature", "url", "timeout_s", "audio", "model"]),
              st.sampled_from(["nan", "inf", "-1", "1e999", '"x"', "[1,2]", "{a=1}", "true", "400",
                               '"mysql://u:p@h/d"', '"not a url"'])),
    st.builds(lambda k, v: f"{k} = {v!r}\n", st.sampled_from(["audio", "llm", "database"]),
              _toml_values),
))
def test_fuzzed_settings_files_only_raise_config_errors(home: Path, text: str) -> None:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.toml").write_text(text, encoding="utf-8")
    env = {"SYNTHBOT_CONFIG_DIR": str(config), "SYNTHBOT_DATA_DIR": str(home / "data")}
    try:
        s = Settings.load(env)
        for key in ("llm.temperature", "audio.silence_ms", "database.url"):
            s.get(key)
    except ConfigError:
        pass
