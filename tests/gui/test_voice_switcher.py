"""The voice switcher names ElevenLabs voices from the cached catalog, at start-up and on refresh."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from synthbot_desktop.storage.voices import CatalogVoice, replace_catalog


def _el_text(window: Any) -> str:
    box = window.voice_box
    voice = str(window.ctx.settings.get("tts.elevenlabs.voice_id"))
    return str(box.itemText(box.findData(f"elevenlabs:{voice}")))


def test_names_come_from_the_cached_catalog_off_the_gui_thread(gui: Any, qtbot: Any) -> None:
    from synthbot_desktop.gui.catalog_relay import catalog_relay
    from synthbot_desktop.gui.main_window import MainWindow

    ctx = gui.ctx
    voice = str(ctx.settings.get("tts.elevenlabs.voice_id"))
    # Not in the catalog yet: once the DB answered, the id is shown as such (never a stale guess).
    qtbot.waitUntil(lambda: _el_text(gui.window) != "ElevenLabs — …", timeout=5000)
    assert _el_text(gui.window) == f"ElevenLabs — voice {voice[:8]}…"
    box = gui.window.voice_box
    assert voice in str(box.itemData(box.findData(f"elevenlabs:{voice}"), Qt.ItemDataRole.ToolTipRole))

    with ctx.db.session() as s:
        replace_catalog(s, "elevenlabs", [CatalogVoice("elevenlabs", voice, "Rachel"),
                                          CatalogVoice("elevenlabs", "v-other", "Adam")])
        s.commit()

    # A new start: the name, read from the DB in a worker, replaces the placeholder.
    window = MainWindow(ctx, gui.talk, gui.bridge)
    qtbot.addWidget(window)
    assert _el_text(window) in ("ElevenLabs — …", "ElevenLabs — Rachel")
    qtbot.waitUntil(lambda: _el_text(window) == "ElevenLabs — Rachel", timeout=5000)
    assert window.voice_box.findData("elevenlabs:v-other") > 0
    window.close()

    # A catalog refresh (Settings → Voice) renames the running window's entries.
    catalog_relay(ctx).changed.emit([CatalogVoice("elevenlabs", voice, "Rachel (v2)")])
    assert _el_text(gui.window) == "ElevenLabs — Rachel (v2)"
