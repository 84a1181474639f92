"""Two things every room-level feature does the same way: change SQL with an audit row
in one transaction, and publish a projection that every screen of the room re-renders."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import orjson
import redis.asyncio as aioredis
from fastapi import Request
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.auth.service import Principal, record
from controlroom.bus import keys
from controlroom.db.base import utcnow
from controlroom.db.session import run_in_transaction
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug


async def audited_room_change(
    sessions: sessionmaker[Session], request: Request, principal: Principal, *, room: str, action: str,
    change: Callable[[Session, Room], dict[str, Any]],
) -> None:
    """Run `change` on the room and write its audit row, all or nothing. A room the
    principal may not see is a LookupError, like one that does not exist."""
    now = utcnow()

    def work(session: Session) -> None:
        room_row = room_by_slug(session, room)
        if room_row is None or not principal.can_see_room(room):
            raise LookupError(f"room {room!r} not found")
        detail = change(session, room_row)
        ip = request.client.host if request.client else ""
        record(session, actor=principal.name, user_id=principal.user_id, action=action, now=now, room=room_row,
               ip=ip, detail=detail)

    await run_in_transaction(sessions, work)


async def publish_room_projection(
    client: aioredis.Redis, sessions: sessionmaker[Session], *, room: str, key: str, note: bytes,
    build: Callable[[Session, int, datetime], Any], now: datetime | None = None,
) -> Any:
    """Build the room's projection from SQL, store it at `key` and wake the room's
    screens. None when the room does not exist."""

    def read(session: Session) -> Any:
        room_id = session.scalar(select(Room.id).where(Room.slug == room))
        if room_id is None:
            return None
        return build(session, room_id, now or datetime.now(timezone.utc))

    data = await run_in_transaction(sessions, read)
    if data is None:
        return None
    pipe = client.pipeline(transaction=False)
    pipe.set(key, orjson.dumps(data))
    pipe.publish(keys.updates_channel(room), note)
    await pipe.execute()
    return data
