"""The admin's use cases (issue #18), for `synthbot-desktop admin ...` and the admin settings page.

Reads here cross all users; whether this account may do that is :func:`can_read_all_users`.
Flag changes are audited (``audit_logs``) and drop this process's cached flags at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from synthbot_desktop.config import FEATURE_FLAGS
from synthbot_desktop.services import features

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext
    from synthbot_desktop.storage.admin import UsageRow
    from synthbot_desktop.storage.db import Database
    from synthbot_desktop.storage.error_log import ErrorEntry


@contextmanager
def database(ctx: AppContext, url: str | None = None) -> Iterator[Database]:
    """The configured database (schema ensured), or ``url``'s, refused when its schema is not ours."""
    if not url:
        yield ctx.db
        return
    from synthbot_desktop.storage import migrate

    db = ctx.open_database(url)
    try:
        migrate.ensure_schema(db.engine, allow_upgrade=False)
        yield db
    finally:
        db.dispose()


def can_read_all_users(ctx: AppContext) -> bool:
    """May this account read everyone's rows? Decides whether the admin page is shown.

    A SQLite file belongs to its user. On MySQL the desktop clients' account (`admin grants`) has
    no rights on the reporting views, which read across users; an account that can read them is
    an admin's. Any other failure (server away) raises, so the caller can say why.
    """
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    db = ctx.db
    if db.is_sqlite:
        return True
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT user_id FROM v_active_user_sessions LIMIT 1")).all()
    except DBAPIError as exc:
        code = exc.orig.args[0] if exc.orig is not None and exc.orig.args else None
        if code in (1142, 1143, 1044):  # SELECT command denied (table / column / database)
            return False
        raise
    return True


def usage(ctx: AppContext, by: Sequence[str] = ("user", "provider"), since: dt.datetime | None = None,
          url: str | None = None) -> list[UsageRow]:
    from synthbot_desktop.storage import admin

    with database(ctx, url) as db, db.session() as s:
        return admin.usage_report(s, list(by), since)


@dataclass(frozen=True)
class FlagView:
    """One known flag for the admin: what the database says and what applies on this desktop."""

    name: str
    description: str
    everyone: bool | None  # None: no database decision (settings/policy apply)
    users: dict[str, bool] = field(default_factory=dict)
    here: bool = True  # effective for this desktop's user (policy locks included)
    locked_here: bool = False  # this machine's policy decides it, whatever the database says


def flags(ctx: AppContext, url: str | None = None) -> list[FlagView]:
    """Every known flag (and any unknown ones found in the database, e.g. from a newer app)."""
    from synthbot_desktop.storage import feature_flags as store

    with database(ctx, url) as db, db.session() as s:
        rows = {f.name: f for f in store.list_flags(s)}
    if not url:
        features.invalidate(ctx)
    here = features.snapshot(ctx)
    out = []
    for name in sorted(set(FEATURE_FLAGS) | set(rows)):
        row = rows.get(name)
        out.append(FlagView(name, FEATURE_FLAGS.get(name, row.description if row else "") or "",
                            row.enabled if row else None, dict(row.users) if row else {},
                            here.get(name, True), features.locked_here(ctx, name) if name in FEATURE_FLAGS else False))
    return out


def own_flags(ctx: AppContext) -> list[FlagView]:
    """The flags as a desktop user (not an admin) may see them, read-only: the decision for
    everyone and only their own override, never other users' names."""
    me = ctx.settings.user_name
    return [FlagView(f.name, f.description, f.everyone, {me: f.users[me]} if me in f.users else {}, f.here,
                     f.locked_here) for f in flags(ctx)]


def user_names(ctx: AppContext) -> list[str]:
    """Every user on the database, for the admin page's per-user override picker."""
    from synthbot_desktop.storage import feature_flags as store

    with ctx.db.session() as s:
        return store.user_names(s)


def set_flag(ctx: AppContext, name: str, on: bool, users: Sequence[str] = (), url: str | None = None) -> None:
    """Turn ``name`` on/off for everyone, or only for ``users``."""
    from synthbot_desktop.storage import feature_flags as store
    from synthbot_desktop.storage import repositories as repo

    features.check_name(name)
    with database(ctx, url) as db, db.session() as s:
        if users:
            store.set_user_access(s, name, users, on, default_for_everyone=bool(ctx.settings.get(f"flags.{name}")))
        else:
            store.set_flag(s, name, on, FEATURE_FLAGS[name])
        repo.add_audit(s, "flag.set", entity_type="feature_flag", entity_id=name,
                       details={"enabled": on, "users": list(users), "by": ctx.settings.user_name})
    features.invalidate(ctx)


def clear_flag(ctx: AppContext, name: str, users: Sequence[str] = (), url: str | None = None) -> int:
    from synthbot_desktop.storage import feature_flags as store
    from synthbot_desktop.storage import repositories as repo

    with database(ctx, url) as db, db.session() as s:
        count = store.clear(s, name, users)
        repo.add_audit(s, "flag.clear", entity_type="feature_flag", entity_id=name,
                       details={"users": list(users), "by": ctx.settings.user_name})
    features.invalidate(ctx)
    return count


def errors(ctx: AppContext, *, since: dt.datetime | None = None, user: str | None = None, limit: int = 200,
           url: str | None = None) -> list[ErrorEntry]:
    from synthbot_desktop.storage import error_log

    with database(ctx, url) as db, db.session() as s:
        return error_log.list_errors(s, since=since, username=user, limit=limit)
