from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from controlroom.db.models import Base
from controlroom.db.session import Timeouts, make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from controlroom.settings import Settings

    return Settings(mode="dev").sqlalchemy_url


MIGRATION_TIMEOUTS = Timeouts(statement_s=3600)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # A migration may rewrite a large table: no statement timeout worth the name.
    engine = make_engine(_url(), MIGRATION_TIMEOUTS, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Batch mode lets ALTER TABLE migrations run on SQLite too.
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
