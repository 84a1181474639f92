"""The database watch tells "away" from "slow": a ping that takes a while on a busy
machine leaves SQL up (refusing every request then would be an outage of our own
making), a ping that never comes back marks it down, and the first answer brings it back."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import event

from controlroom.bus.client import connect
from controlroom.clock import SystemClock
from controlroom.db.health import PING_DOWN_AFTER_S, DatabaseAway, DatabaseHealth, DatabaseWatch, refuse_while_away
from controlroom.db.session import make_engine, session_factory


@pytest.fixture
def slow_sql(tmp_path):
    """Real SQLite whose next statements each take `delay[0]` seconds."""
    engine = make_engine(f"sqlite:///{tmp_path / 'watch.sqlite3'}")
    delay = [0.0]
    release = threading.Event()

    @event.listens_for(engine, "before_cursor_execute")
    def _slow(*_args):
        if delay[0]:
            release.wait(delay[0])

    yield session_factory(engine), delay, release
    release.set()
    engine.dispose()


def test_a_slow_ping_is_not_an_outage_but_a_hung_one_is(slow_sql, own_redis_url):
    sessions, delay, release = slow_sql

    async def scenario() -> None:
        redis = connect(own_redis_url)
        health = DatabaseHealth(SystemClock())
        watch = DatabaseWatch(sessions, redis, health)
        assert await watch.check() and health.answers == 1

        delay[0] = 2.0  # slower than one check waits (1.5 s), well short of "down"
        for _ in range(3):
            await watch.check()
            assert not health.down, "a slow ping was taken for an outage"
        refuse_while_away(sessions)  # requests still go to SQL

        delay[0] = 60.0  # now it hangs
        started = time.monotonic()
        while not health.down:
            await watch.check()
            assert time.monotonic() - started < PING_DOWN_AFTER_S + 3, "a hung ping never marked SQL down"
        with pytest.raises(DatabaseAway):
            refuse_while_away(sessions)
        assert await redis.exists("cr:health:database")

        delay[0] = 0.0
        release.set()
        deadline = time.monotonic() + 5
        while not await watch.check():
            assert time.monotonic() < deadline, "SQL answered again but stayed down"
        refuse_while_away(sessions)
        assert not await redis.exists("cr:health:database")
        await redis.aclose()

    asyncio.run(scenario())
