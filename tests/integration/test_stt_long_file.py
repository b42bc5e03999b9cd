"""A long recording reports progress while it is transcribed (and still transcribes right)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import JFK

pytestmark = pytest.mark.slow


def test_long_file_shows_progress_on_stderr(tmp_path: Path, app_env: dict[str, str]) -> None:
    data, rate = sf.read(str(JFK), dtype="float32")
    data = data.mean(axis=1) if data.ndim == 2 else data
    gap = np.zeros(rate, dtype=np.float32)
    long = np.concatenate([np.concatenate([data, gap]) for _ in range(11)])  # ~2:12
    path = tmp_path / "long.flac"
    sf.write(str(path), long, rate)
    r = subprocess.run([sys.executable, "-m", "synthbot_desktop", "transcribe", str(path), "--json"],
                       capture_output=True, text=True, env=dict(os.environ), timeout=600)
    assert r.returncode == 0, r.stderr
    progress = [ln for ln in r.stderr.splitlines() if ln.startswith("transcribing ")]
    assert len(progress) >= 3, r.stderr  # not a terminal: a line per 10 %
    assert "of 2:1" in progress[0] and progress[-1].split("(")[1].startswith(("9", "100"))
    doc = json.loads(r.stdout)
    assert doc["audio_seconds"] > 130
    # Judged by the words, as a listener would: Whisper's punctuation varies between runs
    # ("Ask not. What your country ..." once in CI), the words do not.
    words = " ".join("".join(c if c.isalpha() else " " for c in doc["text"].lower()).split())
    assert words.count("ask not what your country") >= 9, doc["text"]
