"""Migrations upgrade an empty database on SQLite and on PostgreSQL, and match the models."""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from controlroom.db.models import Base
from controlroom.db.session import alembic_config, make_engine, upgrade
from tests.support import PostgresDatabase

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("CONTROLROOM_TEST_DATABASE_URL") else [])


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    database = PostgresDatabase(os.environ["CONTROLROOM_TEST_DATABASE_URL"])
    yield database.create()
    database.drop()


def test_upgrade_from_empty_creates_the_schema_the_models_describe(empty_database):
    upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        assert {"rooms", "shows", "alembic_version"} <= set(inspect(connection).get_table_names())
        # No model change is missing a migration.
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_downgrade_to_empty_and_back_up(empty_database):
    upgrade(empty_database)
    command.downgrade(alembic_config(empty_database), "base")
    engine = make_engine(empty_database)
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(empty_database)
