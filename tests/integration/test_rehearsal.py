"""A rehearsal (彩排) is planned like a show, marked on the screens, and its minutes are
kept out of the room's baseline of earlier shows."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from controlroom.alerts.engine import AlertEngine, _Context
from controlroom.alerts.service import RoomContext
from controlroom.bus.client import Bus, connect
from controlroom.clock import SystemClock
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.live.projections import Projections
from controlroom.metrics.models import RoomMinute
from controlroom.rooms.models import Room
from controlroom.settings import Settings
from controlroom.shows.schedule import add_show
from tests.support import create_user, csrf_of, login


def test_a_rehearsal_is_marked_and_kept_out_of_the_room_baseline(server, room, database_url, redis_url):
    client = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    made = client.post(f"/rooms/{room}/shows", data={
        "csrftoken": csrf_of(client), "title": "彩排：周末专场", "planned_start": "2030-01-01T20:00", "rehearsal": "on",
    }, follow_redirects=False)
    assert made.status_code == 303
    assert "彩排" in client.get(f"/rooms/{room}").text

    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        room_row = session.scalar(select(Room).where(Room.slug == room))
        real = add_show(session, room=room_row, title="正式场", planned_start=now - timedelta(days=2))
        real.run = {"started_at": int((now - timedelta(days=2)).timestamp() * 1000),
                    "ended_at": int((now - timedelta(days=2) + timedelta(minutes=10)).timestamp() * 1000)}
        drill = add_show(session, room=room_row, title="彩排", planned_start=now - timedelta(days=1))
        drill.rehearsal = True
        drill.run = {"started_at": int((now - timedelta(days=1)).timestamp() * 1000),
                     "ended_at": int((now - timedelta(days=1) + timedelta(minutes=10)).timestamp() * 1000)}
        for show_start, online in ((real.planned_start, 1000), (drill.planned_start, 50_000)):
            for minute in range(10):
                session.add(RoomMinute(room_id=room_row.id, minute_at=show_start + timedelta(minutes=minute),
                                       online=online, comments=5, likes=0, gmv_cents=0, enters=0, orders_paid=0,
                                       follows=0))
        room_id = room_row.id
    bus = Bus.from_settings(connect(redis_url), Settings(mode="dev"))
    alert_engine = AlertEngine(Projections(bus, sessions, SystemClock()), clock=SystemClock(), rooms=lambda: [])
    context = _Context(room=RoomContext(room_id=room_id, slug=room, show_id=None, red_escalation_s=30), rules=[],
                       live_show=True, show_started_ms=int(time.time() * 1000), read_at=0)
    baselines = asyncio.run(alert_engine._room_baselines(context))
    engine.dispose()
    assert baselines["online"].points == 10 and baselines["online"].mean == 1000  # the rehearsal is not history
