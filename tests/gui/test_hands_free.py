"""Hands-free in the real window on the PulseAudio virtual microphone (issue #21, defects 1 and 2).

The microphone is the real capture layer (``audio.capture.MicrophoneStream`` on the private
PulseAudio daemon's ``vmic``); the test speaks by playing jfk.flac into ``micfeed``. A virtual
mic keeps delivering (silent) blocks between utterances exactly like a real one, which a
replayed file cannot: ``RecordedMic`` stops sending blocks at the end of its file, so with less
trailing silence than ``audio.silence_ms`` (600 ms by default; the old attempt padded 500 ms)
the endpointer never saw the end of the utterance and no turn ever started.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from synthbot_desktop.pipeline.events import TurnState
from tests.conftest import JFK

pytestmark = [pytest.mark.gui, pytest.mark.audio, pytest.mark.slow]


def _chat_calls(fake_llm: Any) -> int:
    return sum(1 for r in fake_llm.requests if r.method == "POST")


def _padded_jfk(tmp_path: Path) -> Path:
    data, rate = sf.read(str(JFK), dtype="float32")
    data = data.mean(axis=1) if data.ndim == 2 else data
    pad = np.zeros(int(rate * 0.8), dtype=np.float32)
    path = tmp_path / "jfk_padded.wav"
    sf.write(str(path), np.concatenate([pad, data, pad]), rate)
    return path


def _loop_running(gui: Any) -> bool:
    task = gui.talk._loop_task
    return task is not None and not task.done()


def test_hands_free_off_stops_listening_and_state_tells_the_truth(
        qtbot: Any, gui: Any, fake_llm: Any, virtual_audio: Any, tmp_path: Path) -> None:
    w = gui.window
    utt = _padded_jfk(tmp_path)
    gui.ctx.settings._env_values["audio.silence_ms"] = 1000  # jfk.flac's pauses stay inside one utterance
    w.hands_free_box.setChecked(True)
    w.talk_button.click()
    qtbot.waitUntil(lambda: _loop_running(gui) and w.state == TurnState.LISTENING, timeout=120000)
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=120000):
        virtual_audio.play_into_mic(utt).wait(60)
    assert _chat_calls(fake_llm) >= 1
    # Defect 2: the reply is over, the microphone is still live: the window says so.
    qtbot.waitUntil(lambda: w.state == TurnState.LISTENING, timeout=20000)
    assert "Listening" in w.indicator.text()
    assert w.talk_button.text() != "Start hands-free" and "Listening" in w.talk_button.text()

    # Defect 1: unticking hands-free (state is Listening, after a reply) stops the loop for good.
    w.hands_free_box.setChecked(False)
    qtbot.waitUntil(lambda: not _loop_running(gui), timeout=20000)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=10000)
    assert "Ready" in w.indicator.text() and w.talk_button.text() == "Hold to talk"
    bubbles, calls = len(w.conversation.bubbles()), _chat_calls(fake_llm)
    # Speech and then seconds of silence on the live virtual mic: nobody is listening any more.
    virtual_audio.play_into_mic(utt).wait(60)
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:  # a window of time in which a phantom turn would show up
        qtbot.wait(100)
        assert _chat_calls(fake_llm) == calls and len(w.conversation.bubbles()) == bubbles
    assert w.state == TurnState.IDLE


def test_push_to_talk_stops_a_running_hands_free_loop(qtbot: Any, gui: Any, virtual_audio: Any) -> None:
    """The loop can run with the box unticked (global shortcut, tray): push-to-talk ends it first."""
    w = gui.window
    w.set_hands_free(False)
    gui.talk.start_listening(hands_free=True)
    qtbot.waitUntil(lambda: _loop_running(gui), timeout=120000)
    qtbot.waitUntil(lambda: w.state == TurnState.LISTENING, timeout=10000)
    w.begin_push_to_talk()
    qtbot.waitUntil(lambda: not _loop_running(gui) and gui.talk._ptt_blocks is not None, timeout=20000)
    w.end_push_to_talk()  # too short for a turn: back to rest, nothing left listening
    qtbot.waitUntil(lambda: gui.talk._ptt_blocks is None and w.state == TurnState.IDLE, timeout=20000)
    assert not _loop_running(gui)
