"""The demo room and show that `controlroom demo` starts with."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session

from controlroom.rooms.models import Room
from controlroom.rooms.service import add_show, get_or_create_room

DEMO_ROOM = "demo"
DEMO_ROOM_NAME = "演示直播间 · 好物专场"
DEMO_SHOW_TITLE = "晚间好物专场（演示）"


def seed_demo(session: Session, *, timezone_name: str, now: datetime | None = None) -> Room:
    room = get_or_create_room(session, slug=DEMO_ROOM, name=DEMO_ROOM_NAME, timezone=timezone_name)
    if not room.shows:
        add_show(session, room=room, title=DEMO_SHOW_TITLE, planned_start=now or datetime.now(timezone.utc), status="live")
    return room
