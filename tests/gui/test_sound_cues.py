"""Issue #21: sound cues (listening / sent / error) and the spoken error, on the conversation's speaker.

A real push-to-talk turn (recorded microphone, Whisper tiny.en) whose LLM refuses the key: the
cues and the offline voice's sentence reach the speaker; typed turns make no sound."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.pipeline.cues import CUE_RATE, cue_tone, spoken_error_text
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from tests.gui.conftest import RecordedMic
from tests.support.fake_http import Response

pytestmark = pytest.mark.gui


class RecordingPlayer:
    """The speaker the cues and spoken errors are queued on (``audio.playback.Player``'s enqueue)."""

    def __init__(self) -> None:
        self.queued: list[tuple[Any, Any, int | None, Any]] = []

    def enqueue(self, audio: Any, fmt: Any = None, *, sample_rate: int | None = None, tag: Any = None) -> None:
        self.queued.append((audio, fmt, sample_rate, tag))

    def tags(self) -> list[Any]:
        return [q[3] for q in self.queued]

    def close(self) -> None:
        pass


class SpeakerOutput(MemoryOutput):
    """Turn audio in memory (as in the other GUI tests) plus the player the app's extras go to."""

    def __init__(self) -> None:
        super().__init__(realtime=False)
        self.player = RecordingPlayer()


@pytest.fixture
def app(qtbot: Any, gui_env: dict[str, str]) -> Iterator[Any]:
    from synthbot_desktop.gui.application import build

    outputs: list[SpeakerOutput] = []

    def output_factory(_ctx: Any) -> SpeakerOutput:
        outputs.append(SpeakerOutput())
        return outputs[-1]

    gui = build(output_factory=output_factory)
    gui.outputs = outputs
    qtbot.addWidget(gui.window)
    gui.window.testing_keys = True
    yield gui
    gui.close()


def _cues(player: RecordingPlayer) -> list[str]:
    """Which cue each queued tone is (compared sample for sample with the generated ones)."""
    kinds = {k: cue_tone(k) for k in ("listening", "sent", "error")}
    out = []
    for audio, _fmt, rate, tag in player.queued:
        if tag == "cue":
            assert rate == CUE_RATE
            out.append(next(k for k, t in kinds.items() if np.array_equal(t, audio)))
    return out


@pytest.mark.slow  # Whisper tiny.en on two 4 s takes and the Piper voice: ~13 s on 2 shared cores
def test_failed_spoken_turn_chimes_and_says_why(qtbot: Any, app: Any, fake_llm: Any, jfk_samples: Any) -> None:
    w = app.window
    w.set_hands_free(False)
    # A typed turn first: it opens the speaker and makes no sound of its own.
    with qtbot.waitSignal(app.bridge.assistantDone, timeout=30000):
        qtbot.keyClicks(w.input, "Hello")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    player = app.outputs[0].player
    assert player.queued == []

    body = json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                 "code": "invalid_api_key"}}).encode()
    fake_llm.add("POST", r"/v1/chat/completions",
                 lambda req: Response(401, {"content-type": "application/json"}, body))
    mic = RecordedMic(jfk_samples[: 16000 * 4], speed=4.0)  # "And so my fellow Americans"
    app.talk._mic_factory = lambda _ctx: mic
    errors: list[ErrorEvent] = []
    app.bridge.error.connect(errors.append)
    w.begin_push_to_talk()
    qtbot.waitUntil(lambda: getattr(mic, "finished", False), timeout=30000)
    w.end_push_to_talk()
    qtbot.waitUntil(lambda: bool(errors), timeout=60000)
    qtbot.waitUntil(lambda: "spoken_error" in player.tags(), timeout=60000)
    assert _cues(player) == ["listening", "sent", "error"]
    said = app.talk.spoken_errors
    assert said == [spoken_error_text(ErrorEvent("", kind=errors[0].kind))], (said, errors[0])
    pcm, fmt, _rate, _tag = next(q for q in player.queued if q[3] == "spoken_error")
    seconds = len(pcm) / (fmt.sample_rate * fmt.sample_width)
    assert 1.0 < seconds < 8.0  # a short sentence, really synthesised by the offline voice
    qtbot.waitUntil(lambda: app.talk._mic.muted, timeout=3000)  # the app does not hear its own sentence...
    qtbot.waitUntil(lambda: not app.talk._mic.muted, timeout=15000)  # ...and listens again afterwards

    # Off in Settings: the same failure is silent (the banner still says it).
    app.ctx.settings.update({"ui.sound_cues": False, "ui.spoken_errors": False})
    before = len(player.queued)
    mic2 = RecordedMic(jfk_samples[: 16000 * 4], speed=4.0)
    app.talk._mic = None
    app.talk._mic_factory = lambda _ctx: mic2
    errors.clear()
    w.begin_push_to_talk()
    qtbot.waitUntil(lambda: getattr(mic2, "finished", False), timeout=30000)
    w.end_push_to_talk()
    qtbot.waitUntil(lambda: bool(errors), timeout=60000)
    qtbot.wait(300)
    assert len(player.queued) == before


