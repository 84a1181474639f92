"""The websockets of this process hear, through Redis pub/sub, when the access they were
opened with ends (controlroom/auth/revocation.py), so they close at once. Behind that,
every `recheck_s` one query re-checks every principal with a screen open here (not one
query per screen: a thousand screens would be 200 transactions a second), and the
screens of any that is no longer valid are told the same way."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Awaitable, Callable

import orjson
import redis.asyncio as aioredis
import structlog

from controlroom.auth.revocation import concerns
from controlroom.auth.service import Principal
from controlroom.bus import keys
from controlroom.bus.pubsub import listen_forever

log = structlog.get_logger(__name__)

# principals -> {principal: still valid}; raises while the record cannot say.
CheckAll = Callable[[list[Principal]], Awaitable[dict[Principal, bool]]]


class Revocations:
    def __init__(self, client: aioredis.Redis, *, on_announced: Callable[[], None] = lambda: None,
                 check_all: CheckAll | None = None, recheck_s: float = 5.0) -> None:
        self.redis = client
        self.check_all = check_all
        self.recheck_s = recheck_s
        # Called on every announcement: what SQL confirmed before it is no longer good
        # for letting anyone in while SQL is away.
        self.on_announced = on_announced
        self._watching: dict[asyncio.Event, Principal] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._listen(), name="revocations-listener"))
        if self.check_all is not None:
            self._tasks.append(asyncio.create_task(self._recheck_forever(), name="revocations-recheck"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def watch(self, principal: Principal) -> asyncio.Event:
        """An event set whenever this principal's access may have ended."""
        event = asyncio.Event()
        self._watching[event] = principal
        return event

    def forget(self, event: asyncio.Event) -> None:
        self._watching.pop(event, None)

    def _notify(self, subjects: list[str] | None) -> None:
        self.on_announced()
        for event, principal in list(self._watching.items()):
            if subjects is None or concerns(principal, subjects):
                event.set()

    async def recheck(self) -> int:
        """Re-check every principal watched here at once; tell the screens of those no
        longer valid. Returns how many principals were checked."""
        assert self.check_all is not None
        principals = list(set(self._watching.values()))
        if not principals:
            return 0
        valid = await self.check_all(principals)
        for event, principal in list(self._watching.items()):
            if valid.get(principal) is False:
                event.set()
        return len(principals)

    async def _recheck_forever(self) -> None:
        while True:
            await asyncio.sleep(self.recheck_s)
            try:
                await self.recheck()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the record away: screens stay, next round asks again
                log.info("revocations.recheck_failed", error=str(exc))

    async def _listen(self) -> None:
        # What was announced while the subscription was down is lost: everyone re-checks.
        await listen_forever(self.redis, channels=(keys.REVOCATIONS,), name="revocations",
                             on_message=lambda message: self._notify(orjson.loads(message["data"])),
                             on_lost=lambda: self._notify(None))
