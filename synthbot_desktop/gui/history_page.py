"""History: conversations list with full-text search, open/resume, rename, delete with undo, export,
tags and notes, ratings, filters by tag and source, and importing other apps' exports (#17).

Delete is undoable for a few seconds: the row disappears at once, and the database delete
runs only when the undo bar times out (or the window closes), so nothing is lost by a slip.
Every database call runs on the pool (``run_job``); an import reports progress through the
job's relay into :class:`ImportDialog`, so the window stays responsive on a 200 MB export.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.services.history import export_document, session_summary, to_markdown
from synthbot_desktop.services.history_importers import ImportProgress, files_in, import_file
from synthbot_desktop.services.history_retention import apply_from_settings
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo

UNDO_MS = 6000
RETENTION_CHECK_MS = 60 * 60 * 1000  # hourly look; apply_from_settings deletes only what is due
SOURCES = [("All sources", None), ("Spoken or typed here", "synthbot-desktop"), ("ChatGPT", "chatgpt"),
           ("Claude", "claude"), ("Gemini", "gemini"), ("SynthBot export", "synthbot")]
SOURCE_NAMES = {"chatgpt": "ChatGPT", "claude": "Claude", "gemini": "Gemini", "synthbot": "SynthBot export"}
COL_TITLE, COL_SOURCE, COL_TAGS, COL_WHEN, COL_COUNT, COL_MATCH = range(6)
_UNSAFE_NAME = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def highlighted_html(snippet: str, spans: Any) -> str:
    """The snippet as HTML with each match in bold (escaped: message text is never markup)."""
    out, last = [], 0
    for a, b in spans:
        out += [html.escape(snippet[last:a]), "<b>", html.escape(snippet[a:b]), "</b>"]
        last = b
    out.append(html.escape(snippet[last:]))
    return "".join(out)


def export_file_name(title: str | None, session_id: int, fmt: str) -> str:
    """The conversation's title as a file name ("Trip to Lisbon.md"), safe on every OS."""
    name = _UNSAFE_NAME.sub(" ", title or "").strip(" .")[:120].strip()
    return f"{name or f'conversation-{session_id}'}.{fmt}"


