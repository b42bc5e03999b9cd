"""The window's "offline: N records waiting" (issue #14): shown while turns wait in the local
spool, gone once the database has them. Real spool file, real SQLite replay, real Qt offscreen."""

from __future__ import annotations

from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.gui.widgets.offline_indicator import OfflineIndicator, offline_text
from synthbot_desktop.storage.offline import OfflineSpool
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord, SessionSpec, UsageRecord


def test_indicator_counts_the_spool_and_clears_after_replay(app_env: dict[str, str], memory_keyring: object,
                                                            qtbot: Any) -> None:
    ctx = AppContext()
    spool = OfflineSpool(ctx.paths.spool_dir)
    first = MessageRecord(None, "user", "said while offline")
    first.session_uid = first.uid  # a new session is named by its first message
    spool.write_now(WriteUnit(messages=[first, MessageRecord(None, "assistant", "kept", session_uid=first.uid)],
                              session=SessionSpec(first.uid, "ollama", "m")))
    spool.record_now(WriteUnit(usage=[UsageRecord("ollama", session_uid=first.uid)]))
    spool.record_now(WriteUnit(usage=[UsageRecord("elevenlabs", session_uid=first.uid)]))

    widget = OfflineIndicator(ctx.pending_records, interval_ms=50)
    qtbot.addWidget(widget)
    qtbot.waitUntil(lambda: widget.waiting == 3, timeout=10_000)
    assert widget.text() == offline_text(3) == "offline: 3 records waiting"
    assert not widget.isHidden()

    assert ctx.db is not None  # the database answers: opening it replays the spool
    assert ctx.pending_records() == 0
    with ctx.db.session() as s:  # the session was created once, with its messages, and the usage found it
        from sqlalchemy import func, select

        from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession

        assert s.scalar(select(func.count()).select_from(ConversationSession)) == 1
        assert s.scalar(select(func.count()).select_from(ConversationMessage)) == 2
        assert s.scalar(select(func.count()).select_from(ApiUsageLog).where(ApiUsageLog.session_id.is_not(None))) == 2
    qtbot.waitUntil(lambda: widget.isHidden() and widget.waiting == 0, timeout=10_000)
    widget.stop()
    ctx.close()
    assert offline_text(1) == "offline: 1 record waiting"
