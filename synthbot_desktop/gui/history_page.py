"""History: conversations list with full-text search, open/resume, rename, delete with undo, export.

Delete is undoable for a few seconds: the row disappears at once, and the database delete
runs only when the undo bar times out (or the window closes), so nothing is lost by a slip.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
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
from synthbot_desktop.storage import repositories as repo

UNDO_MS = 6000


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
        self.refresh_button = QPushButton("Refresh")
        top.addWidget(self.refresh_button)
        col.addLayout(top)

        body = QHBoxLayout()
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("history_table")
        self.table.setHorizontalHeaderLabels(["Conversation", "Last message", "Messages"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for section in (1, 2):  # "2026-11-23 11:27" on one line, never wrapped or cut
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        body.addWidget(self.table, 3)
        self.preview = QTextBrowser()
        self.preview.setObjectName("history_preview")
        body.addWidget(self.preview, 2)
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
        self._pending_delete: int | None = None
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.timeout.connect(self.commit_delete)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)  # search as you type, without a query per key
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.refresh_button.clicked.connect(self.refresh)
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
    def refresh(self) -> None:
        query = self.search.text().strip()
        hidden = self._pending_delete

        def read() -> list[dict[str, Any]]:
            with self.ctx.db.session() as s:
                if not query:
                    return [session_summary(r) for r in repo.list_sessions(s, self.ctx.user_id, limit=500)]
                hits = repo.search_messages(s, self.ctx.user_id, query, limit=200)
                seen: dict[int, dict[str, Any]] = {}
                for h in hits:
                    if h.session_id not in seen:
                        row = repo.get_session(s, h.session_id, self.ctx.user_id)
                        if row is not None:
                            seen[h.session_id] = {**session_summary(row), "snippet": h.snippet}
                return list(seen.values())

        def show(rows: list[dict[str, Any]]) -> None:
            self.rows = [r for r in rows if r["id"] != hidden]
            self.table.setRowCount(len(self.rows))
            for i, r in enumerate(self.rows):
                title = QTableWidgetItem(r["title"] or "(untitled)")
                title.setData(Qt.ItemDataRole.UserRole, r["id"])
                if r.get("snippet"):
                    title.setToolTip(r["snippet"])
                when = r["last_message_at"] or r["created_at"]
                self.table.setItem(i, 0, title)
                self.table.setItem(i, 1, QTableWidgetItem(when.strftime("%Y-%m-%d %H:%M") if when else ""))
                count = QTableWidgetItem(str(r["message_count"]))
                count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, 2, count)
            self.status.setText(f"{len(self.rows)} conversations" + (f" matching “{query}”" if query else ""))
            self._update_buttons()

        run_job(read, show, self._fail)

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

    def _update_buttons(self) -> None:
        has = self.selected_id() is not None
        for b in (self.resume_button, self.rename_button, self.delete_button, self.export_md, self.export_json):
            b.setEnabled(has)

    def _selected(self) -> None:
        self._update_buttons()
        sid = self.selected_id()
        if sid is None:
            self.preview.clear()
            return
        run_job(lambda: self._document(sid), lambda doc: self.preview.setMarkdown(to_markdown(doc)), self._fail)

    def _document(self, session_id: int) -> dict[str, Any]:
        with self.ctx.db.session() as s:
            return export_document(s, session_id, self.ctx.user_id)

    # Actions -----------------------------------------------------------------------------------
    def resume(self) -> None:
        sid = self.selected_id()
        if sid is not None:
            self.resumeRequested.emit(sid)

    def rename(self, _checked: bool = False, *, title: str | None = None) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        if title is None:
            current = self.table.item(self.table.currentRow(), 0)
            title, ok = QInputDialog.getText(self, "Rename conversation", "Title:",
                                             text=current.text() if current else "")
            if not ok:
                return
        title = title.strip()
        if not title:
            self.status.setText("A title cannot be empty.")
            return

        def write() -> None:
            with self.ctx.db.session() as s:
                repo.rename_session(s, sid, title)

        run_job(write, lambda _: self.refresh(), self._fail)

    def delete(self) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        if self._pending_delete is not None:
            self.commit_delete()
        row = next((r for r in self.rows if r["id"] == sid), None)
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

    def export(self, fmt: str, path: Path | None = None) -> None:
        sid = self.selected_id()
        if sid is None:
            return
        if path is None:
            suffix = "Markdown (*.md)" if fmt == "md" else "JSON (*.json)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export conversation", f"conversation-{sid}.{fmt}", suffix)
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

    def _fail(self, error: BaseException) -> None:
        self.status.setText(describe(error))

    def hideEvent(self, event: Any) -> None:
        if self._pending_delete is not None:
            self.commit_delete()
        super().hideEvent(event)
