"""Push-to-talk says "Listening" only once the microphone is open (found by the GUI soak: the very
first hold of a session showed Listening while PortAudio was still starting, and the words were lost)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from synthbot_desktop.pipeline.events import TurnState
from tests.gui.conftest import RecordedMic

pytestmark = pytest.mark.gui


@pytest.fixture
def slow_mic_app(qtbot: Any, gui_env: dict[str, str]) -> Iterator[tuple[Any, threading.Event]]:
    from synthbot_desktop.gui.application import build
    from synthbot_desktop.pipeline.memory_output import MemoryOutput

    opened = threading.Event()

    def slow_mic(_ctx: Any) -> RecordedMic:
        opened.wait(10)  # a device that takes its time to start
        return RecordedMic(np.zeros(1600, dtype=np.float32))

    app = build(output_factory=lambda _c: MemoryOutput(realtime=False), mic_factory=slow_mic)
    qtbot.addWidget(app.window)
    yield app, opened
    opened.set()
    app.close()


def test_listening_is_shown_when_the_microphone_is_open(qtbot: Any, slow_mic_app: Any) -> None:
    app, opened = slow_mic_app
    w = app.window
    w.set_hands_free(False)
    w.begin_push_to_talk()
    qtbot.waitUntil(lambda: app.talk._ptt_blocks is not None, timeout=5000)
    qtbot.wait(200)  # the engine thread is inside the mic factory now
    assert w.state != TurnState.LISTENING and "Listening" not in w.indicator.text()
    opened.set()
    qtbot.waitUntil(lambda: w.state in (TurnState.LISTENING, TurnState.HEARING), timeout=5000)
    w.end_push_to_talk()
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=5000)
