"""No speaker is no reason to lose a reply: a typed turn answers in text, and the person is told
once that speech is off (the window, and `talk` in a terminal)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.errors import AudioError
from synthbot_desktop.pipeline.events import TurnState
from synthbot_desktop.services.conversation import SPEECH_OFF
from tests.conftest import JFK
from tests.gui.conftest import REPLY

pytestmark = pytest.mark.gui


@pytest.fixture
def mute_gui(qtbot: Any, gui_env: dict[str, str]) -> Iterator[Any]:
    from synthbot_desktop.gui.application import build

    def no_speaker(_ctx: Any) -> Any:
        raise AudioError("no speaker found", hint="plug in a speaker or headphones")

    app = build(output_factory=no_speaker)
    qtbot.addWidget(app.window)
    yield app
    app.close()


def test_typed_turns_without_speaker_answer_in_text_and_say_so_once(qtbot: Any, mute_gui: Any, fake_el: Any) -> None:
    w = mute_gui.window
    errors: list[str] = []
    mute_gui.bridge.error.connect(lambda e: errors.append(e.message))
    for n in range(2):
        with qtbot.waitSignal(mute_gui.bridge.assistantDone, timeout=30000) as done:
            qtbot.keyClicks(w.input, f"question {n}")
            qtbot.keyClick(w.input, Qt.Key.Key_Return)
        assert done.args[0].text == REPLY
        qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=15000)
    assert [b.role for b in w.conversation.bubbles()] == ["user", "assistant", "user", "assistant"]
    assert sum(SPEECH_OFF in m for m in errors) == 1, errors
    assert not fake_el.state.streams  # nothing is synthesised for a speaker that is not there


@pytest.mark.slow
def test_cli_talk_without_speaker_prints_reply_and_says_so_once(gui_env: dict[str, str], fake_el: Any,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    """In-process, so the speaker can really be missing (this machine always has a default one)."""
    from synthbot_desktop.cli import main as cli_main
    from synthbot_desktop.cli.commands import talk

    def no_speaker(_ctx: Any) -> Any:
        raise AudioError("no speaker found", hint="plug in a speaker or headphones")

    monkeypatch.setattr(talk, "_speaker", no_speaker)
    code = cli_main.main(["talk", "--in", str(JFK), "--provider", "openai", "--engine", "elevenlabs", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert json.loads(out.out)["reply"] == REPLY
    assert out.err.count(SPEECH_OFF) == 1, out.err
    assert not fake_el.state.streams
