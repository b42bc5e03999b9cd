"""Retention (issue #17): conversations older than ``history.keep_days`` are deleted automatically.

Applied when a process first resolves its user (every CLI command and the app's start) and then
daily by the desktop app; ``keep_days = 0`` keeps everything. A conversation tagged ``keep`` is
never deleted, and each automatic deletion leaves an audit row (``session.retention_delete``)
saying how many messages went and under which setting.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from synthbot_desktop.setting_keys import HISTORY_KEEP_DAYS
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage.types import utcnow

log = logging.getLogger(__name__)

DAILY = dt.timedelta(days=1)


def cutoff_for(keep_days: int, now: dt.datetime | None = None) -> dt.datetime:
    """Last activity strictly before this instant is expired (exactly keep_days old is kept)."""
    return (now or utcnow()) - dt.timedelta(days=keep_days)


def apply_retention(db: Any, user_id: int, keep_days: int, *, now: dt.datetime | None = None) -> list[int]:
    """Delete this user's expired conversations (blocking); returns their ids."""
    if keep_days <= 0:
        return []
    with db.session() as s:
        gone = meta.delete_expired(s, user_id, cutoff_for(keep_days, now), keep_days=keep_days)
    if gone:
        log.info("retention: deleted %d conversations older than %d days", len(gone), keep_days)
    return gone


def apply_from_settings(ctx: Any, user_id: int | None = None) -> list[int]:
    """:func:`apply_retention` with the configured ``history.keep_days``; never raises (a failed
    clean-up must not stop the app or a command: it is retried on the next start or day)."""
    try:
        keep_days = ctx.settings.value(HISTORY_KEEP_DAYS)
        if keep_days <= 0:
            return []
        return apply_retention(ctx.db, ctx.user_id if user_id is None else user_id, keep_days)
    except Exception as exc:  # best effort, logged without secrets
        log.warning("retention was not applied: %s", exc)
        return []
