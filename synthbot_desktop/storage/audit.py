"""Audit and error rows: who did what (``audit_log``) and what went wrong (``error_logs``), both
redacted before they are written (a secret in a detail never reaches the database)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from synthbot_desktop.redaction import redact, redact_value
from synthbot_desktop.storage.models import AuditLog, ErrorLog
from synthbot_desktop.storage.types import utcnow


def add_audit(s: Session, action: str, *, user_id: int | None = None, entity_type: str | None = None,
              entity_id: str | None = None, details: dict[str, Any] | None = None) -> None:
    s.add(AuditLog(user_id=user_id, action=action, entity_type=entity_type, entity_id=entity_id,
                   details=redact_value(details) if details else None, created_at=utcnow()))


def add_error(s: Session, source: str, message: str, *, kind: str | None = None,
              details: dict[str, Any] | None = None) -> None:
    s.add(ErrorLog(source=source, kind=kind, message=redact(message)[:2000],
                   details=redact_value(details) if details else None, created_at=utcnow()))
