"""The websockets of this process hear, through Redis pub/sub, when the access they were
opened with ends (controlroom/auth/revocation.py), so they close at once rather than at
their next periodic check."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Callable

import orjson
import redis.asyncio as aioredis

from controlroom.auth.revocation import concerns
from controlroom.auth.service import Principal
from controlroom.bus import keys
from controlroom.bus.pubsub import listen_forever


class Revocations:
    def __init__(self, client: aioredis.Redis, *, on_announced: Callable[[], None] = lambda: None) -> None:
        self.redis = client
        # Called on every announcement: what SQL confirmed before it is no longer good
        # for letting anyone in while SQL is away.
        self.on_announced = on_announced
        self._watching: dict[asyncio.Event, Principal] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._listener = asyncio.create_task(self._listen(), name="revocations-listener")

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener

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

    async def _listen(self) -> None:
        # What was announced while the subscription was down is lost: everyone re-checks.
        await listen_forever(self.redis, channels=(keys.REVOCATIONS,), name="revocations",
                             on_message=lambda message: self._notify(orjson.loads(message["data"])),
                             on_lost=lambda: self._notify(None))
