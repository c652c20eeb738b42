"""Alembic environment: one migration history for the whole platform database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

# Every component's tables, so autogenerate sees the whole schema.
import assist_api.assist.templates  # noqa: F401
import assist_api.auth.models  # noqa: F401
import gateway.channels.wechat.models  # noqa: F401
import gateway.conversations.csat  # noqa: F401
import gateway.conversations.models  # noqa: F401
import gateway.conversations.turns  # noqa: F401
import gateway.handoffs.models  # noqa: F401
import kb.models  # noqa: F401
from db.base import Base

config = context.config
target_metadata = Base.metadata


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
