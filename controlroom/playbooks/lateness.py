"""Late playbook steps reach the team's chats: a step still undone past its deadline is
posted as a `step_late` notice, once per run and step, by the process whose worker holds
the room. Read from the playbooks projection in Redis (the screens' own view of the runs),
so a late step is told even while SQL is away."""

from __future__ import annotations

import asyncio
from typing import Callable

import orjson
import structlog
from redis.exceptions import RedisError

from controlroom.bus import keys
from controlroom.bus.client import Bus
from controlroom.bus.notices import post_notices
from controlroom.clock import Clock
from controlroom.connectors.base import wait_or_stop
from controlroom.playbooks.service import PLAYBOOKS

log = structlog.get_logger(__name__)

CHECK_S = 2.0
# A notice said is remembered this long (longer than any playbook runs).
SAID_TTL_S = 2 * 24 * 3600


def late_notices(room: str, projection: dict, now_ms: int) -> list[tuple[str, dict]]:
    """(memory key, notice) of every step undone past its deadline in a running run."""
    found = []
    for run in projection.get("runs", []):
        if run.get("status") != "running":
            continue
        for number, step in enumerate(run.get("steps", []), start=1):
            if step.get("done") or step["deadline_at"] > now_ms:
                continue
            found.append((keys.late_step_told(room, run["id"], number), {
                "room": room, "alert_id": run.get("alert_id"), "event": "step_late", "level": run["level"],
                "rule": run["key"], "name": f"{run['name']} · {number}. {step['title']}",
                "name_en": f"{run.get('name_en') or run['name']} · {number}. {step['title']}",
                "value": None, "playbook": run["key"], "advice": step.get("owner", ""), "at": now_ms}))
    return found


class LateSteps:
    def __init__(self, bus: Bus, *, clock: Clock, rooms: Callable[[], list[str]]) -> None:
        self.redis = bus.redis
        self.clock = clock
        self.rooms = rooms

    async def run(self, stop: asyncio.Event) -> None:
        while not await wait_or_stop(stop, CHECK_S):
            try:
                await self.round()
            except RedisError as exc:
                log.warning("playbooks.late_check_failed", error=str(exc))

    async def round(self) -> None:
        rooms = self.rooms()
        if not rooms:
            return
        pipe = self.redis.pipeline(transaction=False)  # one key per room: each in its own slot
        for room in rooms:
            pipe.get(PLAYBOOKS.key(room))
        raw = await pipe.execute()
        now_ms = self.clock.now_ms()
        for room, value in zip(rooms, raw):
            if not value:
                continue
            for key, notice in late_notices(room, orjson.loads(value), now_ms):
                if await self.redis.set(key, now_ms, nx=True, ex=SAID_TTL_S):
                    await post_notices(self.redis, [notice])
