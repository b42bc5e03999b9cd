"""History page: #21 defect 10 (rename dialog width, preview follows a rename, export file name and
folder, highlighted snippet) and #17 (tags, notes, ratings, source, import dialog with progress)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QLabel

from synthbot_desktop.gui.history_page import COL_MATCH, COL_SOURCE, COL_TAGS
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import MessageRecord
from tests.support import exports

pytestmark = pytest.mark.gui


@pytest.fixture
def seeded(gui: Any) -> dict[str, int]:
    ctx = gui.ctx
    with ctx.db.session() as s:
        a = repo.create_session(s, ctx.user_id, provider="openai", model="gpt-4o-mini")
        repo.add_message(s, MessageRecord(a.id, "user", "Tell me about penguins in Antarctica"))
        reply = repo.add_message(s, MessageRecord(a.id, "assistant", "Emperor penguins breed in the winter."))
        return {"a": a.id, "reply": reply.id}


def _open(qtbot: Any, gui: Any, rows: int) -> Any:
    page = gui.history
    gui.window.tabs.setCurrentWidget(page)
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == rows, timeout=5000)
    return page


def test_rename_dialog_is_wide_and_the_preview_follows(qtbot: Any, gui: Any, seeded: dict[str, int]) -> None:
    page = _open(qtbot, gui, 1)
    page.select_id(seeded["a"])
    qtbot.waitUntil(lambda: "Emperor penguins" in page.preview.toPlainText(), timeout=5000)
    seen: dict[str, Any] = {}

    def answer() -> None:  # works for a blocking or a non-blocking dialog
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QInputDialog):
            QTimer.singleShot(50, answer)
            return
        seen["width"] = dlg.width()
        seen["title_fits"] = dlg.fontMetrics().horizontalAdvance(dlg.windowTitle()) + 120 < dlg.width()
        dlg.setTextValue("Penguins of the far south 🐧")
        dlg.accept()

    QTimer.singleShot(50, answer)
    page.rename_button.click()
    qtbot.waitUntil(lambda: "width" in seen, timeout=5000)
    assert seen["width"] >= 400 and seen["title_fits"], seen
    qtbot.waitUntil(lambda: page.table.item(0, 0).text() == "Penguins of the far south 🐧", timeout=5000)
    qtbot.waitUntil(lambda: page.preview.toPlainText().startswith("Penguins of the far south 🐧"), timeout=5000)


def test_export_starts_in_documents_with_the_title(qtbot: Any, gui: Any, seeded: dict[str, int],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    page = _open(qtbot, gui, 1)
    page.select_id(seeded["a"])
    page.rename(title="Trip: Lisbon/Porto?")  # characters a file name cannot hold
    qtbot.waitUntil(lambda: page.table.item(0, 0).text() == "Trip: Lisbon/Porto?", timeout=5000)
    page.select_id(seeded["a"])
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda _parent, _caption, default, _filter: (asked.append(default), ("", ""))[1]))
    page.export_md.click()
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert asked == [str(Path(docs) / "Trip  Lisbon Porto.md")]


def test_search_shows_a_highlighted_snippet(qtbot: Any, gui: Any, seeded: dict[str, int]) -> None:
    page = _open(qtbot, gui, 1)
    qtbot.keyClicks(page.search, "emperor")
    qtbot.waitUntil(lambda: not page.table.isColumnHidden(COL_MATCH) and page.table.rowCount() == 1, timeout=5000)
    label = page.table.cellWidget(0, COL_MATCH)
    assert isinstance(label, QLabel) and "<b>Emperor</b> penguins" in label.text()
    page.search.clear()
    qtbot.waitUntil(lambda: page.table.isColumnHidden(COL_MATCH), timeout=5000)


def test_tags_note_and_rating_are_shown_and_editable(qtbot: Any, gui: Any, seeded: dict[str, int]) -> None:
    page = _open(qtbot, gui, 1)
    page.select_id(seeded["a"])
    qtbot.waitUntil(lambda: page.save_meta_button.isEnabled(), timeout=5000)
    page.tags_edit.setText("Travel, keep")
    page.note_edit.setPlainText("Ask about emperors 🐧")
    page.save_meta_button.click()
    qtbot.waitUntil(lambda: page.status.text().startswith("Saved tags and note"), timeout=5000)
    with gui.ctx.db.session() as s:
        info = meta.session_info(s, seeded["a"], gui.ctx.user_id)
    assert info is not None and info.tags == ("keep", "travel") and info.note == "Ask about emperors 🐧"
    qtbot.waitUntil(lambda: page.table.item(0, COL_TAGS) is not None
                    and page.table.item(0, COL_TAGS).text() == "keep, travel", timeout=5000)
    qtbot.waitUntil(lambda: "Ask about emperors" in page.preview.toPlainText(), timeout=5000)
    assert page.tag_filter.findData("travel") >= 0

    page.rate_message(seeded["reply"], -1, "too short")
    qtbot.waitUntil(lambda: "Bad ✓" in page.preview.toPlainText(), timeout=5000)
    with gui.ctx.db.session() as s:
        (r,) = meta.ratings_for(s, [seeded["reply"]]).values()
    assert (r.rating, r.comment) == (-1, "too short")


def test_import_dialog_shows_progress_off_the_gui_thread(qtbot: Any, gui: Any, seeded: dict[str, int],
                                                          tmp_path: Path) -> None:
    f = tmp_path / "conversations.json"
    exports.write_stream(f, exports.big_chatgpt(400, 10))
    page = _open(qtbot, gui, 1)
    ticks: list[int] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(20)
    values: list[int] = []
    dlg = page.import_files(f)
    assert dlg is not None
    dlg.bar.valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: dlg.finished_import, timeout=60000)
    timer.stop()
    assert "Imported 8,000 messages into 400 new" in dlg.summary.text(), dlg.summary.text()
    assert dlg.bar.value() == 1000 and any(0 < v < 1000 for v in values), values
    assert len(ticks) >= 5  # the event loop kept running while the pool imported
    qtbot.waitUntil(lambda: page.table.rowCount() == 401, timeout=10000)
    sources = {page.table.item(i, COL_SOURCE).text() for i in range(page.table.rowCount())}
    assert sources == {"ChatGPT", ""}
    dlg.buttons.rejected.emit()  # Close

    # The same file again: nothing added, said so.
    again = page.import_files(f)
    assert again is not None
    qtbot.waitUntil(lambda: again.finished_import, timeout=60000)
    assert "Imported 0 messages" in again.summary.text() and "8,000 were already here" in again.summary.text()

    page.source_filter.setCurrentIndex(page.source_filter.findData("synthbot-desktop"))
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)


def test_import_dialog_reports_a_bad_file(qtbot: Any, gui: Any, tmp_path: Path) -> None:
    f = tmp_path / "x.json"
    f.write_text(json.dumps([{"hello": 1}]), encoding="utf-8")
    page = _open(qtbot, gui, 0)
    dlg = page.import_files(f)
    assert dlg is not None
    qtbot.waitUntil(lambda: dlg.finished_import, timeout=10000)
    assert "cannot tell which app exported x.json" in dlg.summary.text()


def test_retention_runs_from_the_page_while_the_app_is_open(qtbot: Any, gui: Any, seeded: dict[str, int]) -> None:
    import datetime as dt

    with gui.ctx.db.session() as s:
        old = repo.create_session(s, gui.ctx.user_id, title="very old")
        repo.add_message(s, MessageRecord(old.id, "user", "hello", created_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    page = _open(qtbot, gui, 2)
    assert page._retention_timer.isActive()
    gui.ctx.settings.set("history.keep_days", 30)
    page.apply_retention()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=5000)
    assert page.table.item(0, 0).text() == "Tell me about penguins in Antarctica"
