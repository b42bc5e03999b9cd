"""Alembic environment: the engine is handed in by synthbot_desktop.storage.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from synthbot_desktop.storage.models import Base, include_in_autogenerate

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # plain `alembic` CLI use: sqlalchemy.url from alembic.ini
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with engine.connect() as connection:
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
