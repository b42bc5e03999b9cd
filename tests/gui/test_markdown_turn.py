"""A real typed turn whose answer is Markdown (fake OpenAI and ElevenLabs servers, the real turn
engine): the bubble keeps the model's Markdown when the turn ends — the speech form (what the
chunker spoke, markup stripped) must not replace it — and so does the conversation opened again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from synthbot_desktop.pipeline.events import TurnState
from tests.support.fake_llm import start_fake_llm

pytestmark = pytest.mark.gui

MARKDOWN = "The answer is **forty two**. Try it:\n\n```python\nprint(6 * 7)\n```\n\n- quick\n- simple\n"


@pytest.fixture
def fake_llm() -> Iterator[Any]:  # overrides the conftest's plain reply for this module
    server = start_fake_llm("openai", MARKDOWN, tokens_per_second=200)
    yield server
    server.stop()


def _bold(bubble: Any) -> list[str]:
    out = []
    block = bubble.reply.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            f = it.fragment()
            if f.charFormat().fontWeight() >= QFont.Weight.Bold:
                out.append(f.text())
            it += 1
        block = block.next()
    return out


def test_a_finished_markdown_reply_stays_markdown(qtbot: Any, gui: Any, fake_el: Any) -> None:
    w = gui.window
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=20000) as done:
        qtbot.keyClicks(w.input, "what is six times seven")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    assert done.args[0].text != MARKDOWN.strip()  # what was spoken is the speech form…
    reply = w.conversation.bubbles()[-1]
    assert reply.text().strip() == MARKDOWN.strip() and _bold(reply) == ["forty two"]  # …the bubble is not
    assert "**" not in "".join(s.body["text"] for s in fake_el.state.streams)  # markup was never read aloud
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE and w.session_id is not None, timeout=10000)
    gui.ctx.recorder.flush()
    w.resume_session(w.session_id)
    qtbot.waitUntil(lambda: len(w.conversation.bubbles()) == 2 and w.conversation.bubbles()[-1] is not reply,
                    timeout=5000)
    assert _bold(w.conversation.bubbles()[-1]) == ["forty two"]
