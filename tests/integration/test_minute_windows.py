"""Per-minute distinct people, as the conversion and interaction rules read them: the
minute that just ended is read (a 10-minute window is whole only with it), and a minute
that gets late events (a backlog, a replay, a worker catching up) is counted again."""

from __future__ import annotations

import asyncio
import time

from controlroom.alerts.engine import complete_minutes
from controlroom.bus.client import connect
from controlroom.live.view import count_minute_distinct, read_minute_distinct
from tests.support import comment


def test_the_minute_that_just_ended_is_the_first_complete_one():
    now = 1_796_000_000_000 + 59_999  # the last millisecond of a minute
    current = now - now % 60_000
    assert complete_minutes(now, 10) == [current - i * 60_000 for i in range(1, 11)]
    assert complete_minutes(current, 1) == [current - 60_000]  # the first millisecond of the next


def test_a_minute_that_gets_late_events_is_counted_again(server, room, redis_url):
    minute = (int(time.time() * 1000) // 60_000 - 5) * 60_000  # five minutes ago
    client = connect(redis_url)

    async def counted() -> dict[str, int]:
        known = await read_minute_distinct(client, room)
        if minute not in known:
            known.update(await count_minute_distinct(client, room, [minute]))
        return known[minute]

    def post_and_wait(events, comments_expected: int) -> None:
        assert server.post_events(room, events).status_code == 200
        deadline = time.monotonic() + 10
        while server.state(room)["comments"] < comments_expected:
            assert time.monotonic() < deadline, "never applied"
            time.sleep(0.05)

    async def scenario() -> None:
        post_and_wait([comment(f"on-time-{i}", "在吗", ts=minute + 1_000 * i, user=f"u{i}") for i in range(2)], 2)
        assert (await counted())["interacting"] == 2
        # Kept: read again without new events, it is not counted again.
        assert minute in await read_minute_distinct(client, room)

        # Late: a third person's comment of that minute arrives now.
        post_and_wait([comment("late-0", "还有吗", ts=minute + 30_000, user="u-late")], 3)
        assert minute not in await read_minute_distinct(client, room)
        assert (await counted())["interacting"] == 3
        await client.aclose()

    asyncio.run(scenario())
