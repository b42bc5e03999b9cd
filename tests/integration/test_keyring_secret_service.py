"""Keys round-trip through a real Secret Service (gnome-keyring on a private D-Bus session)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.secret_service import HeadlessSecretService

pytestmark = pytest.mark.keyring_service


def test_secret_service_round_trip(secret_service: HeadlessSecretService, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in secret_service.environ().items():
        monkeypatch.setenv(k, v)
    from keyring.backends import SecretService

    from synthbot_desktop.keystore import KeyStore

    backend = SecretService.Keyring()
    ks = KeyStore(env={}, backend=backend)
    fp = ks.set("elevenlabs", "sk_0123456789abcdef0123456789abcdef0123")
    assert ks.get("elevenlabs") == "sk_0123456789abcdef0123456789abcdef0123"
    assert ks.info("elevenlabs").fingerprint == fp
    assert ks.delete("elevenlabs")
    assert ks.get("elevenlabs") is None


def test_cli_keys_with_secret_service_never_print_the_key(
    secret_service: HeadlessSecretService, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    env.update(secret_service.environ())
    env.update({"SYNTHBOT_CONFIG_DIR": str(tmp_path / "c"), "SYNTHBOT_DATA_DIR": str(tmp_path / "d"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring"})
    key = "sk-proj-SECRETSERVICEabcdefghij0123"

    def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "synthbot_desktop", *args], input=stdin,
                              capture_output=True, text=True, env=env, timeout=180)

    r = cli("keys", "set", "openai", stdin=key + "\n")
    assert r.returncode == 0, r.stderr
    r = cli("keys", "list", "--json")
    assert r.returncode == 0 and '"openai"' in r.stdout and "SecretService" in r.stdout
    r2 = cli("doctor", "--json")
    for out in (r.stdout + r.stderr, r2.stdout + r2.stderr):
        assert key not in out
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert key.encode() not in f.read_bytes(), f"key written to {f}"
    assert cli("keys", "delete", "openai").returncode == 0
    assert '"fingerprint": null' in cli("keys", "list", "--json").stdout
