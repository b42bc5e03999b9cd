"""Fleet administration on a shared server: least-privilege GRANTs and the per-user usage report.

Kept apart from the repositories because these read across *all* users (an admin's view), while the
app itself only ever reads the current user's rows.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage.models import ApiUsageLog, Base, User

DIMENSIONS = ("user", "provider", "model", "month")
# Clients read the feature flags but only an admin sets them: a desktop that could write them
# could turn back on what the admin turned off (issue #18).
ADMIN_ONLY_TABLES = frozenset({"feature_flags", "user_feature_access"})
_IDENT = re.compile(r"^[A-Za-z0-9_$.\-]{1,64}$")
_HOST = re.compile(r"^[A-Za-z0-9_.%:\-]{1,255}$")


def app_tables() -> list[str]:
    """The app's own tables, from the models (so a new table is granted without editing a list)."""
    return [table.name for table in Base.metadata.sorted_tables]


def grant_statements(user: str, database: str, host: str = "%") -> list[str]:
    """GRANTs a desktop client needs: row access on the app's tables, read-only on the revision
    and on the feature flags.

    Deliberately no ALTER/CREATE/DROP/INDEX/GRANT OPTION: schema changes are the admin's `db upgrade`.
    The password is never printed: the admin sets it with the IDENTIFIED BY placeholder or ALTER USER.
    """
    for label, value, pattern in (("user", user, _IDENT), ("database", database, _IDENT), ("host", host, _HOST)):
        if not pattern.match(value):
            raise UsageError(f"invalid {label} name: {value!r}")
    account = f"'{user}'@'{host}'"
    lines = [f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY '<password>';"]
    for t in app_tables():
        rights = "SELECT" if t in ADMIN_ONLY_TABLES else "SELECT, INSERT, UPDATE, DELETE"
        lines.append(f"GRANT {rights} ON `{database}`.`{t}` TO {account};")
    lines.append(f"GRANT SELECT ON `{database}`.`alembic_version` TO {account};")
    return lines


@dataclass(frozen=True)
class UsageRow:
    """One group of the usage report; ``key`` holds the chosen dimensions in order."""

    key: tuple[str, ...]
    calls: int
    failures: int
    tokens_in: int
    tokens_out: int
    characters: int
    cost_usd: Decimal | None

    def as_dict(self, by: Sequence[str]) -> dict[str, Any]:
        out: dict[str, Any] = dict(zip(by, self.key, strict=True))
        out.update(calls=self.calls, failures=self.failures, tokens_in=self.tokens_in, tokens_out=self.tokens_out,
                   characters=self.characters, cost_usd=None if self.cost_usd is None else str(self.cost_usd))
        return out


def parse_by(text: str) -> list[str]:
    by = [part.strip() for part in text.split(",") if part.strip()]
    bad = [b for b in by if b not in DIMENSIONS]
    if bad or not by:
        raise UsageError(f"--by takes a comma list of {', '.join(DIMENSIONS)}; got {text!r}")
    return by


def _month(session: Session) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", ApiUsageLog.created_at)
    return func.date_format(ApiUsageLog.created_at, "%Y-%m")


def usage_report(session: Session, by: Sequence[str], since: dt.datetime | None = None) -> list[UsageRow]:
    """Usage over all users, grouped in SQL (a fleet has millions of rows)."""
    dims: dict[str, Any] = {
        "user": func.coalesce(User.username, "(deleted user)"),
        "provider": ApiUsageLog.provider,
        "model": func.coalesce(ApiUsageLog.model, ""),
        "month": _month(session),
    }
    cols = [dims[b].label(b) for b in by]
    failed = func.sum(case((ApiUsageLog.success.is_(False), 1), else_=0))
    stmt = (
        select(*cols, func.count(ApiUsageLog.id), failed,
               func.coalesce(func.sum(ApiUsageLog.tokens_in), 0), func.coalesce(func.sum(ApiUsageLog.tokens_out), 0),
               func.coalesce(func.sum(ApiUsageLog.characters), 0), func.sum(ApiUsageLog.cost_usd))
        .select_from(ApiUsageLog).outerjoin(User, User.id == ApiUsageLog.user_id)
        .group_by(*cols).order_by(*cols)
    )
    if since is not None:
        stmt = stmt.where(ApiUsageLog.created_at >= since)
    rows = []
    for r in session.execute(stmt):
        n = len(by)
        cost = r[n + 5]
        rows.append(UsageRow(tuple(str(v) for v in r[:n]), int(r[n]), int(r[n + 1] or 0), int(r[n + 2]),
                             int(r[n + 3]), int(r[n + 4]), None if cost is None else Decimal(str(cost))))
    return rows
