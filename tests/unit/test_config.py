"""Settings merge order, policy locks, env overrides and error messages that point at the problem."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from synthbot_desktop.config import REGISTRY, Settings, env_overrides
from synthbot_desktop.errors import ConfigError, PolicyLockedError
from synthbot_desktop.platform_paths import platform_key, resolve_paths, system_policy_path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {"SYNTHBOT_CONFIG_DIR": str(tmp_path / "cfg"), "SYNTHBOT_DATA_DIR": str(tmp_path / "data")}
    env.update(extra)
    return env


def test_defaults_when_nothing_is_configured(tmp_path: Path) -> None:
    s = Settings.load(_env(tmp_path))
    assert s.get("audio.silence_ms") == REGISTRY["audio.silence_ms"].default
    assert s.source("audio.silence_ms") == "default"
    assert s.paths.settings_file == tmp_path / "cfg" / "settings.toml"


def test_merge_order_default_policy_user_env_locked(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[defaults]\n"audio.silence_ms" = 700\nllm.provider = "anthropic"\n'
        '[locked.stt]\nmodel = "tiny.en"\n', encoding="utf-8")
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.toml").write_text(
        "# my settings\n[audio]\nsilence_ms = 450\n[llm]\nprovider = \"openai\"\n[stt]\nmodel = \"base\"\n",
        encoding="utf-8")
    env = _env(tmp_path, SYNTHBOT_POLICY_FILE=str(policy), SYNTHBOT_SET__audio__silence_ms="300")
    s = Settings.load(env)
    assert (s.get("audio.silence_ms"), s.source("audio.silence_ms")) == (300, "env")
    assert (s.get("llm.provider"), s.source("llm.provider")) == ("openai", "user")
    assert (s.get("stt.model"), s.source("stt.model")) == ("tiny.en", "locked")
    assert s.is_locked("stt.model")
    # a policy default shows through when the user has no value
    s2 = Settings.load(_env(tmp_path / "other", SYNTHBOT_POLICY_FILE=str(policy)))
    assert (s2.get("audio.silence_ms"), s2.source("audio.silence_ms")) == (700, "policy")


def test_locked_setting_cannot_be_changed(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked]\n"database.url" = "mysql+pymysql://app@db.example/synthbot"\n', encoding="utf-8")
    s = Settings.load(_env(tmp_path, SYNTHBOT_POLICY_FILE=str(policy)))
    with pytest.raises(PolicyLockedError, match="locked by your administrator"):
        s.set("database.url", "sqlite:////tmp/x.db")
    assert not s.paths.settings_file.exists()


def test_set_keeps_comments_and_validates(tmp_path: Path) -> None:
    s = Settings.load(_env(tmp_path))
    s.paths.settings_file.parent.mkdir(parents=True)
    s.paths.settings_file.write_text("# keep me\n[audio]\nbarge_in = false\n", encoding="utf-8")
    s = Settings.load(_env(tmp_path))
    s.set("audio.silence_ms", "420", from_text=True)
    s.set("tts.piper.length_scale", 0.9)
    text = s.paths.settings_file.read_text(encoding="utf-8")
    assert "# keep me" in text and "silence_ms = 420" in text
    again = Settings.load(_env(tmp_path))
    assert again.get("audio.silence_ms") == 420 and again.get("audio.barge_in") is False
    with pytest.raises(ConfigError, match="above the maximum"):
        s.set("audio.silence_ms", 999999)
    with pytest.raises(ConfigError, match="not one of"):
        s.set("llm.provider", "skynet")
    s.reset("audio.silence_ms")
    assert Settings.load(_env(tmp_path)).source("audio.silence_ms") == "default"


def test_invalid_value_names_file_line_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.toml").write_text("[audio]\nbarge_in = true\nsilence_ms = \"soon\"\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        Settings.load(_env(tmp_path))
    msg = str(err.value)
    assert f"{cfg / 'settings.toml'}:3" in msg and "audio.silence_ms" in msg and "whole number" in msg


def test_syntax_error_names_line(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.toml").write_text("[audio]\nsilence_ms = 400\nthis is not toml\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"settings\.toml:3: not valid TOML"):
        Settings.load(_env(tmp_path))


def test_unreadable_policy_and_bad_sections(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="policy file does not exist"):
        Settings.load(_env(tmp_path, SYNTHBOT_POLICY_FILE=str(tmp_path / "missing.toml")))
    bad = tmp_path / "bad.toml"
    bad.write_text("[lockd]\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml:1: unknown section"):
        Settings.load(_env(tmp_path, SYNTHBOT_POLICY_FILE=str(bad)))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="cannot read the file"):
        Settings.load(_env(tmp_path, SYNTHBOT_POLICY_FILE=str(binary)))


def test_env_overrides_map_documented_names() -> None:
    got = env_overrides({
        "SYNTHBOT_DATABASE_URL": "sqlite:////tmp/a.db",
        "SYNTHBOT_OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "SYNTHBOT_ELEVENLABS_BASE_URL": "http://127.0.0.1:8",
        "UNRELATED": "x",
    })
    assert got == {"database.url": "sqlite:////tmp/a.db", "providers.openai.base_url": "http://127.0.0.1:9/v1",
                   "providers.elevenlabs.base_url": "http://127.0.0.1:8"}


def test_bad_env_value_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"audio\.barge_in"):
        Settings.load(_env(tmp_path, SYNTHBOT_SET__audio__barge_in="maybe"))


@pytest.mark.parametrize(("platform", "env", "expected"), [
    ("linux", {}, PurePosixPath("/etc/synthbot-desktop/policy.toml")),
    ("darwin", {}, PurePosixPath("/Library/Application Support/SynthBot Desktop/policy.toml")),
    ("win32", {"PROGRAMDATA": r"D:\PD"}, PureWindowsPath(r"D:\PD\SynthBot Desktop\policy.toml")),
    ("win32", {}, PureWindowsPath(r"C:\ProgramData\SynthBot Desktop\policy.toml")),
])
def test_policy_path_per_platform(platform: str, env: dict[str, str], expected: object) -> None:
    assert system_policy_path(platform, env) == expected


def test_platform_key_and_env_paths(tmp_path: Path) -> None:
    assert [platform_key(p) for p in ("linux", "darwin", "win32", "cygwin", "freebsd13")] == [
        "linux", "darwin", "win32", "win32", "linux"]
    paths = resolve_paths({"SYNTHBOT_CONFIG_DIR": "/c", "SYNTHBOT_DATA_DIR": "/d", "SYNTHBOT_POLICY_FILE": "/p.toml"})
    assert (str(paths.config_dir), str(paths.data_dir), str(paths.policy_file)) == ("/c", "/d", "/p.toml")
    assert paths.policy_from_env
