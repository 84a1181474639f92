"""Listening to Redis pub/sub for as long as a process runs: subscribe, hand every
message over, and when the connection breaks, resubscribe and say so (whatever was
published meanwhile is lost, so the listener must catch up by itself)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Awaitable, Callable, Iterable

import redis.asyncio as aioredis
import structlog

from controlroom.bus import keys
from controlroom.bus.client import is_cluster

log = structlog.get_logger(__name__)


async def listen_forever(
    client: aioredis.Redis, *, on_message: Callable[[dict], None], on_lost: Callable[[], None], name: str,
    channels: tuple[str, ...] = (), patterns: tuple[str, ...] = (), retry_s: float = 1.0,
) -> None:
    async def listen(pubsub: Any) -> None:
        if channels:
            await pubsub.subscribe(*channels)
        if patterns:
            await pubsub.psubscribe(*patterns)
        async for message in pubsub.listen():
            if message["type"] in ("message", "pmessage"):
                on_message(message)

    await _resubscribing(lambda: client.pubsub(ignore_subscribe_messages=True), listen,
                         on_lost=on_lost, name=name, retry_s=retry_s)


async def _resubscribing(new_pubsub: Callable[[], Any], listen: Callable[[Any], Awaitable[None]], *,
                         on_lost: Callable[[], None], name: str, retry_s: float) -> None:
    """Run `listen` on a fresh subscription for as long as the process runs; when the
    subscription breaks, wait `retry_s`, say so (`on_lost`) and start over."""
    while True:
        pubsub = new_pubsub()
        try:
            await listen(pubsub)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - resubscribe whatever broke the subscription
            log.warning(f"{name}.pubsub_lost", error=str(exc))
            await asyncio.sleep(retry_s)
            on_lost()
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()


# A room's updates (which of its projections changed) go to the room's own channel. On a
# cluster they go over sharded pub/sub: SPUBLISH reaches only the shard that owns the
# room's slot (its channel carries the room's hash tag), where PUBLISH would be copied
# to every node, so fan-out grows with the shards instead of with the whole cluster.


def announce_command(client: aioredis.Redis) -> str:
    return "SPUBLISH" if is_cluster(client) else "PUBLISH"


async def announce(client: aioredis.Redis, room: str, what: bytes) -> None:
    """Wake the screens of `room`: `what` names the projections that changed."""
    await client.execute_command(announce_command(client), keys.updates_channel(room), what)


def announcing_script(client: aioredis.Redis, script: str) -> str:
    """A Lua script that announces a room's update, in the form this Redis takes (the
    channel shares the script's keys' slot, as sharded pub/sub in a script requires)."""
    return script.replace("redis.call('PUBLISH'", f"redis.call('{announce_command(client)}'")


async def listen_to_rooms(
    client: aioredis.Redis, *, rooms: Callable[[], Iterable[str]], on_message: Callable[[dict], None],
    on_lost: Callable[[], None], name: str, retry_s: float = 1.0, poll_s: float = 0.01,
) -> None:
    """The updates of the rooms `rooms()` names, for as long as the process runs. One
    Redis: one pattern subscription covers every room. A cluster: each room's channel is
    subscribed on its own shard (SSUBSCRIBE), following `rooms()` as screens come and go,
    and the shards are polled every `poll_s` (a cluster client reads them one by one)."""
    if not is_cluster(client):
        await listen_forever(client, patterns=(keys.UPDATES_PATTERN,), on_message=on_message, on_lost=on_lost,
                             name=name, retry_s=retry_s)
        return
    async def listen(pubsub: Any) -> None:
        subscribed: set[str] = set()
        while True:
            wanted = {keys.updates_channel(room) for room in rooms()}
            if wanted - subscribed:
                await pubsub.ssubscribe(*(wanted - subscribed))
            if subscribed - wanted:
                await pubsub.sunsubscribe(*(subscribed - wanted))
            subscribed = wanted
            while subscribed and (message := await pubsub.get_sharded_message(
                    ignore_subscribe_messages=True, timeout=0)) is not None:
                if message["type"] in ("smessage", b"smessage"):
                    on_message(message)
            await asyncio.sleep(poll_s)

    await _resubscribing(client.pubsub, listen, on_lost=on_lost, name=name, retry_s=retry_s)
