"""Usage totals per (day,) provider and model with cancelled calls apart (issue #21 defect 8).

A speculative LLM request the pipeline cancels (the user kept talking) is logged with
``success = false, error_kind = 'cancelled'``. It is not a failure, and its cost is not
"unknown" in the sense that matters (nothing was billed for a reply nobody asked for), so it is
counted in ``cancelled`` and left out of ``failures`` and ``cost_unknown_calls``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, case, func, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import ApiUsageLog

CANCELLED = "cancelled"


@dataclass(frozen=True)
class UsageSummaryRow:
    day: dt.date | None
    provider: str
    model: str | None
    calls: int
    failures: int  # failed calls, not counting cancelled ones
    tokens_in: int
    tokens_out: int
    characters: int
    audio_seconds: float
    cost_usd: Decimal | None  # None when no call's cost is known
    cost_unknown_calls: int  # completed or failed calls whose cost is unknown (cancelled ones left out)
    cancelled: int = 0


def usage_summary(s: Session, user_id: int | None, *, since: dt.datetime | None = None,
                  until: dt.datetime | None = None, by_day: bool = True) -> list[UsageSummaryRow]:
    """One GROUP BY in the database (SQLite and MySQL alike)."""
    is_cancelled = ApiUsageLog.error_kind == CANCELLED
    failed = case((~ApiUsageLog.success & ((ApiUsageLog.error_kind.is_(None)) | ~is_cancelled), 1), else_=0)
    cancelled = case((~ApiUsageLog.success & is_cancelled, 1), else_=0)
    unknown = case((ApiUsageLog.cost_usd.is_(None) & ~(~ApiUsageLog.success & is_cancelled), 1), else_=0)
    day_col = func.date(ApiUsageLog.created_at).label("day")
    cols: list[Any] = [
        ApiUsageLog.provider, ApiUsageLog.model, func.count(ApiUsageLog.id),
        func.sum(failed).cast(Integer), func.coalesce(func.sum(ApiUsageLog.tokens_in), 0),
        func.coalesce(func.sum(ApiUsageLog.tokens_out), 0), func.coalesce(func.sum(ApiUsageLog.characters), 0),
        func.coalesce(func.sum(ApiUsageLog.audio_seconds), 0.0), func.sum(ApiUsageLog.cost_usd),
        func.sum(unknown).cast(Integer), func.sum(cancelled).cast(Integer),
    ]
    group: list[Any] = [ApiUsageLog.provider, ApiUsageLog.model]
    if by_day:
        cols.insert(0, day_col)
        group.insert(0, day_col)
    stmt = select(*cols)
    if user_id is not None:
        stmt = stmt.where(ApiUsageLog.user_id == user_id)
    if since is not None:
        stmt = stmt.where(ApiUsageLog.created_at >= since)
    if until is not None:
        stmt = stmt.where(ApiUsageLog.created_at < until)
    stmt = stmt.group_by(*group).order_by(*group)
    out: list[UsageSummaryRow] = []
    for row in s.execute(stmt):
        values = list(row)
        day = values.pop(0) if by_day else None
        if isinstance(day, str):  # SQLite returns DATE() as text
            day = dt.date.fromisoformat(day)
        provider, model, calls, fails, t_in, t_out, chars, audio, cost, unk, canc = values
        out.append(UsageSummaryRow(
            day, provider, model, int(calls), int(fails or 0), int(t_in), int(t_out), int(chars), float(audio),
            Decimal(str(cost)) if cost is not None else None, int(unk or 0), int(canc or 0)))
    return out
