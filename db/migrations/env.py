"""Alembic environment: one migration history for the whole platform database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

# Every table of the platform, through one registry. Migrations sit above every layer (they must
# see the whole schema), so env.py imports the top layer's registry, `assist_api.models`, which
# pulls in gateway.models and kb.models below it; each package lists its own tables once.
from assist_api.models import metadata as target_metadata

config = context.config


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets later ALTERs work on SQLite, which cannot alter most columns.
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
