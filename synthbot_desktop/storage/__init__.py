"""Persistence: models, engine/URL handling, migrations, repositories, offline spool."""
