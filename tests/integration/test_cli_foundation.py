"""The CLI contract, exercised as a user would: subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from synthbot_desktop import __version__


@pytest.fixture
def run(tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SYNTHBOT_", "DBUS_", "PYTHON_KEYRING"))}
    env.update({"SYNTHBOT_CONFIG_DIR": str(tmp_path / "config"), "SYNTHBOT_DATA_DIR": str(tmp_path / "data"),
                "SYNTHBOT_SET__secrets__allow_file_backend": "true"})

    def _run(*args: str, stdin: str | None = None, extra: dict[str, str] | None = None,
             drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        e = dict(env, **(extra or {}))
        for k in drop:
            e.pop(k, None)
        return subprocess.run([sys.executable, "-m", "synthbot_desktop", *args], input=stdin,
                              capture_output=True, text=True, env=e, timeout=120)

    _run.env = env  # type: ignore[attr-defined]
    return _run


def _no_traceback(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr, r.stderr


def test_version(run) -> None:  # type: ignore[no-untyped-def]
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"synthbot-desktop {__version__}"


def test_doctor_json(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("doctor", "--json")
    doc = json.loads(r.stdout)
    names = [c["name"] for c in doc["checks"]]
    assert names == ["python", "config", "database", "storage", "errors", "keyring", "providers", "audio", "models",
                     "wake_word", "echo_cancellation", "end_of_turn"]
    by = {c["name"]: c for c in doc["checks"]}
    assert by["database"]["data"]["url"].startswith("sqlite:///")
    assert by["models"]["status"] == "ok"
    assert by["wake_word"]["status"] == "ok" and set(by["wake_word"]["data"]["models"].values()) == {"ok"}
    assert by["echo_cancellation"]["data"]["mode"] == "webrtc", by["echo_cancellation"]  # no headphones: on
    assert by["audio"]["status"] == "ok", by["audio"]  # the PulseAudio virtual devices are visible
    assert by["end_of_turn"]["status"] == "ok" and "Smart Turn v3 loads" in by["end_of_turn"]["detail"]
    assert r.returncode == (0 if doc["ok"] else 1)
    _no_traceback(r)


def test_db_upgrade_current_downgrade_sqlite(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    r = run("db", "current", "--url", url, "--json")
    assert json.loads(r.stdout)["current"] is None
    r = run("db", "upgrade", "--url", url, "--json")
    from synthbot_desktop.storage.migrate import head_revision  # the head moves as migrations land

    assert r.returncode == 0 and json.loads(r.stdout)["to"] == head_revision()
    assert json.loads(run("db", "current", "--url", url, "--json").stdout)["up_to_date"] is True
    r = run("db", "downgrade", "base", "--url", url)
    assert r.returncode == 0 and "-> empty" in r.stdout


@pytest.mark.mysql
def test_db_upgrade_mysql_and_doctor_masks_password(run, mysql_url: str) -> None:  # type: ignore[no-untyped-def]
    r = run("db", "upgrade", "--url", mysql_url, "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(run("db", "current", "--url", mysql_url, "--json").stdout)["up_to_date"] is True
    r = run("doctor", "--json", extra={"SYNTHBOT_DATABASE_URL": mysql_url})
    db_check = {c["name"]: c for c in json.loads(r.stdout)["checks"]}["database"]
    assert db_check["status"] == "ok", db_check


@pytest.mark.mysql
@pytest.mark.parametrize(("url", "expected"), [
    ("mysql+pymysql://root:wrong-pass-123@127.0.0.1:3306/test", "rejected the user name or password"),
    ("mysql+pymysql://root@no-such-host.invalid:3306/test", "host name is unknown"),
    ("mysql+pymysql://root@127.0.0.1:1/test", "refused the connection"),
    ("mysql+pymysql://root@127.0.0.1:3306/no_such_db_synthbot", "does not exist"),
    ("postgresql://u@h/db", "unsupported database"),
    ("not a url", "not a database URL"),
])
def test_bad_database_urls_get_one_clear_line(run, url: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    r = run("db", "current", "--url", url)
    assert r.returncode != 0
    _no_traceback(r)
    assert expected in r.stderr
    assert "wrong-pass-123" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_keys_file_backend_never_print_or_leak(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = "sk-proj-NEVERPRINTabcdefghijklmn"
    r = run("keys", "set", "openai", stdin=key + "\n")
    assert r.returncode == 0, r.stderr
    listed = run("keys", "list", "--json")
    info = {i["provider"]: i for i in json.loads(listed.stdout)}
    assert info["openai"]["fingerprint"].startswith("sha256:") and "FileKeyring" in info["openai"]["source"]
    for out in (r, listed):
        assert key not in out.stdout + out.stderr
    # only the keyring file holds the key; the database holds the fingerprint
    holders = [f for f in tmp_path.rglob("*") if f.is_file() and key.encode() in f.read_bytes()]
    assert [f.name for f in holders] == ["keys.json"]
    assert run("keys", "delete", "openai").returncode == 0
    assert run("keys", "delete", "openai").returncode == 1


def test_keys_without_keyring_say_so(run) -> None:  # type: ignore[no-untyped-def]
    r = run("keys", "set", "openai", stdin="sk-abcdefghijklmnopqrs\n", drop=("SYNTHBOT_SET__secrets__allow_file_backend",),
            extra={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert r.returncode == 1
    assert "no OS keyring is available" in r.stderr
    _no_traceback(r)


def test_key_is_never_taken_from_argv(run) -> None:  # type: ignore[no-untyped-def]
    r = run("keys", "set", "openai", "sk-abcdefghijklmnopqrs")
    assert r.returncode == 2  # argparse rejects the extra argument


def test_invalid_config_file_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cfg = tmp_path / "config"
    cfg.mkdir()
    (cfg / "settings.toml").write_text("[audio]\nsilence_ms = -5\n", encoding="utf-8")
    r = run("doctor")
    assert r.returncode == 1
    _no_traceback(r)
    assert f"{cfg / 'settings.toml'}:2" in r.stderr and "audio.silence_ms" in r.stderr


def test_config_set_get_and_locked(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert run("config", "set", "audio.silence_ms", "450").returncode == 0
    assert run("config", "get", "audio.silence_ms").stdout.strip() == "450"
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked.audio]\nsilence_ms = 800\n', encoding="utf-8")
    r = run("config", "set", "audio.silence_ms", "300", extra={"SYNTHBOT_POLICY_FILE": str(policy)})
    assert r.returncode == 1 and "locked by your administrator" in r.stderr
    assert run("config", "get", "audio.silence_ms", extra={"SYNTHBOT_POLICY_FILE": str(policy)}).stdout.strip() == "800"


def test_gui_without_display_explains_in_one_line(run) -> None:  # type: ignore[no-untyped-def]
    r = run(drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "no display found" in r.stderr and "xvfb-run" in r.stderr


def test_doctor_without_keyring_warns_and_names_env_keys(run) -> None:  # type: ignore[no-untyped-def]
    r = run("doctor", "--json", drop=("SYNTHBOT_SET__secrets__allow_file_backend",),
            extra={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
                   "SYNTHBOT_OPENAI_API_KEY": "sk-proj-ENVONLYabcdefghijklmno"})
    check = {c["name"]: c for c in json.loads(r.stdout)["checks"]}["keyring"]
    assert check["status"] == "warn" and "no OS keyring" in check["detail"]
    assert check["data"]["env_keys"] == ["openai"]
    assert "ENVONLY" not in r.stdout + r.stderr
