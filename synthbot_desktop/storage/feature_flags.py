"""Feature flags in the database (issue #18): a flag for everyone, overridden per user.

``feature_flags`` holds one row per flag an admin decided (``enabled`` for everyone);
``user_feature_access`` holds per-user exceptions. A flag with no row means "no decision": the
app then falls back to the settings/policy (``services.features``). Everything returned is a
plain dataclass, never an ORM row, so callers can cache it and cross threads with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import FeatureFlag, User, UserFeatureAccess
from synthbot_desktop.storage.types import utcnow


@dataclass(frozen=True)
class FlagState:
    """One flag as an admin sees it: the everyone-value and the per-user exceptions."""

    name: str
    enabled: bool
    description: str | None
    updated_at: dt.datetime | None
    users: dict[str, bool] = field(default_factory=dict)  # username -> override


def list_flags(s: Session) -> list[FlagState]:
    """Every flag row with its user overrides, by name (two queries, however many flags)."""
    overrides: dict[int, dict[str, bool]] = {}
    for flag_id, username, enabled in s.execute(
            select(UserFeatureAccess.flag_id, User.username, UserFeatureAccess.enabled)
            .join(User, User.id == UserFeatureAccess.user_id).order_by(User.username)):
        overrides.setdefault(flag_id, {})[username] = bool(enabled)
    return [FlagState(f.name, bool(f.enabled), f.description, f.updated_at, overrides.get(f.id, {}))
            for f in s.scalars(select(FeatureFlag).order_by(FeatureFlag.name))]


def user_names(s: Session) -> list[str]:
    """Every user's name, sorted (whom an admin may give an override)."""
    return list(s.scalars(select(User.username).order_by(User.username)))


def _flag(s: Session, name: str, *, create_enabled: bool | None = None) -> FeatureFlag | None:
    flag = s.scalars(select(FeatureFlag).where(FeatureFlag.name == name)).first()
    if flag is None and create_enabled is not None:
        flag = FeatureFlag(name=name, enabled=create_enabled, updated_at=utcnow())
        s.add(flag)
        s.flush()
    return flag


def set_flag(s: Session, name: str, enabled: bool, description: str | None = None) -> None:
    """Turn ``name`` on or off for everyone (user overrides stay as they are)."""
    flag = _flag(s, name, create_enabled=enabled)
    assert flag is not None
    flag.enabled = enabled
    flag.updated_at = utcnow()
    if description:
        flag.description = description[:500]


def _user_id(s: Session, username: str) -> int:
    """The user's id, creating the row: an admin may decide for a seat before it first starts."""
    user = s.scalars(select(User).where(User.username == username)).first()
    if user is None:
        user = User(username=username)
        s.add(user)
        s.flush()
    return user.id


def set_user_access(s: Session, name: str, usernames: Sequence[str], enabled: bool,
                    *, default_for_everyone: bool = True) -> None:
    """Override ``name`` for these users. A flag without a row gets one that keeps the default for
    everyone else (``default_for_everyone``), so an exception for two users changes nobody else."""
    flag = _flag(s, name, create_enabled=default_for_everyone)
    assert flag is not None
    for username in usernames:
        uid = _user_id(s, username)
        row = s.scalars(select(UserFeatureAccess).where(
            UserFeatureAccess.flag_id == flag.id, UserFeatureAccess.user_id == uid)).first()
        if row is None:
            s.add(UserFeatureAccess(user_id=uid, flag_id=flag.id, enabled=enabled, updated_at=utcnow()))
        else:
            row.enabled = enabled
            row.updated_at = utcnow()


def clear(s: Session, name: str, usernames: Sequence[str] = ()) -> int:
    """Forget the admin's decision: for these users only, or (no users) the flag and all its overrides.
    Returns how many rows went."""
    flag = _flag(s, name)
    if flag is None:
        return 0
    if usernames:
        ids = select(User.id).where(User.username.in_(list(usernames)))
        result = s.execute(delete(UserFeatureAccess).where(
            UserFeatureAccess.flag_id == flag.id, UserFeatureAccess.user_id.in_(ids)))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Explicit delete of the overrides: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
    result = s.execute(delete(UserFeatureAccess).where(UserFeatureAccess.flag_id == flag.id))
    s.delete(flag)
    return int(result.rowcount or 0) + 1  # type: ignore[attr-defined]


def effective_for_user(s: Session, username: str) -> dict[str, bool]:
    """Every decided flag's value for ``username``: their override, else the everyone-value."""
    values = {name: bool(enabled) for name, enabled in s.execute(select(FeatureFlag.name, FeatureFlag.enabled))}
    for name, enabled in s.execute(
            select(FeatureFlag.name, UserFeatureAccess.enabled)
            .join(UserFeatureAccess, UserFeatureAccess.flag_id == FeatureFlag.id)
            .join(User, User.id == UserFeatureAccess.user_id).where(User.username == username)):
        values[name] = bool(enabled)
    return values
