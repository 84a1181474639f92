"""The consumer-group worker: stream entries in, room state and checkpoints out.

Exactly-once effects over at-least-once delivery:
1. A room is worked by one worker at a time, the holder of its lease.
2. A batch is applied to the in-memory state, then one Lua script (fenced by the lease)
   writes the state with the last applied id, the order-ledger changes and the XACKs,
   and publishes the update — all or nothing.
3. On taking a room the worker loads that checkpoint, claims every pending entry with
   XAUTOCLAIM (following the cursor) and skips what the checkpoint already covers.
So a `kill -9` anywhere loses at most a batch that was never checkpointed; its entries
are still pending and are applied again, exactly once, by the next holder.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from dataclasses import dataclass, field

import orjson
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from controlroom.bus import keys, scripts
from controlroom.clock import Clock, SystemClock
from controlroom.metrics.state import RoomState
from controlroom.observability import EVENTS_APPLIED, STREAM_LAG_SECONDS

log = structlog.get_logger(__name__)

StreamId = tuple[int, int]


def parse_id(raw: bytes | str) -> StreamId:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


@dataclass
class OwnedRoom:
    state: RoomState
    ledger: dict[str, int]
    last_id: StreamId
    last_id_text: str
    renewed_at: float = 0.0
    stream_key: str = field(default="")


class Worker:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        batch: int = 2000,
        block_ms: int = 200,
        lease_ttl_ms: int = 10_000,
        clock: Clock | None = None,
        name: str | None = None,
    ) -> None:
        self.redis = client
        self.batch = batch
        self.block_ms = block_ms
        self.lease_ttl_ms = lease_ttl_ms
        self.clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.rooms: dict[str, OwnedRoom] = {}
        self._acquire = client.register_script(scripts.ACQUIRE_LEASE)
        self._release = client.register_script(scripts.RELEASE_LEASE)
        self._checkpoint = client.register_script(scripts.CHECKPOINT)
        self._rooms_checked_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.started", worker=self.name)
        try:
            while not stop.is_set():
                try:
                    await self._step()
                except RedisError as exc:
                    # Start over from the checkpoints once Redis is back.
                    log.warning("worker.redis_error", error=str(exc))
                    self.rooms.clear()
                    await _sleep_or_stop(stop, 1.0)
        finally:
            await self._release_all()
            log.info("worker.stopped", worker=self.name)

    async def _step(self) -> None:
        now = time.monotonic()
        if now - self._rooms_checked_at >= 1.0:
            self._rooms_checked_at = now
            await self._maintain_leases(now)
        if not self.rooms:
            await asyncio.sleep(0.2)
            return
        streams = {room.stream_key: ">" for room in self.rooms.values()}
        replies = await self.redis.xreadgroup(
            keys.CONSUMER_GROUP, self.name, streams, count=self.batch, block=self.block_ms
        )
        for stream_key, entries in replies or []:
            room = keys.room_from_channel(stream_key.decode())
            if room in self.rooms and entries:
                await self._apply(room, entries)

    async def _maintain_leases(self, now: float) -> None:
        members = await self.redis.smembers(keys.ROOMS)
        for raw in members:
            room = raw.decode()
            owned = self.rooms.get(room)
            if owned is not None and now - owned.renewed_at < self.lease_ttl_ms / 3000:
                continue
            got = await self._acquire(keys=[keys.lease(room)], args=[self.name, self.lease_ttl_ms])
            if not got:
                if owned is not None:
                    log.warning("worker.lease_lost", room=room)
                    del self.rooms[room]
                continue
            if owned is None:
                await self._take_room(room)
            self.rooms[room].renewed_at = now

    async def _take_room(self, room: str) -> None:
        checkpoint = await self.redis.hmget(keys.checkpoint(room), ["state", "last_id"])
        raw_state, raw_last = checkpoint
        ledger_raw = await self.redis.hgetall(keys.order_statuses(room))
        last_text = raw_last.decode() if raw_last else "0-0"
        self.rooms[room] = OwnedRoom(
            state=RoomState.from_json(raw_state),
            ledger={k.decode(): int(v) for k, v in ledger_raw.items()},
            last_id=parse_id(last_text),
            last_id_text=last_text,
            stream_key=keys.stream(room),
        )
        log.info("worker.room_taken", room=room, last_id=last_text)
        await self._recover_pending(room)

    async def _recover_pending(self, room: str) -> None:
        """Claim what a previous holder read but never acknowledged, and apply it."""
        cursor = "0-0"
        while True:
            reply = await self.redis.xautoclaim(
                keys.stream(room), keys.CONSUMER_GROUP, self.name,
                min_idle_time=0, start_id=cursor, count=self.batch,
            )
            cursor = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
            entries = reply[1]
            if entries:
                await self._apply(room, entries)
            if cursor == "0-0" or room not in self.rooms:
                return

    async def _apply(self, room: str, entries: list) -> None:
        owned = self.rooms[room]
        acks: list[bytes] = []
        fresh: list[dict] = []
        newest_id, newest_text = owned.last_id, owned.last_id_text
        for entry_id, fields in entries:
            acks.append(entry_id)
            entry = parse_id(entry_id)
            # Trimmed away while pending (fields missing), or covered by the checkpoint.
            if not fields or entry <= owned.last_id:
                continue
            fresh.append(orjson.loads(fields[b"e"]))
            if entry > newest_id:
                newest_id, newest_text = entry, entry_id.decode()
        changed = owned.state.apply(fresh, owned.ledger) if fresh else {}
        now_ms = self.clock.now_ms()
        owned.state.prune(now_ms)
        args = [
            self.name,
            owned.state.to_json(),
            newest_text,
            keys.CONSUMER_GROUP,
            keys.updates_channel(room),
            newest_text,
            orjson.dumps(changed),
            b" ".join(acks),
        ]
        ok = await self._checkpoint(
            keys=[keys.lease(room), keys.checkpoint(room), keys.order_statuses(room), keys.stream(room)],
            args=args,
        )
        if not ok:
            log.warning("worker.lease_lost", room=room)
            self.rooms.pop(room, None)
            return
        owned.last_id, owned.last_id_text = newest_id, newest_text
        EVENTS_APPLIED.labels(room=room).inc(len(fresh))
        STREAM_LAG_SECONDS.labels(room=room).set(max(0.0, (now_ms - newest_id[0]) / 1000))

    async def _release_all(self) -> None:
        for room in list(self.rooms):
            try:
                await self._release(keys=[keys.lease(room)], args=[self.name])
            except RedisError:
                pass
        self.rooms.clear()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
