"""Fires the run-of-show's cues on time, and moves an auto-advancing show on when its
segment's time is up, for the rooms this process's worker holds (one process per room,
as for alerts). Reads every room's show from its Redis projection every half second, in
one round trip, and touches
SQL only when a cue or a move is due (decided again on the show as stored, so an action
the controller took meanwhile wins)."""

from __future__ import annotations

import asyncio
from typing import Callable, Iterable

import orjson
import structlog
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from controlroom.bus.client import run_all
from controlroom.clock import Clock, ms_to_datetime
from controlroom.db.session import run_in_transaction
from controlroom.live.projections import Projections
from controlroom.shows import engine
from controlroom.shows.engine import RunState
from controlroom.shows.runs import SHOW, advance_if_due, fire_due_cues, room_show, script_of_projection

log = structlog.get_logger(__name__)

TICK_S = 0.5


class CueTicker:
    def __init__(self, projections: Projections, *, clock: Clock, rooms: Callable[[], Iterable[str]]) -> None:
        self.projections = projections
        self.redis = projections.bus.redis
        self.sessions = projections.sessions
        self.clock = clock
        self.rooms = rooms

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            rooms = list(self.rooms())
            try:  # every room's show in one round trip
                shows = await run_all(self.redis, [lambda c, room=room: c.get(SHOW.key(room)) for room in rooms])
            except Exception as exc:  # noqa: BLE001 - Redis away: the next tick asks again
                log.warning("cues.read_failed", rooms=len(rooms), error=str(exc))
                shows = [None] * len(rooms)
            for room, raw in zip(rooms, shows):
                try:
                    await self.tick_show(room, raw)
                except StaleDataError:
                    log.info("cues.changed_meanwhile", room=room)  # an action moved the show: next tick
                except Exception as exc:  # noqa: BLE001 - one room must not stop the others
                    log.warning("cues.tick_failed", room=room, error=str(exc))
            try:
                await asyncio.wait_for(stop.wait(), timeout=TICK_S)
            except asyncio.TimeoutError:
                pass

    async def tick(self, room: str) -> int:
        return await self.tick_show(room, await self.redis.get(SHOW.key(room)))

    async def tick_show(self, room: str, raw: bytes | None) -> int:
        """Fire what is due in the room's show (`raw`: its projection as just read)."""
        if raw is None:
            return 0
        data = orjson.loads(raw)
        run = RunState.from_json(data["run"])
        now = self.clock.now_ms()
        script = script_of_projection(data)
        if not engine.due_cues(script, run, now) and engine.auto_advance(script, run, now) is None:
            return 0

        def fire(session: Session) -> int:
            _, show = room_show(session, room, ms_to_datetime(now))
            fired = len(fire_due_cues(session, show=show, now_ms=now))
            return fired + advance_if_due(session, show=show, now_ms=now)

        changed = await run_in_transaction(self.sessions, fire)
        if changed:
            await self.projections.publish(room, SHOW.name)
        return changed
