"""Alembic environment: the engine is handed in by synthbot_desktop.storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from synthbot_desktop.storage.db import long_statements
from synthbot_desktop.storage.models import Base, include_in_autogenerate

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` CLI use: sqlalchemy.url from alembic.ini
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    # a long ALTER on a big shared table must not be cut off at the 5 s bound a turn may wait
    with engine.connect() as connection, long_statements(connection):
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            include_object=include_in_autogenerate,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `synthbot-desktop db upgrade`")
run_migrations_online()
