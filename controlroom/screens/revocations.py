"""The websockets of this process hear, through Redis pub/sub, when the access they were
opened with ends (controlroom/auth/revocation.py), so they close at once rather than at
their next periodic check."""

from __future__ import annotations

import asyncio
import contextlib

import orjson
import redis.asyncio as aioredis
import structlog

from controlroom.auth.revocation import concerns
from controlroom.auth.service import Principal
from controlroom.bus import keys

log = structlog.get_logger(__name__)


class Revocations:
    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
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
        for event, principal in list(self._watching.items()):
            if subjects is None or concerns(principal, subjects):
                event.set()

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(keys.REVOCATIONS)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self._notify(orjson.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - resubscribe whatever broke
                log.warning("revocations.pubsub_lost", error=str(exc))
                await asyncio.sleep(1.0)
                self._notify(None)  # what was announced meanwhile is lost: everyone re-checks
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
