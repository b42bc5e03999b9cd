"""GUI fixtures: the real app (``application.build``) on a private SQLite DB and memory keyring,
fake providers on 127.0.0.1, and a recorded-utterance microphone for the capture layer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import JFK
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

REPLY = "Ask what you can do. That is the famous line."


class RecordedMic:
    """Stands in for ``audio.capture.MicrophoneStream``: replays a file in 20 ms blocks, in real time
    (or faster), to every subscriber — the same block protocol the real capture layer uses."""

    def __init__(self, samples: np.ndarray, speed: float = 4.0) -> None:
        self.samples = samples.astype(np.float32)
        self.speed = speed
        self.closed = False
        self._subs: list[Callable[[Any], None]] = []
        self._thread: threading.Thread | None = None

    def subscribe(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        self._subs.append(fn)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, daemon=True)
            self._thread.start()
        return lambda: self._subs.remove(fn) if fn in self._subs else None

    def _run(self) -> None:
        from synthbot_desktop.audio.capture import CapturedBlock
        from synthbot_desktop.audio.levels import measure

        block = 320
        for offset in range(0, len(self.samples), block):
            if self.closed:
                return
            chunk = self.samples[offset: offset + block]
            item = CapturedBlock(chunk, offset, time.monotonic(), measure(chunk))
            for fn in list(self._subs):
                fn(item)
            time.sleep(block / 16000 / self.speed)
        self.finished = True

    def close(self) -> None:
        self.closed = True


@pytest.fixture(autouse=True)
def _drain_thread_pool(qapp: Any) -> Iterator[None]:
    """Background jobs of one test must finish before its database and keyring go away."""
    yield
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(10000)
    qapp.processEvents()


@pytest.fixture(scope="session")
def jfk_samples() -> np.ndarray:
    from synthbot_desktop.audio.formats import load_audio_file

    return load_audio_file(JFK)


@pytest.fixture
def fake_llm() -> Iterator[Any]:
    server = start_fake_llm("openai", REPLY, first_token_delay=0.05, tokens_per_second=80,
                            models=["gpt-4o-mini", "gpt-4.1-nano"])
    yield server
    server.stop()


@pytest.fixture
def fake_el() -> Iterator[Any]:
    server = start_fake_elevenlabs()
    yield server
    server.stop()


@pytest.fixture
def gui_env(app_env: dict[str, str], memory_keyring: Any, fake_llm: Any, fake_el: Any,
            monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    env = {
        "SYNTHBOT_OPENAI_BASE_URL": base_url("openai", fake_llm),
        "SYNTHBOT_ELEVENLABS_BASE_URL": fake_el.url,
        "SYNTHBOT_SET__LLM__PROVIDER": "openai",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    memory_keyring.set_password("synthbot-desktop", "openai", "sk-test-openai-0000")
    memory_keyring.set_password("synthbot-desktop", "elevenlabs", FAKE_API_KEY)
    return {**app_env, **env}


@pytest.fixture
def gui(qtbot: Any, gui_env: dict[str, str]) -> Iterator[Any]:
    """The real desktop app with the pipeline service; audio out goes to memory."""
    from synthbot_desktop.gui.application import build
    from synthbot_desktop.pipeline.memory_output import MemoryOutput

    outputs: list[MemoryOutput] = []

    def output_factory(_ctx: Any) -> MemoryOutput:
        out = MemoryOutput(realtime=False)
        outputs.append(out)
        return out

    app = build(output_factory=output_factory)
    app.outputs = outputs  # type: ignore[attr-defined]
    qtbot.addWidget(app.window)
    app.window.testing_keys = True
    yield app
    app.close()
