"""Per-minute numbers reach SQL, idempotently, for charts and the post-show review."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from sqlalchemy import select

from controlroom.bus.client import connect
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.metrics.archive import archive_minutes
from controlroom.metrics.models import RoomMinute
from controlroom.rooms.models import Room
from tests.support import BASE_TS, comment


def test_minutes_are_archived_to_sql_and_rewritten_in_place(server, room, redis_url, database_url):
    minute = 60_000
    server.post_events(room, [
        {"id": "v0", "type": "viewers", "ts": BASE_TS, "online": 500},
        comment("c0", "一", ts=BASE_TS + 1),
        {"id": "o0", "type": "order", "ts": BASE_TS + 2, "user": {"id": "u"}, "order_id": "o0", "status": "paid",
         "amount_cents": 1990},
        {"id": "v1", "type": "viewers", "ts": BASE_TS + minute, "online": 800},
        comment("c1", "二", ts=BASE_TS + minute + 1),
        comment("c2", "三", ts=BASE_TS + minute + 2),
    ])
    server.wait_for_state(room, lambda s: s["events_applied"] == 6)
    sessions = session_factory(make_engine(database_url))

    async def archive() -> int:
        client = connect(redis_url)
        try:
            return await archive_minutes(client, sessions)
        finally:
            await client.aclose()

    def rows() -> list[tuple]:
        with transaction(sessions) as session:
            return [
                (r.minute_at, r.online, r.comments, r.gmv_cents)
                for r in session.scalars(
                    select(RoomMinute).join(Room, Room.id == RoomMinute.room_id).where(Room.slug == room)
                    .order_by(RoomMinute.minute_at)
                )
            ]

    assert asyncio.run(archive()) >= 2
    first = datetime.fromtimestamp(BASE_TS / 1000, tz=timezone.utc)
    assert rows() == [
        (first, 500, 1, 1990),
        (datetime.fromtimestamp((BASE_TS + minute) / 1000, tz=timezone.utc), 800, 2, 0),
    ]
    server.post_events(room, [comment("c3", "四", ts=BASE_TS + minute + 3)])
    server.wait_for_state(room, lambda s: s["comments"] == 4)
    asyncio.run(archive())
    assert [r[2] for r in rows()] == [1, 3]  # the open minute was rewritten, not duplicated
