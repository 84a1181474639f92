from __future__ import annotations

import os
from pathlib import Path

import pytest

from controlroom.bus.embedded import EmbeddedRedis
import redis

from tests.support import LiveServer, PostgresDatabase, create_room, migrate, redis_database, server_env

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory):
    configured = os.environ.get("CONTROLROOM_TEST_REDIS_URL")
    if configured:
        yield configured
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield server.start()
    server.stop()


_next_db = iter(range(1, 16))


@pytest.fixture
def own_redis_url(redis_url: str) -> str:
    """An empty logical database on the test Redis, for a test that runs its own
    workers or servers: the session server (database 0) never sees its rooms."""
    try:
        url = redis_database(redis_url, next(_next_db))
    except StopIteration:
        pytest.fail("more than 15 tests asked for a Redis database of their own")
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory):
    server_url = os.environ.get("CONTROLROOM_TEST_DATABASE_URL")
    if server_url:
        database = PostgresDatabase(server_url)
        url = database.create()
        migrate(url)
        yield url
        database.drop()
        return
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'controlroom.sqlite3'}"
    migrate(url)
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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (browser tests do not skip)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab. Whatever the test does, the page must not log htmx errors
    (a push for an element the page does not have, a swap that failed) or script errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "htmx:" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    yield page
    context.close()
    # A 401/403 page the test asked for on purpose is logged as a failed resource load.
    assert [p for p in problems if "Failed to load resource" not in p] == []
