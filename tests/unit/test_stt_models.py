"""Offline model resolution: bundled default, folders, cached names, and clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from synthbot_desktop.errors import ModelError
from synthbot_desktop.stt.models import bundled_model_path, resolve_model


def test_bundled_default() -> None:
    for spec in (None, "", "tiny.en", "bundled"):
        model = resolve_model(spec)
        assert model.source == "bundled" and model.name == "tiny.en"
        assert (model.path / "model.bin").is_file()
        assert model.english_only


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "my-model"
    folder.mkdir()
    for f in bundled_model_path().iterdir():
        os.symlink(f, folder / f.name)
    return folder


def test_folder_model(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    model = resolve_model(str(folder))
    assert model.source == "folder" and model.path == folder.resolve() and model.name == "my-model"


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="folder not found") as info:
        resolve_model(str(tmp_path / "nope"))
    assert "tiny.en" in (info.value.hint or "")


def test_incomplete_folder_names_missing_files(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "model.bin").unlink()
    (folder / "tokenizer.json").unlink()
    (folder / "vocabulary.txt").unlink()
    with pytest.raises(ModelError, match=r"missing model\.bin, tokenizer\.json or vocabulary\.txt"):
        resolve_model(str(folder))


def test_damaged_files(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "model.bin").unlink()
    (folder / "model.bin").write_bytes(b"\0" * 100)
    with pytest.raises(ModelError, match="damaged"):
        resolve_model(str(folder))
    (tmp_path / "x").mkdir()
    folder2 = _copy_model(tmp_path / "x")
    (folder2 / "config.json").unlink()
    (folder2 / "config.json").write_text("{not json")
    with pytest.raises(ModelError, match=r"config.*damaged"):
        resolve_model(str(folder2))


def test_file_instead_of_folder(tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelError, match="not a folder"):
        resolve_model(str(f))


def test_unknown_and_uncached_names_never_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="unknown Whisper model 'tinyy'"):
        resolve_model("tinyy")
    with pytest.raises(ModelError, match="'large-v3' is not on this computer") as info:
        resolve_model("large-v3")
    assert "download_model" in (info.value.hint or "")
