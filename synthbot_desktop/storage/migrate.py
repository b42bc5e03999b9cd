"""Alembic, driven from code: the same migrations run on SQLite and MySQL/MariaDB.

The migration scripts live in the top-level ``migrations/`` folder of the source tree; wheels
and frozen builds carry a copy inside the package (``synthbot_desktop/_migrations``).
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from synthbot_desktop.errors import DatabaseError, SchemaOutdatedError
from synthbot_desktop.storage.db import describe_db_error, masked

# Alembic keeps its running environment in module globals (alembic.context), so two
# migrations in one process at once (the GUI's startup job and a CLI-style call) corrupt each
# other. One lock serialises every schema operation in the process.
_MIGRATION_LOCK = threading.RLock()


def migrations_dir() -> Path:
    package_copy = Path(__file__).resolve().parent.parent / "_migrations"
    if (package_copy / "env.py").exists():
        return package_copy
    source_tree = Path(__file__).resolve().parents[2] / "migrations"
    if (source_tree / "env.py").exists():
        return source_tree
    raise DatabaseError("the database migration scripts are missing from this installation",
                        hint="reinstall SynthBot Desktop")


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(migrations_dir()))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except Exception as error:
        raise describe_db_error(error, engine.url) from None


def upgrade(engine: Engine, revision: str = "head") -> None:
    try:
        with _MIGRATION_LOCK:
            command.upgrade(alembic_config(engine), revision)
    except DatabaseError:
        raise
    except Exception as error:
        raise describe_db_error(error, engine.url) from None


def downgrade(engine: Engine, revision: str) -> None:
    try:
        with _MIGRATION_LOCK:
            command.downgrade(alembic_config(engine), revision)
    except Exception as error:
        raise describe_db_error(error, engine.url) from None


def ensure_schema(engine: Engine, *, allow_upgrade: bool) -> str:
    """Bring the schema to head, or refuse with a clear message when that is not ours to do.

    SQLite files belong to this user and are upgraded silently. A shared MySQL server belongs
    to an administrator: upgrading it from one desktop could break older clients, so by
    default the app stops and says which command to run.
    """
    head = head_revision()
    with _MIGRATION_LOCK:
        current = current_revision(engine)
        if current == head:
            return head
        if engine.dialect.name == "sqlite" or allow_upgrade:
            upgrade(engine)
            return head
    script = ScriptDirectory(str(migrations_dir()))
    known = {rev.revision for rev in script.walk_revisions()}
    if current is not None and current not in known:
        raise SchemaOutdatedError(
            f"the database {masked(engine.url)} has schema {current}, newer than this app knows",
            hint="update SynthBot Desktop on this computer",
        )
    state = "empty" if current is None else f"at revision {current}"
    raise SchemaOutdatedError(
        f"the database {masked(engine.url)} is {state}; this app needs revision {head}",
        hint="run `synthbot-desktop db upgrade` (or ask your administrator), "
        "or allow it with database.auto_upgrade_remote = true",
    )
