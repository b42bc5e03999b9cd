"""Personas: a named system prompt with its own model, temperature and voice.

Kept apart from ``repositories`` because only the settings page and the turn set-up use it.
Exactly one persona per user may be the default; names are unique per user (the table has a
unique constraint, and we check first so the user gets a sentence rather than an IntegrityError).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage.models import Persona


@dataclass(frozen=True)
class PersonaData:
    """What the user edits; detached from SQLAlchemy so the GUI can hold it across threads."""

    name: str
    system_prompt: str
    provider: str | None = None
    model: str | None = None
    temperature: float | None = None
    voice_id: str | None = None
    is_default: bool = False
    id: int | None = None


def _to_data(row: Persona) -> PersonaData:
    return PersonaData(
        name=row.name, system_prompt=row.system_prompt, provider=row.provider, model=row.model,
        temperature=row.temperature, voice_id=row.voice_id, is_default=bool(row.is_default), id=row.id,
    )


def _validate(data: PersonaData) -> None:
    if not data.name.strip():
        raise UsageError("a persona needs a name")
    if len(data.name) > 120:
        raise UsageError("the persona name is longer than 120 characters; shorten it")
    if not data.system_prompt.strip():
        raise UsageError(f"persona {data.name!r} has an empty system prompt; write what the assistant should be")
    if data.temperature is not None and not 0.0 <= data.temperature <= 2.0:
        raise UsageError(f"temperature {data.temperature} is outside 0–2")


def list_personas(s: Session, user_id: int) -> list[PersonaData]:
    """All of a user's personas, default first, then by name."""
    rows = s.scalars(
        select(Persona).where(Persona.user_id == user_id).order_by(Persona.is_default.desc(), Persona.name)
    )
    return [_to_data(r) for r in rows]


def get_persona(s: Session, persona_id: int) -> PersonaData | None:
    row = s.get(Persona, persona_id)
    return _to_data(row) if row is not None else None


def default_persona(s: Session, user_id: int) -> PersonaData | None:
    row = s.scalar(select(Persona).where(Persona.user_id == user_id, Persona.is_default.is_(True)))
    return _to_data(row) if row is not None else None


def save_persona(s: Session, user_id: int, data: PersonaData) -> PersonaData:
    """Insert (``data.id is None``) or update a persona; returns it with its id."""
    _validate(data)
    name = data.name.strip()
    clash = s.scalar(select(Persona.id).where(Persona.user_id == user_id, Persona.name == name))
    if clash is not None and clash != data.id:
        raise UsageError(f"a persona named {name!r} already exists; choose another name")
    if data.id is None:
        row = Persona(user_id=user_id)
        s.add(row)
    else:
        found = s.get(Persona, data.id)
        if found is None or found.user_id != user_id:
            raise UsageError(f"persona {data.id} no longer exists (deleted elsewhere?)")
        row = found
    row.name = name
    row.system_prompt = data.system_prompt
    row.provider = data.provider or None
    row.model = data.model or None
    row.temperature = data.temperature
    row.voice_id = data.voice_id or None
    s.flush()
    if data.is_default:
        set_default_persona(s, user_id, row.id)
    else:
        row.is_default = False
    s.flush()
    return _to_data(row)


def set_default_persona(s: Session, user_id: int, persona_id: int | None) -> None:
    """Make one persona the default (None: no default, the settings' system prompt applies)."""
    s.execute(update(Persona).where(Persona.user_id == user_id).values(is_default=False))
    if persona_id is not None:
        s.execute(update(Persona).where(Persona.user_id == user_id, Persona.id == persona_id)
                  .values(is_default=True))


def delete_persona(s: Session, persona_id: int) -> bool:
    """Delete a persona; sessions that used it keep their messages (FK is SET NULL)."""
    row = s.get(Persona, persona_id)
    if row is None:
        return False
    s.delete(row)
    s.flush()
    return True
