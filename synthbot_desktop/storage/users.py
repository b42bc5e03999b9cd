"""The user rows: one per login name (``user.name``), created on first use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import User


def get_or_create_user(s: Session, username: str, display_name: str | None = None) -> User:
    user = s.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, display_name=display_name or username)
        s.add(user)
        s.flush()
    return user
