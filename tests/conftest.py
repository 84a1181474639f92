from __future__ import annotations

import os

import pytest

from controlroom.bus.embedded import EmbeddedRedis
import redis

from tests.support import LiveServer, create_room, migrated_database, redis_database, server_env

@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    configured = os.environ.get("CONTROLROOM_TEST_REDIS_URL")
    if configured:
        # A service outlives test runs: start from an empty database (rooms, streams and
        # login counters of an earlier run would leak into this one).
        client = redis.Redis.from_url(configured)
        client.flushdb()
        client.close()
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


# Logical databases 1-15 of the test Redis, lent to one test at a time and emptied
# before each (tests run one after another; each stops its servers before it ends).
_free_dbs = list(range(1, 16))


@pytest.fixture
def own_redis_url(redis_url: str):
    """An empty logical database on the test Redis, for a test that runs its own
    workers or servers: the session server (database 0) never sees its rooms."""
    if not _free_dbs:
        pytest.fail("more than 15 tests at once asked for a Redis database of their own")
    db = _free_dbs.pop(0)
    url = redis_database(redis_url, db)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    try:
        yield url
    finally:
        _free_dbs.append(db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory):
    with migrated_database(tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def server(redis_url: str, database_url: str, tmp_path_factory: pytest.TempPathFactory):
    """One controlroom (web + worker) shared by the tests that only need a room of their own."""
    data_dir = tmp_path_factory.mktemp("server")
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=data_dir,
                     CONTROLROOM_METRICS_TOKEN="test-metrics-token", CONTROLROOM_AUTH_RECHECK_S="0.5")
    live = LiveServer(env, data_dir / "log")
    live.start()
    yield live
    live.terminate()


@pytest.fixture
def room(database_url: str, redis_url: str) -> str:
    return create_room(database_url, redis_url)
