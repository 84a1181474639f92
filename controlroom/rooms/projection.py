"""SQL is the record of rooms, their ingest keys and show targets; Redis holds the projection that
ingest and workers read without touching SQL. This copies one into the other."""

from __future__ import annotations

import time

from sqlalchemy.orm import Session, sessionmaker

from controlroom.auth.service import active_key_hashes
from controlroom.bus.client import Bus
from controlroom.db.session import run_in_transaction
from controlroom.rooms.service import all_rooms
from controlroom.shows.schedule import current_show


async def publish_rooms(bus: Bus, sessions: sessionmaker[Session], *, only: str | None = None) -> None:
    # Stamped before reading: a slower publisher holding an older snapshot can then
    # never overwrite a newer one (a just-revoked key would come back otherwise).
    as_of_ms = time.time_ns() // 1_000_000

    def read(session: Session):
        rooms = [
            (room.slug, room.name, (show.targets if (show := current_show(session, room.slug)) else {}))
            for room in all_rooms(session)
            if only is None or room.slug == only
        ]
        return rooms, active_key_hashes(session)

    rooms, key_hashes = await run_in_transaction(sessions, read)
    for slug, name, targets in rooms:
        await bus.register_room(slug, name=name)
        await bus.publish_api_keys(slug, key_hashes.get(slug, []), as_of_ms=as_of_ms)
        await bus.publish_targets(slug, targets or {})
