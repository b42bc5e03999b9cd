"""The shipped admin policy example is valid: admins copy it verbatim."""

from __future__ import annotations

from pathlib import Path

from synthbot_desktop.config import Policy

ROOT = Path(__file__).resolve().parents[2]


def test_policy_example_loads_and_locks_the_database() -> None:
    policy = Policy.load(ROOT / "packaging" / "policy.example.toml", required=True)
    assert policy.locked["database.url"].startswith("mysql+pymysql://")
    assert policy.locked["database.auto_upgrade_remote"] is False
    assert policy.defaults["audio.mode"] == "push_to_talk"


def test_policy_example_locks_a_feature_flag_and_backups_off() -> None:
    policy = Policy.load(ROOT / "packaging" / "policy.example.toml", required=True)
    assert policy.locked["flags.tool.open"] is False
    assert policy.locked["database.backup.every_hours"] == 0