def test_a_cue_silences_the_microphone_only_while_it_plays_and_mute_wins(ctx: Any) -> None:
    """No echo canceller: the app must not hear its own tone (a phantom turn), yet listen right after;
    the mute button pressed meanwhile keeps the microphone muted when the cue ends."""
    import time

    from synthbot_desktop.gui.bridge import EngineThread
    from synthbot_desktop.gui.pipeline_service import MutableMic, PipelineTalkService

    engine = EngineThread().start()
    try:
        svc = PipelineTalkService(ctx, engine, lambda _e: None, output_factory=lambda _c: SpeakerOutput())
        svc._output = SpeakerOutput()
        svc._mic = MutableMic(object())
        ctx.settings.set("ui.sound_cues", True)

        def wait(cond: Any) -> None:
            deadline = time.monotonic() + 10
            while not cond():
                assert time.monotonic() < deadline
                time.sleep(0.01)

        from synthbot_desktop.pipeline.events import StateChanged, TurnState

        engine.call_soon(svc.sink, StateChanged(TurnState.LISTENING))  # from rest: the "listening" cue
        wait(lambda: svc._mic.muted)
        assert _cues(svc._output.player) == ["listening"]
        wait(lambda: not svc._mic.muted)  # heard again once the tone has played

        engine.call_soon(svc.sink, StateChanged(TurnState.IDLE))
        engine.call_soon(svc.sink, StateChanged(TurnState.LISTENING))
        wait(lambda: svc._mic.muted)
        svc.set_muted(True)
        svc.set_muted(False)  # unmuted during the tone: still silent until it ends
        wait(lambda: len(svc._output.player.queued) == 2 and not svc._mic.muted)
        engine.call_soon(svc.sink, StateChanged(TurnState.IDLE))
        engine.call_soon(svc.sink, StateChanged(TurnState.LISTENING))
        wait(lambda: svc._mic.muted)
        svc.set_muted(True)  # muted during the tone: stays muted after it
        time.sleep(0.5)
        assert svc._mic.muted and svc.muted
    finally:
        engine.stop()


def _service(ctx: Any) -> tuple[Any, Any]:
    from synthbot_desktop.gui.bridge import EngineThread
    from synthbot_desktop.gui.pipeline_service import PipelineTalkService

    engine = EngineThread().start()
    svc = PipelineTalkService(ctx, engine, lambda _e: None, output_factory=lambda _c: SpeakerOutput())
    svc._output = SpeakerOutput()
    return engine, svc


def _wait(cond: Any, seconds: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.mark.slow  # loads the Piper voice (~2 s)
def test_a_fired_timer_is_said_aloud_with_the_offline_voice(ctx: Any) -> None:
    """Issue #16: a timer fires a notification *and* speaks; the model's label is cleaned first."""
    from synthbot_desktop.pipeline.events import TimerFired

    engine, svc = _service(ctx)
    try:
        engine.call_soon(svc.sink, TimerFired("tea\x07 <b>now</b>"))
        _wait(lambda: bool(svc.spoken_reminders))
        assert svc.spoken_reminders == ["Time is up: tea <b>now</b>."]
        (pcm, fmt, _rate, tag), = svc._output.player.queued
        assert tag == "reminder" and len(pcm) > fmt.sample_rate  # over half a second of speech (16-bit)
    finally:
        engine.stop()


def test_reminders_and_errors_stay_silent_when_piper_is_off_or_the_setting_is(ctx: Any,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin's feature.tts.piper (issue #18) covers every use of the offline voice, not only the
    fallback; and ui.spoken_reminders off means the notification alone."""
    import time

    from synthbot_desktop.pipeline.events import TimerFired
    from synthbot_desktop.services import features

    asked: list[str] = []

    def enabled(_ctx: Any, name: str) -> bool:
        asked.append(name)
        return name != "feature.tts.piper"

    monkeypatch.setattr(features, "enabled", enabled)
    engine, svc = _service(ctx)
    try:
        engine.call_soon(svc.sink, TimerFired("tea"))
        _wait(lambda: "feature.tts.piper" in asked, 10)
        ctx.settings.set("ui.spoken_reminders", False)
        engine.call_soon(svc.sink, TimerFired("stretch"))
        time.sleep(0.5)
        assert svc.spoken_reminders == [] and svc._output.player.queued == []
        assert asked == ["feature.tts.piper"]  # the second one was not even considered
    finally:
        engine.stop()
