"""Scenarios run the whole processing role (controlroom/sim/pipeline.py) against a real
Redis and a real migrated database, one pipeline at a time.

A pipeline's worker takes every room of its Redis database, so a scenario must not
share a database with the session's server (database 0) or another test's workers.
`own_redis_url` gives a database per test, but there are only 15 and the rest of the
suite uses most of them: the scenarios share one database of their own, emptied before
each scenario (rooms are unique per scenario anyway; emptying keeps one scenario's
leftovers — worker heartbeats, lexicon projections — from ever reaching the next).
"""

from __future__ import annotations

import pytest
import redis

from tests import conftest as root
from tests.support import redis_database


@pytest.fixture(scope="package")
def scenario_redis_db(redis_url: str):
    # Borrowed from the databases own_redis_url lends, for the whole package.
    if not root._free_dbs:
        pytest.fail("no Redis database left for the scenarios")
    number = root._free_dbs.pop(0)
    try:
        yield redis_database(redis_url, number)
    finally:
        root._free_dbs.append(number)


@pytest.fixture
def scenario_redis(scenario_redis_db: str) -> str:
    client = redis.Redis.from_url(scenario_redis_db)
    client.flushdb()
    client.close()
    return scenario_redis_db
