"""Where a room's feed stands, read as the alert engine reads it: when ingest last
accepted an event (stream ids are arrival times) and how far processing trails it."""

from __future__ import annotations

import asyncio
import time

from controlroom.bus.client import connect
from controlroom.live.view import read_live_state
from tests.support import comment


def _live(redis_url: str, room: str):
    async def read():
        client = connect(redis_url)
        try:
            return await read_live_state(client, room)
        finally:
            await client.aclose()
    return asyncio.run(read())


def test_the_feed_is_where_ingest_last_accepted_and_processing_catches_up(server, room, redis_url):
    assert _live(redis_url, room).arrived_ms is None  # nothing accepted yet: no pulse to judge
    # Stamped an hour ago by the platform: arrival, not event time, is the feed's pulse.
    stamped = int(time.time() * 1000) - 3_600_000
    before = int(time.time() * 1000)
    assert server.post_events(room, [comment("late-1", "在吗", ts=stamped)]).status_code == 200
    after = int(time.time() * 1000)
    deadline = time.monotonic() + 10
    while (live := _live(redis_url, room)).state.comments < 1:
        assert time.monotonic() < deadline, "never applied"
        time.sleep(0.05)
    assert before - 5 <= live.arrived_ms <= after + 5
    assert live.state.last_event_ts == stamped
    assert live.behind_ms == 0


def test_each_source_is_heard_when_it_sends_even_a_repeat(server, room, redis_url):
    before = int(time.time() * 1000)
    first = [{**comment("src-1", "在吗"), "source": "douyin"}, {**comment("src-2", "几号链接"), "source": "doudian"}]
    assert server.post_events(room, first).status_code == 200
    heard = _live(redis_url, room).source_arrivals
    assert set(heard) == {"douyin", "doudian"} and all(ms >= before - 5 for ms in heard.values())
    time.sleep(0.05)
    # A source that resends what was already accepted is still alive; the other one is not heard.
    again = server.post_events(room, [{**comment("src-2", "几号链接"), "source": "doudian"}])
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    later = _live(redis_url, room).source_arrivals
    assert later["doudian"] > heard["doudian"] and later["douyin"] == heard["douyin"]
    # Events without a source count for the whole feed only.
    assert server.post_events(room, [comment("src-3", "没有来源")]).status_code == 200
    assert set(_live(redis_url, room).source_arrivals) == {"douyin", "doudian"}