class ImportDialog(QDialog):
    """Progress bar and counts while an export is imported on the pool, then a summary."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("history_import_dialog")
        self.setWindowTitle("Import conversations")
        self.setMinimumWidth(460)
        col = QVBoxLayout(self)
        self.label = QLabel("Reading…")
        self.label.setObjectName("import_label")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setObjectName("import_progress")
        self.bar.setRange(0, 1000)
        self.summary = QLabel("")
        self.summary.setObjectName("import_summary")
        self.summary.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.rejected.connect(self._cancel_or_close)
        for w in (self.label, self.bar, self.summary, self.buttons):
            col.addWidget(w)
        self.cancel_event = threading.Event()
        self.finished_import = False
        self.result_progress: list[ImportProgress] = []

    def show_progress(self, p: ImportProgress) -> None:
        self.bar.setValue(int(p.fraction * 1000))
        self.label.setText(f"{Path(p.file).name}: {p.line()}")

    def show_done(self, results: list[ImportProgress]) -> None:
        self.finished_import = True
        self.result_progress = results
        self.bar.setValue(1000)
        added = sum(r.messages_added for r in results)
        lines = [f"Imported {added:,} messages into {sum(r.sessions_created for r in results)} new and "
                 f"{sum(r.sessions_updated for r in results)} updated conversations.",
                 f"{sum(r.messages_existing for r in results):,} were already here; "
                 f"{sum(r.skipped for r in results)} malformed entries skipped."]
        if any(r.truncated for r in results):
            lines.append("The file is cut off: everything before the cut was imported.")
        if any("cancelled" in r.problems for r in results):
            lines.append("Stopped: what was read so far is kept (importing again continues).")
        self.label.setText("Done.")
        self.summary.setText("\n".join(lines))
        self._close_button()

    def show_error(self, error: BaseException) -> None:
        self.finished_import = True
        self.label.setText("The import stopped.")
        self.summary.setText(describe(error))
        self._close_button()

    def _close_button(self) -> None:
        self.buttons.setStandardButtons(QDialogButtonBox.StandardButton.Close)

    def _cancel_or_close(self) -> None:
        if self.finished_import:
            self.accept()
        else:
            self.cancel_event.set()
            self.label.setText("Stopping…")


class HistoryPage(QWidget):
    resumeRequested = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("history_page")
        col = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setObjectName("history_search")
        self.search.setPlaceholderText("Search all conversations…")
        self.search.setClearButtonEnabled(True)
        top.addWidget(self.search, 1)
        self.tag_filter = QComboBox()
        self.tag_filter.setObjectName("history_tag_filter")
        self.tag_filter.setAccessibleName("Show conversations with tag")
        self.tag_filter.addItem("All tags", None)
        self.source_filter = QComboBox()
        self.source_filter.setObjectName("history_source_filter")
        self.source_filter.setAccessibleName("Show conversations from")
        for label, value in SOURCES:
            self.source_filter.addItem(label, value)
        top.addWidget(self.tag_filter)
        top.addWidget(self.source_filter)
        self.import_button = QPushButton("Import…")
        self.import_button.setObjectName("history_import")
        self.import_button.setToolTip("Add conversations from ChatGPT, Claude, Gemini (Google Takeout) "
                                      "or a SynthBot export")
        top.addWidget(self.import_button)
        self.refresh_button = QPushButton("Refresh")
        top.addWidget(self.refresh_button)
        col.addLayout(top)

        body = QHBoxLayout()
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(["Conversation", "Source", "Tags", "Last message", "Messages", "Match"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_TITLE, QHeaderView.ResizeMode.Stretch)
        for section in (COL_SOURCE, COL_TAGS, COL_WHEN, COL_COUNT):  # "2026-11-23 11:27" on one line
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_MATCH, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(COL_MATCH, True)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        body.addWidget(self.table, 3)
        side = QVBoxLayout()
        self.preview = QTextBrowser()
        self.preview.setObjectName("history_preview")
        self.preview.setOpenLinks(False)  # Good/Bad links rate the reply instead of navigating
        self.preview.anchorClicked.connect(self._anchor)
        side.addWidget(self.preview, 1)
        form = QFormLayout()
        self.tags_edit = QLineEdit()
        self.tags_edit.setObjectName("history_tags")
        self.tags_edit.setPlaceholderText("work, travel, keep")
        self.tags_edit.setToolTip("Comma-separated tags; the tag “keep” protects a conversation from retention")
        self.note_edit = QPlainTextEdit()
        self.note_edit.setObjectName("history_note")
        self.note_edit.setPlaceholderText("A note about this conversation")
        self.note_edit.setFixedHeight(self.note_edit.fontMetrics().lineSpacing() * 4 + 12)
        self.save_meta_button = QPushButton("Save tags and note")
        self.save_meta_button.setObjectName("history_save_meta")
        form.addRow("Tags", self.tags_edit)
        form.addRow("Note", self.note_edit)
        form.addRow("", self.save_meta_button)
        side.addLayout(form)
        body.addLayout(side, 2)
        col.addLayout(body, 1)

        actions = QHBoxLayout()
        self.resume_button = QPushButton("Open and continue")
        self.resume_button.setObjectName("history_resume")
        self.rename_button = QPushButton("Rename…")
        self.rename_button.setObjectName("history_rename")
        self.delete_button = QPushButton("Delete")
        self.delete_button.setObjectName("history_delete")
        self.export_md = QPushButton("Export Markdown…")
        self.export_md.setObjectName("history_export_md")
        self.export_json = QPushButton("Export JSON…")
        self.export_json.setObjectName("history_export_json")
        for b in (self.resume_button, self.rename_button, self.delete_button, self.export_md, self.export_json):
            actions.addWidget(b)
        actions.addStretch(1)
        col.addLayout(actions)

        self.undo_bar = QWidget()
        self.undo_bar.setObjectName("undo_bar")
        ub = QHBoxLayout(self.undo_bar)
        ub.setContentsMargins(0, 0, 0, 0)
        self.undo_label = QLabel("")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("history_undo")
        ub.addWidget(self.undo_label, 1)
        ub.addWidget(self.undo_button)
        self.undo_bar.hide()
        col.addWidget(self.undo_bar)
        self.status = QLabel("")
        self.status.setObjectName("history_status")
        col.addWidget(self.status)

        self.rows: list[dict[str, Any]] = []
        self.rename_dialog: QInputDialog | None = None
        self.import_dialog: ImportDialog | None = None
        self._pending_delete: int | None = None
        self._preview_for: int | None = None
        self._notice: str | None = None
        self._generation = 0
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self.commit_delete)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)  # search as you type, without a query per key
        self._search_timer.timeout.connect(self.refresh)
        self._retention_timer = QTimer(self)  # `history.keep_days` daily while the app runs (#17)
        self._retention_timer.setInterval(RETENTION_CHECK_MS)
        self._retention_timer.timeout.connect(self.apply_retention)
        self._retention_timer.start()
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.tag_filter.activated.connect(lambda _i: self.refresh())
        self.source_filter.activated.connect(lambda _i: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)
        self.import_button.clicked.connect(lambda: self.import_files())
        self.save_meta_button.clicked.connect(lambda: self.save_meta())
        self.table.itemSelectionChanged.connect(self._selected)
        self.table.cellDoubleClicked.connect(lambda _r, _c: self.resume())
        self.resume_button.clicked.connect(self.resume)
        self.rename_button.clicked.connect(self.rename)
        self.delete_button.clicked.connect(self.delete)
        self.undo_button.clicked.connect(self.undo_delete)
        self.export_md.clicked.connect(lambda: self.export("md"))
        self.export_json.clicked.connect(lambda: self.export("json"))
        self._update_buttons()

    # Loading -----------------------------------------------------------------------------------
    def current_filter(self) -> meta.ListFilter:
        return meta.ListFilter(tag=self.tag_filter.currentData(), source=self.source_filter.currentData())

    def refresh(self) -> None:
        query = self.search.text().strip()
        hidden = self._pending_delete
        flt = self.current_filter()
        self._generation += 1
        generation = self._generation

        def read() -> tuple[list[dict[str, Any]], list[str]]:
            with self.ctx.db.session() as s:
                tags = meta.all_tags(s, self.ctx.user_id)
                if not query:
                    return [session_summary(r) for r in meta.list_sessions(s, self.ctx.user_id, flt,
                                                                            limit=500)], tags
                hits = meta.search(s, self.ctx.user_id, query, flt, limit=200)
                seen: dict[int, dict[str, Any]] = {}
                for h in hits:
                    if h.session_id not in seen:
                        info = meta.session_info(s, h.session_id, self.ctx.user_id)
                        if info is not None:
                            seen[h.session_id] = {**session_summary(info), "snippet": h.snippet,
                                                  "snippet_html": highlighted_html(h.snippet, h.highlights)}
                return list(seen.values()), tags

        def show(result: tuple[list[dict[str, Any]], list[str]]) -> None:
            if generation != self._generation:
                return  # an older query (search text or filter changed since): its rows are stale
            rows, tags = result
            keep = self.selected_id()  # the selection when the rows arrive survives the reload
            self._set_tags(tags)
            self.rows = [r for r in rows if r["id"] != hidden]
            self.table.setColumnHidden(COL_MATCH, not query)
            self.table.setRowCount(len(self.rows))
            for i, r in enumerate(self.rows):
                title = QTableWidgetItem(r["title"] or "(untitled)")
                title.setData(Qt.ItemDataRole.UserRole, r["id"])
                if r.get("snippet"):
                    title.setToolTip(r["snippet"])
                when = r["last_message_at"] or r["created_at"]
                self.table.setItem(i, COL_TITLE, title)
                self.table.setItem(i, COL_SOURCE, QTableWidgetItem(SOURCE_NAMES.get(r.get("source") or "", "")))
                self.table.setItem(i, COL_TAGS, QTableWidgetItem(", ".join(r.get("tags") or [])))
                self.table.setItem(i, COL_WHEN, QTableWidgetItem(when.strftime("%Y-%m-%d %H:%M") if when else ""))
                count = QTableWidgetItem(str(r["message_count"]))
                count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, COL_COUNT, count)
                if r.get("snippet_html"):
                    label = QLabel(r["snippet_html"])
                    label.setObjectName("history_snippet")
                    label.setTextFormat(Qt.TextFormat.RichText)
                    label.setToolTip(r["snippet"])
                    self.table.setCellWidget(i, COL_MATCH, label)
            summary = f"{len(self.rows)} conversations" + (f" matching “{query}”" if query else "")
            self.status.setText(self._notice or summary)  # a just-finished action's message stays
            self._notice = None
            if keep is not None:
                self.select_id(keep)
            self._update_buttons()

        run_job(read, show, self._fail)

    def _set_tags(self, tags: list[str]) -> None:
        current = self.tag_filter.currentData()
        self.tag_filter.blockSignals(True)
        self.tag_filter.clear()
        self.tag_filter.addItem("All tags", None)
        for t in tags:
            self.tag_filter.addItem(t, t)
        index = self.tag_filter.findData(current)
        self.tag_filter.setCurrentIndex(max(0, index))
        self.tag_filter.blockSignals(False)

    def selected_id(self) -> int | None:
        items = self.table.selectedItems()
        if not items:
            return None
        item = self.table.item(items[0].row(), 0)
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_id(self, session_id: int) -> None:
        for i in range(self.table.rowCount()):
            item = self.table.item(i, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == session_id:
                self.table.selectRow(i)
                return

    def _row(self, session_id: int) -> dict[str, Any] | None:
        return next((r for r in self.rows if r["id"] == session_id), None)

    def _update_buttons(self) -> None:
        has = self.selected_id() is not None
        for b in (self.resume_button, self.rename_button, self.delete_button, self.export_md, self.export_json,
                  self.save_meta_button, self.tags_edit, self.note_edit):
            b.setEnabled(has)

    def _selected(self) -> None:
        self._update_buttons()
        sid = self.selected_id()
        if sid is None:
            self._preview_for = None
            self.preview.clear()
            self.tags_edit.clear()
            self.note_edit.clear()
            return
        self.load_preview(sid)

    def load_preview(self, sid: int) -> None:
        """Show the conversation (title, source, tags, note, messages with Good/Bad links) and fill the editors."""
        def shown(doc: dict[str, Any]) -> None:
            if self.selected_id() != sid:
                return
            self._preview_for = sid
            self.preview.setHtml(self._preview_html(doc))
            sess = doc["session"]
            self.tags_edit.setText(", ".join(sess.get("tags") or []))
            self.note_edit.setPlainText(sess.get("note") or "")

        run_job(lambda: self._document(sid), shown, self._fail)

    def _preview_html(self, doc: dict[str, Any]) -> str:
        sess = doc["session"]
        esc = html.escape
        parts = [f"<h2>{esc(sess.get('title') or 'Conversation ' + str(sess.get('id')))}</h2>"]
        facts = [SOURCE_NAMES.get(sess.get("source") or "", ""), sess.get("provider") or "", sess.get("model") or ""]
        if sess.get("tags"):
            facts.append("tags: " + ", ".join(sess["tags"]))
        line = " · ".join(esc(f) for f in facts if f)
        if line:
            parts.append(f"<p><i>{line}</i></p>")
        if sess.get("note"):
            parts.append(f"<blockquote>{esc(sess['note'])}</blockquote>")
        names = {"user": "You", "assistant": "SynthBot", "system": "System"}
        for m in doc["messages"]:
            stamp = esc(str(m.get("created_at") or "")[:16].replace("T", " "))
            head = f"<b>{esc(names.get(m['role'], m['role']))}</b> <small>{stamp}</small>"
            if m.get("interrupted"):
                head += " — interrupted"
            if m["role"] == "assistant" and m.get("id"):
                rating = (m.get("rating") or {}).get("rating")
                # Words, not emoji: many desktops have no colour-emoji font (the links became boxes).
                up = "Good" + (" ✓" if rating == 1 else "")
                down = "Bad" + (" ✓" if rating == -1 else "")
                head += (f" &nbsp; <a href='rate:{m['id']}:up'>{up}</a> <a href='rate:{m['id']}:down'>{down}</a>")
                comment = (m.get("rating") or {}).get("comment")
                if comment:
                    head += f" <small>“{esc(comment)}”</small>"
            body = esc(m["content"].strip() or "(empty)").replace("\n", "<br>")
            parts.append(f"<p>{head}<br>{body}</p>")
        return "".join(parts)

    def _document(self, session_id: int) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            return export_document(s, session_id, self.ctx.user_id)

    # Tags, notes, ratings ------------------------------------------------------------------------
    def save_meta(self, tags: str | None = None, note: str | None = None) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        tag_text = self.tags_edit.text() if tags is None else tags
        note_text = self.note_edit.toPlainText() if note is None else note
        wanted = [t for t in re.split(r"[,\s]+", tag_text) if t.strip()]
        try:
            for t in wanted:
                meta.normalise_tag(t)
        except ValueError as exc:
            self.status.setText(str(exc))
            return

        def write() -> list[str]:
            with self.ctx.db.session() as s:
                saved = meta.set_tags(s, sid, wanted)
                meta.set_note(s, sid, note_text)
                return saved

        def saved(tags_now: list[str]) -> None:
            self._notice = "Saved tags and note." + (f" Tags: {', '.join(tags_now)}." if tags_now else "")
            self.status.setText(self._notice)
            self.refresh()
            self.load_preview(sid)

        run_job(write, saved, self._fail)

    def rate_message(self, message_id: int, rating: int, comment: str | None = None) -> None:
        sid = self._preview_for

        def write() -> None:
            with self.ctx.db.session() as s:
                if meta.owned_message(s, message_id, self.ctx.user_id) is None:
                    raise ValueError("that message is gone")
                meta.rate(s, self.ctx.user_id, message_id, rating, comment)

        def done(_: Any) -> None:
            self.status.setText("Thanks: rated " + ("good" if rating == 1 else "bad") + ".")
            if sid is not None and self.selected_id() == sid:
                self.load_preview(sid)

        run_job(write, done, self._fail)

    def _anchor(self, url: QUrl) -> None:
        m = re.fullmatch(r"rate:(\d+):(up|down)", url.toString())
        if m is None:
            return
        comment, ok = QInputDialog.getText(self, "Rate this reply", "Comment (optional):")
        self.rate_message(int(m.group(1)), 1 if m.group(2) == "up" else -1, comment if ok else None)

    # Actions -----------------------------------------------------------------------------------
    def resume(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self.resumeRequested.emit(sid)

    def rename(self, _checked: bool = False, *, title: str | None = None) -> None:
        """Rename the selected conversation; without ``title`` a (non-blocking) dialog asks for it."""
        sid = self.selected_id()
        if sid is None:
            return
        if title is not None:
            self._write_title(sid, title)
            return
        row = self._row(sid)
        dlg = QInputDialog(self)
        dlg.setObjectName("history_rename_dialog")
        dlg.setWindowTitle("Rename conversation")
        dlg.setLabelText("New title:")
        dlg.setTextValue((row or {}).get("title") or "")
        # Wide enough for a long title and the whole window title ("Renam…thBot" at Qt's 200 px).
        # QInputDialog sizes itself from its layout, so the width goes on its line edit.
        width = max(440, dlg.fontMetrics().horizontalAdvance(dlg.textValue()) + 60)
        edit = dlg.findChild(QLineEdit)
        if edit is not None:
            edit.setMinimumWidth(min(width, 900))
        dlg.textValueSelected.connect(lambda text: self._write_title(sid, text))
        self.rename_dialog = dlg
        dlg.open()

    def _write_title(self, sid: int, title: str) -> None:
        title = title.strip()
        if not title:
            self.status.setText("A title cannot be empty.")
            return

        def write() -> None:
            with self.ctx.db.session() as s:
                repo.rename_session(s, sid, title)

        def written(_: Any) -> None:
            self.refresh()
            self.load_preview(sid)  # the preview shows the new title at once

        run_job(write, written, self._fail)

    def delete(self) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        if self._pending_delete is not None:
            self.commit_delete()
        row = self._row(sid)
        self._pending_delete = sid
        self.rows = [r for r in self.rows if r["id"] != sid]
        self.table.removeRow(self.table.currentRow())
        self.undo_label.setText(f"Deleted “{(row or {}).get('title') or 'conversation'}”.")
        self.undo_bar.show()
        self._undo_timer.start(UNDO_MS)

    def undo_delete(self) -> None:
        self._undo_timer.stop()
        self._pending_delete = None
        self.undo_bar.hide()
        self.refresh()

    def commit_delete(self, on_done: Callable[[Any], None] | None = None) -> None:
        """Really delete the conversation waiting in the undo bar."""
        self._undo_timer.stop()
        sid, self._pending_delete = self._pending_delete, None
        self.undo_bar.hide()
        if sid is None:
            return

        def remove() -> bool:
            with self.ctx.db.session() as s:
                ok = repo.delete_session(s, sid)
                repo.add_audit(s, "session.delete", user_id=self.ctx.user_id, entity_type="conversation_session",
                               entity_id=str(sid))
                return ok

        def removed(ok: bool) -> None:
            self.status.setText("Conversation deleted." if ok else "It was already gone.")
            if on_done:
                on_done(ok)

        run_job(remove, removed, self._fail)

    def default_export_path(self, fmt: str) -> Path:
        """<Documents>/<title>.<fmt>: where the Export dialog starts (not the working directory)."""
        sid = self.selected_id() or 0
        row = self._row(sid) or {}
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        return Path(docs) / export_file_name(row.get("title"), sid, fmt)

    def export(self, fmt: str, path: Path | None = None) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        if path is None:
            suffix = "Markdown (*.md)" if fmt == "md" else "JSON (*.json)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export conversation", str(self.default_export_path(fmt)),
                                                    suffix)
            if not chosen:
                return
            path = Path(chosen)
        target = path

        def write() -> int:
            doc = self._document(sid)
            text = to_markdown(doc) if fmt == "md" else json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
            target.write_text(text, encoding="utf-8")
            return len(doc["messages"])

        run_job(write, lambda n: self.status.setText(f"Exported {n} messages to {target}."), self._fail)

    # Import and retention -------------------------------------------------------------------------
    def import_files(self, path: Path | None = None, fmt: str | None = None) -> ImportDialog | None:
        """Import an export file or folder on the pool, with a progress dialog and a summary."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self, "Import conversations",
                QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DownloadLocation),
                "Conversation exports (*.json);;All files (*)")
            if not chosen:
                return None
            path = Path(chosen)
        dlg = ImportDialog(self)
        self.import_dialog = dlg
        source = path
        cancel = dlg.cancel_event

        def work(report: Callable[[Any], None]) -> list[ImportProgress]:
            results = []
            for f in files_in(source):
                # A copy per report: the worker keeps counting while the GUI thread reads it.
                results.append(import_file(self.ctx.db, self.ctx.user_id, f, fmt,
                                           on_progress=lambda p: report(dataclasses.replace(p)),
                                           cancelled=cancel.is_set))
                if cancel.is_set():
                    break
            return results

        def done(results: list[ImportProgress]) -> None:
            dlg.show_done(results)
            self._notice = dlg.summary.text().splitlines()[0] if dlg.summary.text() else None
            self.refresh()

        run_job(work, done, dlg.show_error, on_progress=dlg.show_progress)
        dlg.open()
        return dlg

    def apply_retention(self) -> None:
        """`history.keep_days` while the app runs (it also applies at start)."""
        run_job(lambda: apply_from_settings(self.ctx),
                lambda gone: self.refresh() if gone else None, self._fail)

    def _fail(self, error: BaseException) -> None:
        self.status.setText(describe(error))

    def hideEvent(self, event: Any) -> None:
        if self._pending_delete is not None:
            self.commit_delete()
        super().hideEvent(event)
