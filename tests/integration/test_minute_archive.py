"""Per-minute numbers reach SQL, idempotently, for charts and the post-show review."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import datetime, timedelta, timezone

import orjson

from sqlalchemy import select

from controlroom.bus.client import connect
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.live.archive import archive_minutes
from controlroom.metrics.models import RoomMinute
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
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


def test_the_chart_shows_archived_minutes_the_live_state_no_longer_has(server, room, database_url):
    """Redis lost the show's early minutes (say it restarted empty): the page's charts
    still draw them from SQL, followed by the live minutes."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    sessions = session_factory(make_engine(database_url))
    with transaction(sessions) as session:
        room_row = session.scalar(select(Room).where(Room.slug == room))
        add_show(session, room=room_row, title="归档测试", planned_start=now - timedelta(hours=1), status="live")
        for minutes_ago, online in ((50, 700), (49, 720), (30, 650)):
            session.add(RoomMinute(room_id=room_row.id, minute_at=now - timedelta(minutes=minutes_ago), online=online,
                                   comments=3, likes=0, gmv_cents=0, enters=0, orders_paid=0, follows=0))
        # Before the show: not part of its chart.
        session.add(RoomMinute(room_id=room_row.id, minute_at=now - timedelta(hours=2), online=1, comments=0,
                               likes=0, gmv_cents=0, enters=0, orders_paid=0, follows=0))
    server.post_events(room, [{"id": "live-v", "type": "viewers", "ts": int(now.timestamp() * 1000) + 1, "online": 900}])
    server.wait_for_state(room, lambda s: s["online"] == 900)
    page = server.admin.get(f"/rooms/{room}").text
    series = orjson.loads(html.unescape(re.search(r"data-series='([^']*)'", page).group(1)))
    assert series["online"] == [700, 720, 650, 900]
    assert series["x"][0] == int((now - timedelta(minutes=50)).timestamp())
