"""What ingest checks without SQL: that a room exists (its name, its stream's consumer
group) and the hashes of its valid ingest keys. Revoking a key publishes this."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.auth.models import ApiKey
from controlroom.bus.client import Bus
from controlroom.live.projections import declare
from controlroom.rooms.models import Room


def _room_and_keys(session: Session, room: Room | None, now: datetime) -> dict[str, Any]:
    assert room is not None
    hashes = session.scalars(select(ApiKey.key_hash).where(ApiKey.room_id == room.id, ApiKey.revoked_at.is_(None)))
    return {"name": room.name, "key_hashes": list(hashes)}


async def _write(bus: Bus, room: str | None, data: dict[str, Any], as_of_ms: int) -> None:
    assert room is not None
    await bus.register_room(room, name=data["name"])
    await bus.publish_api_keys(room, data["key_hashes"], as_of_ms=as_of_ms)


ROOM = declare("room", build=_room_and_keys, write=_write)
