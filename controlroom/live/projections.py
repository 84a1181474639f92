"""Projections: what screens, ingest and workers read from Redis instead of SQL.

SQL is the record. A domain declares each projection once, with `declare(...)`: its
name (which is also where it is stored: `cr:{<room>}:<name>` or `cr:<name>`), how to
build it from SQL, and what a reader gets while it is missing. `Projections.publish(room,
*names)` after a commit, and `republish_all()` on the periodic safety net, write them;
a Redis that restarted empty has every declared projection back after one round, by
construction, since republishing walks the registry rather than a hand-kept list.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

import orjson
import structlog
from redis.asyncio.client import Pipeline
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus import keys
from controlroom.bus.client import Bus
from controlroom.clock import Clock
from controlroom.db.session import run_in_transaction
from controlroom.rooms.models import Room
from controlroom.bus.pubsub import announce

log = structlog.get_logger(__name__)

@dataclass(frozen=True)
class ViewOptions:
    """What a reader needs beyond Redis to present a room (from the settings)."""

    segment_warning_s: int = 60


# build(session, room, now) for a room's projection; build(session, None, now) for one
# shared by every room. None: there is nothing to show (the stored copy is removed).
Build = Callable[[Session, "Room | None", datetime], Any]
# What the screens see of the stored data at a moment (e.g. where the show stands now).
Present = Callable[[Any, int, ViewOptions], Any]
# More writes in the same pipeline as the stored copy.
Extra = Callable[[Pipeline, "str | None", Any], None]
# A projection written some other way than as one JSON value (a set, a hash, a script).
Write = Callable[[Bus, "str | None", Any, int], Awaitable[None]]


@dataclass(frozen=True)
class Projection:
    name: str
    build: Build
    per_room: bool = True
    default: Any = None
    present: Present | None = None
    extra: Extra | None = None
    write: Write | None = None

    def key(self, room: str | None) -> str:
        return keys.projection(room, self.name) if self.per_room else keys.shared_projection(self.name)

    @property
    def stored_as_json(self) -> bool:
        return self.write is None

    def read(self, raw: bytes | None, now_ms: int, options: ViewOptions) -> Any:
        data = orjson.loads(raw) if raw else None
        if self.present is not None:
            return self.present(data, now_ms, options)
        return self.default if data is None else data


REGISTRY: dict[str, Projection] = {}


def declare(
    name: str, *, build: Build, per_room: bool = True, default: Any = None, present: Present | None = None,
    extra: Extra | None = None, write: Write | None = None,
) -> Projection:
    """Register a projection (once per name; a module imported twice re-declares the same)."""
    projection = Projection(name, build, per_room, default, present, extra, write)
    REGISTRY[name] = projection
    return projection


def room_projections() -> list[Projection]:
    return [p for p in REGISTRY.values() if p.per_room]


def shared_projections() -> list[Projection]:
    return [p for p in REGISTRY.values() if not p.per_room]


class Projections:
    """Writes declared projections for a process: routes after their commit, the
    processing role when it moves a show or an alert, the lifespan on its safety net."""

    def __init__(self, bus: Bus, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.bus = bus
        self.sessions = sessions
        self.clock = clock

    async def publish(self, room: str | None, *names: str) -> dict[str, Any]:
        """Build the named projections of `room` (None: shared ones) from SQL, store them
        and wake the room's screens. Returns what was built ({} for an unknown room)."""
        projections = [REGISTRY[name] for name in names]
        if any(p.per_room != (room is not None) for p in projections):
            raise ValueError(f"projections {names} are not all {'per room' if room else 'shared'}")
        # Stamped before reading: a slower publisher holding an older snapshot can then
        # never overwrite a newer one (a just-revoked key would come back otherwise).
        as_of_ms = self.clock.now_ms()
        built = await self._build(room, names, as_of_ms)
        if built:
            await self.store(room, built, as_of_ms=as_of_ms)
        return built

    async def _build(self, room: str | None, names: list[str] | tuple[str, ...], as_of_ms: int) -> dict[str, Any]:
        """The named projections of `room` as SQL has them ({} for an unknown room)."""
        now = datetime.fromtimestamp(as_of_ms / 1000, tz=timezone.utc)

        def read(session: Session) -> dict[str, Any]:
            room_row = None
            if room is not None:
                room_row = session.scalar(select(Room).where(Room.slug == room))
                if room_row is None:
                    return {}
            return {name: REGISTRY[name].build(session, room_row, now) for name in names}

        return await run_in_transaction(self.sessions, read) if names else {}

    async def store(self, room: str | None, built: dict[str, Any], *, as_of_ms: int | None = None) -> None:
        """Store projections already built (by name) and wake the room's screens: for a
        caller that built them in its own transaction, right after its change."""
        projections = [REGISTRY[name] for name in built]
        names = list(built)
        as_of_ms = as_of_ms if as_of_ms is not None else self.clock.now_ms()
        pipe = self.bus.redis.pipeline(transaction=True)
        for p in projections:
            if p.stored_as_json:
                data = built[p.name]
                if data is None:
                    pipe.delete(p.key(room))
                else:
                    pipe.set(p.key(room), orjson.dumps(data))
                if p.extra is not None:
                    p.extra(pipe, room, data)
        await pipe.execute()
        for p in projections:
            if p.write is not None:
                await p.write(self.bus, room, built[p.name], as_of_ms)
        if room is not None:
            await announce(self.bus.redis, room, ",".join(names).encode())

    async def republish_all(self) -> None:
        """Every declared projection of every room, stored and announced: at start-up,
        and at once when Redis has lost its data (restarted empty, flushed), which the
        missing mark set here tells (`redis_lost_data`)."""
        shared = [p.name for p in shared_projections()]
        if shared:
            await self.publish(None, *shared)
        for slug in await self._slugs():
            await self.republish_room(slug)
        await self.bus.redis.set(keys.PUBLISHED, str(self.clock.now_ms()))

    async def redis_lost_data(self) -> bool:
        """True when Redis no longer holds the mark `republish_all` left: everything
        published since it last ran may be gone."""
        return not await self.bus.redis.exists(keys.PUBLISHED)

    async def sweep(self, *, spread_s: float = 0.0) -> list[str]:
        """The safety net for a publish that was missed (Redis away for a moment after a
        commit): every projection is rebuilt from SQL, but stored and announced only
        where it differs from what Redis holds, so a sweep over a hundred quiet rooms
        wakes no screen. The rooms are spread over `spread_s` instead of one burst of
        SQL. Returns the rooms (None: shared) whose projections had to be fixed."""
        fixed = []
        if await self._fix(None, [p.name for p in shared_projections()]):
            fixed.append(None)
        slugs = await self._slugs()
        for slug in slugs:
            if await self._fix(slug, [p.name for p in room_projections()]):
                fixed.append(slug)
            await asyncio.sleep(spread_s / len(slugs))
        return fixed

    async def _fix(self, room: str | None, names: list[str]) -> bool:
        as_of_ms = self.clock.now_ms()
        built = await self._build(room, names, as_of_ms)
        if not built:
            return False
        as_json = [name for name in built if REGISTRY[name].stored_as_json]
        stored = await self.bus.redis.mget([REGISTRY[name].key(room) for name in as_json]) if as_json else []
        stale = [name for name, raw in zip(as_json, stored)
                 if raw != (None if built[name] is None else orjson.dumps(built[name]))]
        # The rest (sets and hashes: rooms, keys, bindings) are rewritten as they are:
        # idempotent, and cheaper than reading them back to compare.
        for name in built:
            if not REGISTRY[name].stored_as_json:
                await REGISTRY[name].write(self.bus, room, built[name], as_of_ms)
        if stale:
            # Built afresh rather than stored as read: a change committed and published
            # while this sweep read must not be overwritten by the older copy.
            log.info("projections.fixed", room=room, projections=sorted(stale))
            await self.publish(room, *stale)
        return bool(stale)

    async def _slugs(self) -> list[str]:
        return await run_in_transaction(self.sessions, lambda s: list(s.scalars(select(Room.slug).order_by(Room.slug))))

    async def republish_room(self, room: str) -> None:
        """Every projection of one room (a room just added)."""
        await self.publish(room, *(p.name for p in room_projections()))
