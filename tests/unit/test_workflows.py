"""The Windows/macOS build workflows parse and hold the steps a release needs (they cannot run here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _workflow(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict) and doc["jobs"], name
    return doc


def _script(doc: dict[str, Any]) -> str:
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    assert all("uses" in s or "run" in s for s in steps)
    return "\n".join(str(s.get("run", "")) + str(s.get("uses", "")) for s in steps)


def test_windows_workflow_builds_smoke_tests_and_packages_an_installer() -> None:
    doc = _workflow("build-windows.yml")
    assert doc["jobs"]["build"]["runs-on"].startswith("windows")
    script = _script(doc)
    assert "pyinstaller --noconfirm packaging/synthbot-desktop.spec" in script
    assert script.index("pyinstaller") < script.index("--version") < script.index("iscc")
    assert "packaging/windows/synthbot-desktop.iss" in script
    assert (ROOT / "packaging" / "windows" / "synthbot-desktop.iss").is_file()
    assert all(str(v).startswith("${{ secrets.") for v in doc["jobs"]["build"]["env"].values())


def test_macos_workflow_builds_app_dmg_with_mic_description_and_notarises() -> None:
    doc = _workflow("build-macos.yml")
    assert doc["jobs"]["build"]["runs-on"].startswith("macos")
    script = _script(doc)
    assert "NSMicrophoneUsageDescription" in script and "plutil -lint" in script
    assert script.index("pyinstaller") < script.index("--version") < script.index("hdiutil create")
    assert "codesign" in script and "--options runtime" in script
    assert "notarytool submit" in script and "stapler staple" in script
    env = doc["jobs"]["build"]["env"]
    assert all(str(v).startswith("${{ secrets.") for v in env.values())  # secrets only as inputs


def _check_schema(*paths: Path) -> subprocess.CompletedProcess[str]:
    """The workflows against the GitHub Actions workflow schema that check-jsonschema ships (a PyPI
    package, so no download: its ``vendor.github-workflows`` built-in)."""
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_the_workflows_are_valid_against_the_github_actions_schema() -> None:
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert len(files) >= 2
    r = _check_schema(*files)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "build-windows.yml").read_text(encoding="utf-8"))
    doc["jobs"]["build"]["runs_on"] = doc["jobs"]["build"].pop("runs-on")  # a typo GitHub would refuse
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(doc), encoding="utf-8")
    r = _check_schema(broken)
    assert r.returncode != 0 and "runs_on" in r.stdout + r.stderr
