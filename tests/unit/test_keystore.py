"""Key storage rules: env first, keyring second, plain refusal without a keyring, opt-in file backend."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from synthbot_desktop.errors import SecretStoreError, UsageError
from synthbot_desktop.keystore import SERVICE, FileKeyring, KeyStore, fingerprint
from synthbot_desktop.redaction import redact
from tests.conftest import MemoryKeyring


def test_set_get_list_delete_with_memory_backend() -> None:
    backend = MemoryKeyring()
    ks = KeyStore(env={}, backend=backend)
    fp = ks.set("openai", "  sk-test-1234567890abcdef \n")
    assert fp == fingerprint("sk-test-1234567890abcdef") and fp.startswith("sha256:")
    assert backend.store[(SERVICE, "openai")] == "sk-test-1234567890abcdef"
    assert ks.get("openai") == "sk-test-1234567890abcdef"
    infos = {i.provider: i for i in ks.list()}
    assert infos["openai"].fingerprint == fp and infos["openai"].source.startswith("keyring")
    assert infos["anthropic"].source == "missing"
    assert "1234567890abcdef" not in repr(infos)
    assert ks.delete("openai") is True
    assert ks.delete("openai") is False
    assert ks.get("openai") is None


def test_env_key_wins_and_is_never_stored() -> None:
    backend = MemoryKeyring()
    ks = KeyStore(env={"SYNTHBOT_ANTHROPIC_API_KEY": "sk-ant-env-key-abcdefghij"}, backend=backend)
    assert ks.get("anthropic") == "sk-ant-env-key-abcdefghij"
    assert ks.info("anthropic").source.startswith("env")
    assert backend.store == {}
    assert "sk-ant-env-key-abcdefghij" not in redact("used sk-ant-env-key-abcdefghij")


def test_rejects_bad_input() -> None:
    ks = KeyStore(env={}, backend=MemoryKeyring())
    with pytest.raises(UsageError, match="empty"):
        ks.set("openai", "   ")
    with pytest.raises(UsageError, match="spaces"):
        ks.set("openai", "sk-one sk-two")
    with pytest.raises(UsageError, match="unknown provider"):
        ks.get("skynet")


def test_no_keyring_is_said_plainly(tmp_path: Path) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        ks = KeyStore(env={}, file_path=tmp_path / "keys.json")
        with pytest.raises(SecretStoreError, match="no OS keyring") as err:
            ks.set("openai", "sk-abcdefghijklmnop")
        assert "allow_file_backend" in (err.value.hint or "")
        assert ks.get("openai") is None  # reads degrade to "no key", never crash
        opted_in = KeyStore(env={}, allow_file_backend=True, file_path=tmp_path / "keys.json")
        opted_in.set("openai", "sk-abcdefghijklmnop")
        assert opted_in.get("openai") == "sk-abcdefghijklmnop"
        assert stat.S_IMODE(os.stat(tmp_path / "keys.json").st_mode) == 0o600
    finally:
        keyring.set_keyring(previous)


def test_plaintext_keyrings_alt_is_not_used_silently(tmp_path: Path) -> None:
    from keyrings.alt.file import PlaintextKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        with pytest.raises(SecretStoreError, match="no OS keyring"):
            KeyStore(env={}).backend()
        explicit = KeyStore(env={"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"})
        assert "PlaintextKeyring" in explicit.backend_name()
    finally:
        keyring.set_keyring(previous)


def test_file_backend_round_trip_and_delete(tmp_path: Path) -> None:
    fk = FileKeyring(tmp_path / "sub" / "keys.json")
    fk.set_password(SERVICE, "gemini", "AIzaSy-secret")
    fk.set_password(SERVICE, "openai", "sk-two")
    assert fk.get_password(SERVICE, "gemini") == "AIzaSy-secret"
    fk.delete_password(SERVICE, "gemini")
    assert fk.get_password(SERVICE, "gemini") is None
    assert fk.get_password(SERVICE, "openai") == "sk-two"
    with pytest.raises(keyring.errors.PasswordDeleteError):
        fk.delete_password(SERVICE, "gemini")


def test_locked_keyring_message() -> None:
    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("locked")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.KeyringLocked("locked")

    ks = KeyStore(env={}, backend=Locked())
    with pytest.raises(SecretStoreError, match="keyring is locked") as err:
        ks.set("openai", "sk-abcdefghijklmnop")
    assert "unlock" in (err.value.hint or "")
    with pytest.raises(SecretStoreError, match="locked"):
        ks.info("openai")
