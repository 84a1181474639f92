"""Engine, sessions and migrations. SQL is never on the ingest hot path."""

from __future__ import annotations

import asyncio
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from controlroom.db.health import refuse_while_away
from controlroom.db.watchdog import guard
from controlroom.paths import ALEMBIC_DIR

if TYPE_CHECKING:
    from controlroom.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class Timeouts:
    """How long SQL may keep a caller waiting. Unbounded waits hung every SQL route for
    as long as a blackholed PostgreSQL stayed away; with these they fail (503) instead."""

    connect_s: int = 3
    statement_s: float = 5.0
    pool_s: float = 3.0
    sqlite_busy_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: "Settings") -> "Timeouts":
        return cls(connect_s=settings.database_connect_timeout_s, statement_s=settings.database_statement_timeout_s,
                   pool_s=settings.database_pool_timeout_s, sqlite_busy_s=settings.sqlite_busy_timeout_s)


def make_engine(url: str, timeouts: Timeouts = Timeouts(), **options) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": timeouts.sqlite_busy_s}, **options
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    statement_ms = int(timeouts.statement_s * 1000)
    connect_args = {}
    if url.startswith("postgresql"):
        connect_args = {
            # libpq: give up connecting after this (it takes at least 2 s).
            "connect_timeout": max(2, timeouts.connect_s),
            # The server cancels a statement running longer than this...
            "options": f"-c statement_timeout={statement_ms}",
            # ...and the kernel drops a connection whose sent data stays unacknowledged
            # this long: a blackholed server cannot answer, so nothing server-side helps.
            "tcp_user_timeout": statement_ms + 1000,
            "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 2,
        }
    if "poolclass" not in options:
        options.setdefault("pool_timeout", timeouts.pool_s)
    engine = create_engine(url, pool_pre_ping=True, connect_args=connect_args, **options)
    if url.startswith("postgresql"):
        # Past the statement timeout a reachable server has cancelled the statement
        # already: still waiting then means it cannot be reached at all.
        guard(engine, limit_s=timeouts.statement_s + 2)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """The caller owns the transaction: services only add and flush. While the process
    knows SQL is away, this fails at once rather than after a connect timeout."""
    refuse_while_away(factory)
    with factory() as session, session.begin():
        yield session


async def run_in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Run `work(session)` in one transaction on a worker thread (SQL never blocks the
    event loop). An exception inside rolls everything back and propagates."""

    def run() -> T:
        with transaction(factory) as session:
            return work(session)

    return await asyncio.to_thread(run)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
