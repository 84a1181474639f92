"""Which show screens and rules follow, for many rooms in one query: the live show; else
the latest that has started; else the soonest planned — the same answer `current_show`
gives one room at a time (the alert engine asks for all its rooms at once)."""

from __future__ import annotations

from datetime import timedelta

from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.service import get_or_create_room
from controlroom.shows.schedule import add_show, current_show, current_shows
from tests.support import unique


def test_each_room_gets_its_live_else_latest_started_else_next_planned_show(database_url):
    now = utcnow()
    hours = lambda n: now + timedelta(hours=n)  # noqa: E731
    plans = {
        # live wins over a later start and over an earlier ended show
        "live": [("昨天", -24, "ended"), ("直播中", -2, "live"), ("已开始未开播", -1, "scheduled"), ("明天", 24, "scheduled")],
        # no live show: the latest that has started, not tomorrow's
        "started": [("早场", -3, "ended"), ("午场", -1, "ended"), ("明天", 24, "scheduled")],
        # nothing started yet: the soonest planned
        "planned": [("后天", 48, "scheduled"), ("明天", 24, "scheduled")],
        "empty": [],
    }
    wanted = {"live": "直播中", "started": "午场", "planned": "明天"}
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    slugs = {case: unique(f"current-{case}") for case in plans}
    with transaction(sessions) as session:
        for case, shows in plans.items():
            room = get_or_create_room(session, slug=slugs[case], name=case, timezone="Asia/Shanghai")
            for title, offset, status in shows:
                add_show(session, room=room, title=title, planned_start=hours(offset), status=status)
        # Two shows planned for the same minute: the later made is the one that started.
        twin = get_or_create_room(session, slug=(twin_slug := unique("current-twin")), name="twin",
                                  timezone="Asia/Shanghai")
        add_show(session, room=twin, title="第一场", planned_start=hours(-1))
        add_show(session, room=twin, title="第二场", planned_start=hours(-1))
    wanted["twin"] = "第二场"
    slugs["twin"] = twin_slug
    with transaction(sessions) as session:
        together = current_shows(session, slugs.values(), now)
        titles = {case: together[slug].title for case, slug in slugs.items() if slug in together}
        one_by_one = {case: show.title for case, slug in slugs.items() if (show := current_show(session, slug, now))}
    engine.dispose()
    assert titles == wanted
    assert one_by_one == wanted
