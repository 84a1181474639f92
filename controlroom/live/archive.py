"""Per-minute numbers from the checkpointed live state into SQL, every few seconds, off
the ingest path. Idempotent (upserts), so any number of web processes may run it."""

from __future__ import annotations

from datetime import datetime, timezone

import redis.asyncio as aioredis
import structlog
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from controlroom.db.session import run_in_transaction
from controlroom.metrics.models import RoomMinute
from controlroom.metrics.state import (
    M_COMMENTS,
    M_ENTERS,
    M_FOLLOWS,
    M_GMV,
    M_LIKES,
    M_ONLINE,
    M_PAID,
)
from controlroom.live.view import read_live_state, read_minute_distinct
from controlroom.rooms.models import Room

log = structlog.get_logger(__name__)

COLUMNS = {
    "online": M_ONLINE, "comments": M_COMMENTS, "likes": M_LIKES, "gmv_cents": M_GMV,
    "enters": M_ENTERS, "orders_paid": M_PAID, "follows": M_FOLLOWS,
}
# Per-minute distinct people, from the hash the alert engine fills (None: not counted).
DISTINCT_COLUMNS = {"viewers_distinct": "viewers", "interacting_distinct": "interacting", "payers_distinct": "payers"}


def _upsert(session: Session, rows: list[dict]) -> None:
    dialect = session.get_bind().dialect.name
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    statement = insert(RoomMinute).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["room_id", "minute_at"],
        set_={name: statement.excluded[name] for name in [*COLUMNS, *DISTINCT_COLUMNS]},
    )
    session.execute(statement)


async def archive_minutes(client: aioredis.Redis, sessions: sessionmaker[Session]) -> int:
    """Write every room's per-minute rows; returns how many rows were written. One
    room that cannot be archived (logged) never keeps the others from it."""
    room_ids = dict(await run_in_transaction(sessions, lambda s: s.execute(select(Room.slug, Room.id)).all()))
    written = 0
    for slug, room_id in room_ids.items():
        try:
            written += await _archive_room(client, sessions, slug, room_id)
        except Exception as exc:  # noqa: BLE001 - the next room and the next round go on
            log.warning("minutes.archive_room_failed", room=slug, error=f"{type(exc).__name__}: {exc}"[:500])
    return written


async def _archive_room(client: aioredis.Redis, sessions: sessionmaker[Session], slug: str, room_id: int) -> int:
    minutes = (await read_live_state(client, slug)).state.minutes
    if not minutes:
        return 0
    distinct = await read_minute_distinct(client, slug)
    rows = [
        {"room_id": room_id, "minute_at": datetime.fromtimestamp(minute / 1000, tz=timezone.utc),
         **{name: row[column] for name, column in COLUMNS.items()},
         **{name: distinct[minute].get(kind) if minute in distinct else None
            for name, kind in DISTINCT_COLUMNS.items()}}
        for minute, row in minutes.items()
    ]
    for start in range(0, len(rows), 500):
        await run_in_transaction(sessions, lambda s, chunk=rows[start:start + 500]: _upsert(s, chunk))
    return len(rows)


def archived_series(session: Session, *, room_slug: str, since: datetime) -> dict[str, list]:
    """The room's archived minutes since `since`, shaped like view.minute_series: what
    the charts show of a show whose early minutes are no longer (or not yet again) in
    the live state, e.g. after Redis lost its data."""
    rows = session.scalars(
        select(RoomMinute).join(Room, Room.id == RoomMinute.room_id)
        .where(Room.slug == room_slug, RoomMinute.minute_at >= since).order_by(RoomMinute.minute_at)
    ).all()
    return {
        "x": [int(row.minute_at.timestamp()) for row in rows],
        "online": [row.online for row in rows],
        "comments": [row.comments for row in rows],
        "likes": [row.likes for row in rows],
        "gmv": [row.gmv_cents / 100 for row in rows],
    }
