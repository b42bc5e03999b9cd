"""A reply's text rendered as Markdown (code blocks, lists, links, bold) by Qt's own parser.

Why a QTextBrowser and not a QLabel with ``MarkdownText``: a label cannot be told to wrap code
blocks (Qt lays them out as non-breaking ``pre`` lines), so a long code line was cut at the
bubble's edge — the defect 6 of issue #21 that plain text already had fixed. Here the parsed
document is post-processed: code blocks may break, any long token breaks anywhere, and a table
wider than the bubble scrolls horizontally instead of being cut. Links never navigate inside the
bubble; a click (only a click) opens them in the system browser.

The widget has height-for-width like a wrapped label, so the conversation column sizes it to its
text: measured on a clone of the document at the asked width (cached per text and width, because
the layout asks several times per streamed word).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, QUrl
from PySide6.QtGui import QColor, QDesktopServices, QResizeEvent, QTextCursor, QTextDocument, QTextOption
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser, QWidget

#: Schemes a click may open; anything else (javascript:, file:, custom) stays inert.
OPENABLE_SCHEMES = frozenset({"http", "https", "mailto"})
CODE_BACKGROUND = QColor(0, 0, 0, 20)  # a faint shade, readable on light and dark bubbles
#: While a reply streams, it is parsed and laid out at most this often: re-rendering on every
#: delta cost 7 ms each on average for a 3,200-character reply (57 ms at worst), on the GUI thread.
STREAM_RENDER_MS = 50


def _open_url(url: QUrl) -> None:
    QDesktopServices.openUrl(url)


class ReplyText(QTextBrowser):
    """Read-only Markdown view of one reply; ``markdown()`` is the source text as received."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reply_text")
        self._source = ""
        self._heights: dict[int, int] = {}
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render)
        #: What a click on a link calls (the system browser); tests replace it.
        self.open_url: Callable[[QUrl], None] = _open_url
        self.setOpenLinks(False)  # never navigate inside the bubble
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._clicked)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # a wide table: scroll, never cut
        self.setLineWrapMode(QTextBrowser.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)  # a long URL or token breaks
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser#reply_text { background: transparent; border: none; }")
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleName("Reply")
        self.setUndoRedoEnabled(False)  # read-only: no undo history to keep per render

    # Content -------------------------------------------------------------------------------
    def markdown(self) -> str:
        return self._source

    def set_markdown(self, text: str) -> None:
        """Show ``text`` now (a finished reply, a conversation read back)."""
        self._source = text
        self._render_timer.stop()
        self._render()

    def stream_markdown(self, text: str) -> None:
        """The reply so far: the source is current at once, the rendering follows within
        ``STREAM_RENDER_MS`` (one parse for many deltas)."""
        self._source = text
        if not self._render_timer.isActive():
            self._render_timer.start(STREAM_RENDER_MS)

    def rendered(self) -> bool:
        """True when what is drawn is the current source (no streamed rendering pending)."""
        return not self._render_timer.isActive()

    def _render(self) -> None:
        text = self._source
        self._heights.clear()
        doc = self.document()
        doc.setMarkdown(text, QTextDocument.MarkdownFeature.MarkdownDialectGitHub)
        _let_code_wrap(doc)
        self.updateGeometry()

    def links(self) -> list[str]:
        """Every link target in the rendered reply, in order (for tests and accessibility)."""
        found: list[str] = []
        block = self.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fmt = it.fragment().charFormat()
                if fmt.isAnchor() and fmt.anchorHref() and fmt.anchorHref() not in found:
                    found.append(fmt.anchorHref())
                it += 1
            block = block.next()
        return found

    def _clicked(self, url: QUrl) -> None:
        if url.scheme().lower() in OPENABLE_SCHEMES:
            self.open_url(url)

    # Size ----------------------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        cached = self._heights.get(width)
        if cached is not None:
            return cached
        frame = 2 * self.frameWidth()
        own = self.document()
        if own.textWidth() == max(1, width - frame) and self.width() == width:
            # The common ask: the width it has. Its own layout already answers (no clone).
            height = math.ceil(own.size().height()) + frame
            if self.horizontalScrollBar().maximum() > 0:
                height += self.horizontalScrollBar().sizeHint().height()
            self._heights[width] = height
            return height
        doc = self.document().clone()
        doc.setDefaultFont(self.document().defaultFont())
        doc.setDefaultTextOption(self.document().defaultTextOption())
        doc.setDocumentMargin(self.document().documentMargin())
        doc.setTextWidth(max(1, width - frame))
        height = math.ceil(doc.size().height()) + frame
        if math.ceil(doc.idealWidth()) > width - frame:  # something cannot wrap: room for its scroll bar
            height += self.horizontalScrollBar().sizeHint().height()
        doc.deleteLater()
        self._heights[width] = height
        return height

    def sizeHint(self) -> QSize:
        # Laid out already: its own width (answered without re-measuring); else its ideal width.
        width = self.width() if self.isVisible() and self.width() > 60 else \
            max(120, min(640, math.ceil(self.document().idealWidth()) + 2 * self.frameWidth()))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        return QSize(60, self.fontMetrics().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.height() != self.heightForWidth(self.width()):
            self.updateGeometry()  # the width settled: ask the column for the matching height


def _let_code_wrap(doc: QTextDocument) -> None:
    """Code blocks come out of the Markdown importer as non-breaking lines: allow them to wrap
    (at the bubble's width, anywhere in a long line) and give them a faint background."""
    cursor = QTextCursor(doc)
    cursor.beginEditBlock()  # one relayout for all code lines, not one per line
    block = doc.begin()
    while block.isValid():
        fmt = block.blockFormat()
        if fmt.nonBreakableLines():
            fmt.setNonBreakableLines(False)
            fmt.setBackground(CODE_BACKGROUND)
            cursor.setPosition(block.position())
            cursor.setBlockFormat(fmt)
        block = block.next()
    cursor.endEditBlock()


__all__ = ["OPENABLE_SCHEMES", "ReplyText"]
