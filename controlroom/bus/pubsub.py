"""Listening to Redis pub/sub for as long as a process runs: subscribe, hand every
message over, and when the connection breaks, resubscribe and say so (whatever was
published meanwhile is lost, so the listener must catch up by itself)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Callable

import redis.asyncio as aioredis
import structlog

log = structlog.get_logger(__name__)


async def listen_forever(
    client: aioredis.Redis, *, on_message: Callable[[dict], None], on_lost: Callable[[], None], name: str,
    channels: tuple[str, ...] = (), patterns: tuple[str, ...] = (), retry_s: float = 1.0,
) -> None:
    while True:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            if channels:
                await pubsub.subscribe(*channels)
            if patterns:
                await pubsub.psubscribe(*patterns)
            async for message in pubsub.listen():
                if message["type"] in ("message", "pmessage"):
                    on_message(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - resubscribe whatever broke the subscription
            log.warning(f"{name}.pubsub_lost", error=str(exc))
            await asyncio.sleep(retry_s)
            on_lost()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
