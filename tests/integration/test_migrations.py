"""Migrations run identically on SQLite and MariaDB: upgrade -> downgrade -> upgrade, schema == models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from synthbot_desktop.errors import SchemaOutdatedError
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import make_engine
from synthbot_desktop.storage.models import Base, include_in_autogenerate


def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    names = inspect(engine).get_table_names()
    return {t for t in names if t != "alembic_version" and not t.startswith("conversation_messages_fts")}


def test_upgrade_downgrade_upgrade(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == migrate.head_revision()
        assert _tables(engine) == set(Base.metadata.tables)
        with engine.connect() as conn:
            opts = {"compare_type": False, "include_object": include_in_autogenerate}
            diff = compare_metadata(MigrationContext.configure(conn, opts=opts), Base.metadata)
        assert diff == [], f"migrations and models disagree: {diff}"
        migrate.downgrade(engine, "base")
        assert migrate.current_revision(engine) is None
        assert _tables(engine) == set()
        migrate.upgrade(engine)
        assert _tables(engine) == set(Base.metadata.tables)
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_mysql_tables_are_utf8mb4_innodb(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT table_name, engine, table_collation FROM information_schema.tables "
                "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")).all()
        assert rows and all(r[1] == "InnoDB" and r[2].startswith("utf8mb4") for r in rows), rows
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_remote_schema_is_not_upgraded_behind_the_admins_back(mysql_url: str) -> None:
    engine = make_engine(mysql_url)
    try:
        with pytest.raises(SchemaOutdatedError, match="is empty; this app needs revision") as err:
            migrate.ensure_schema(engine, allow_upgrade=False)
        assert "synthbot-desktop db upgrade" in err.value.one_line()
        assert migrate.current_revision(engine) is None
        assert migrate.ensure_schema(engine, allow_upgrade=True) == migrate.head_revision()
    finally:
        engine.dispose()


def test_sqlite_is_upgraded_on_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b.sqlite3'}")
    try:
        assert migrate.ensure_schema(engine, allow_upgrade=False) == migrate.head_revision()
    finally:
        engine.dispose()
