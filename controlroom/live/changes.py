"""A room-level change as people make it: SQL and its audit row in one transaction, then
the projections it touched published to every screen of the room."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Iterable

from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.db.session import run_in_transaction
from controlroom.live.projections import Projections
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug

if TYPE_CHECKING:
    from controlroom.auth.service import Principal


async def audited_room_change(
    projections: Projections, principal: "Principal", *, room: str, action: str,
    change: Callable[[Session, Room], dict[str, Any]], client_ip: str, now: datetime, publishes: Iterable[str] = (),
) -> dict[str, Any]:
    """Run `change` on the room and write its audit row, all or nothing; after the
    commit publish the named projections. A room the principal may not see is a
    LookupError, like one that does not exist. Returns what `change` returned."""

    def work(session: Session) -> dict[str, Any]:
        room_row = room_by_slug(session, room)
        if room_row is None or not principal.can_see_room(room):
            raise LookupError(f"room {room!r} not found")
        detail = change(session, room_row)
        record(session, actor=principal.name, user_id=principal.user_id, action=action, now=now, room=room_row,
               ip=client_ip, detail=detail)
        return detail

    detail = await run_in_transaction(projections.sessions, work)
    if publishes:
        await projections.publish(room, *publishes)
    return detail
