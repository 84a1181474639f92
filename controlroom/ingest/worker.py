"""The consumer-group worker: stream entries in, room state and checkpoints out.

Exactly-once effects over at-least-once delivery:
1. A room is worked by one worker at a time, the holder of its lease. Every read from
   the group (XREADGROUP, XAUTOCLAIM) and every checkpoint is a Lua script that first
   checks the lease, so a worker that lost its lease without noticing can neither take
   entries away from the new holder nor write over its state.
2. A batch is applied to the in-memory state, then one script writes the state with
   the last applied id, the order-ledger changes, the XACKs and the backlog decrement,
   and publishes the update: all or nothing.
3. On taking a room the worker loads that checkpoint, claims every pending entry with
   XAUTOCLAIM (following the cursor) and skips what the checkpoint already covers.
So a `kill -9` anywhere loses at most a batch that was never checkpointed; its entries
are still pending and are applied again, exactly once, by the next holder.

Rooms are shared out between live workers (heartbeats in a sorted set): a worker takes
at most its fair share and hands back rooms above it when more workers join.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Callable

import orjson
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from controlroom.bus import keys, scripts
from controlroom.bus.client import StreamId, known_rooms, parse_id
from controlroom.bus.client import ensure_group
from controlroom.clock import Clock, SystemClock
from controlroom.events import event_adapter
from controlroom.metrics.state import USER_SETS, BatchEffects, RoomState, Tagger, apply_isolating
from controlroom.observability import EVENTS_APPLIED, EVENTS_NOT_APPLIED

log = structlog.get_logger(__name__)

MAINTAIN_EVERY_S = 1.0
# Per-minute distinct-user counts are read for the last 20 minutes; keep a margin.
WINDOW_KEYS_TTL_S = 40 * 60


@dataclass
class OwnedRoom:
    state: RoomState
    ledger: dict[str, int]
    last_id: StreamId
    last_id_text: str
    # The newest id read from the stream (applied or not): where the wake-up XREAD starts.
    read_id_text: str
    renewed_at: float = 0.0
    # The state as last checkpointed: where a batch that fails starts over from.
    checkpointed: bytes | None = None


class LeaseLost(Exception):
    pass


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
        tagger: Tagger | None = None,
        on_applied: Callable[[str], None] | None = None,
        dead_maxlen: int = 10_000,
    ) -> None:
        self.redis = client
        self.batch = batch
        self.block_ms = block_ms
        self.lease_ttl_ms = lease_ttl_ms
        self.clock = clock or SystemClock()
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.rooms: dict[str, OwnedRoom] = {}
        # Finds moderation hits in comments as they are applied.
        self.tagger = tagger
        # Told after every checkpoint (the alert engine evaluates the room's rules).
        self.on_applied = on_applied
        self.dead_maxlen = dead_maxlen
        self._acquire = client.register_script(scripts.ACQUIRE_LEASE)
        self._release = client.register_script(scripts.RELEASE_LEASE)
        self._read = client.register_script(scripts.READ)
        self._claim = client.register_script(scripts.CLAIM)
        self._checkpoint = client.register_script(scripts.CHECKPOINT)
        self._reset = client.register_script(scripts.RESET)
        self._maintained_at = 0.0

    # --- the loop --------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.started", worker=self.name)
        try:
            while not stop.is_set():
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                    # Start over from the checkpoints: they are the truth.
                    log.exception("worker.step_failed", error=str(exc), redis=isinstance(exc, RedisError))
                    self.rooms.clear()
                    await _sleep_or_stop(stop, 1.0)
        finally:
            await self._let_go()
            log.info("worker.stopped", worker=self.name)

    async def _step(self) -> None:
        now = time.monotonic()
        if now - self._maintained_at >= MAINTAIN_EVERY_S:
            self._maintained_at = now
            await self._maintain(now)
        if not self.rooms:
            await asyncio.sleep(0.2)
            return
        # Wait for news without side effects (plain XREAD), then read through the group
        # under the lease for each room that has some.
        streams = {keys.stream(room): owned.read_id_text for room, owned in self.rooms.items()}
        woken = await self.redis.xread(streams, count=1, block=self.block_ms)
        for stream_key, news in woken or []:
            room = keys.room_from_channel(stream_key.decode())
            if room in self.rooms:
                await self._read_and_apply(room, news[0][0])

    async def _read_and_apply(self, room: str, news_id: bytes) -> None:
        try:
            entries = await self._read(
                keys=[keys.lease(room), keys.stream(room)],
                args=[self.name, keys.CONSUMER_GROUP, self.name, self.batch],
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The group vanished (Redis flushed or restarted without data): recreate it.
            await ensure_group(self.redis, room)
            return
        if entries == 0:
            self._drop(room, "lease lost before reading")
        elif entries:
            await self._apply(room, entries)
        else:
            # The news was delivered to someone else already (it will be claimed if it
            # is ever stranded); wait for newer entries instead of waking on it again.
            self.rooms[room].read_id_text = news_id.decode()

    # --- rooms and leases ------------------------------------------------------------

    async def _maintain(self, now: float) -> None:
        now_ms = self.clock.now_ms()
        ttl_ms = self.lease_ttl_ms
        await self.redis.zadd(keys.WORKERS, {self.name: now_ms + ttl_ms})
        await self.redis.zremrangebyscore(keys.WORKERS, "-inf", now_ms)
        live_workers = max(1, await self.redis.zcard(keys.WORKERS))
        rooms = await known_rooms(self.redis)
        fair_share = math.ceil(len(rooms) / live_workers) if rooms else 0

        for room, owned in list(self.rooms.items()):
            if room not in rooms:
                await self._hand_back(room)
            elif now - owned.renewed_at >= ttl_ms / 3000:
                if await self._acquire(keys=[keys.lease(room)], args=[self.name, ttl_ms]):
                    owned.renewed_at = now
                else:
                    self._drop(room, "lease taken by another worker")
        await self._follow_shows()
        if len(self.rooms) > fair_share:
            # More workers joined: hand one room back per round, so load spreads calmly.
            await self._hand_back(next(iter(self.rooms)))
        for room in rooms:
            if len(self.rooms) >= fair_share:
                break
            if room in self.rooms:
                continue
            if await self._acquire(keys=[keys.lease(room)], args=[self.name, ttl_ms]):
                try:
                    await self._take_room(room, now)
                except LeaseLost:
                    self._drop(room, "lease lost while recovering")

    async def _follow_shows(self) -> None:
        """A quiet room starts over too when its show starts (the screens show zeros)."""
        for room in list(self.rooms):
            await self._follow_show(room)

    async def _follow_show(self, room: str) -> bool:
        """A show started (the run-of-show publishes its start in the room's meta): the
        room's numbers start over for it. Checked before every batch, so the new show's
        events land in the new show's numbers; the stream keeps every event either way.
        Returns False when the lease was lost."""
        owned = self.rooms[room]
        raw = await self.redis.hget(keys.meta(room), "show_started_at")
        started = int(raw) if raw else 0
        if started <= owned.state.show_started_at:
            return True
        fresh = RoomState(show_started_at=started)
        ok = await self._reset(
            keys=[keys.lease(room), keys.checkpoint(room), keys.minute_distinct(room),
                  *(keys.users(room, kind) for kind in USER_SETS)],
            args=[self.name, fresh.to_json(), keys.updates_channel(room), b"show"],
        )
        if not ok:
            self._drop(room, "lease lost before a show reset")
            return False
        owned.state, owned.checkpointed = fresh, fresh.to_json()
        log.info("worker.show_started", room=room, started_at=started)
        return True

    async def _take_room(self, room: str, now: float) -> None:
        raw_state, raw_last = await self.redis.hmget(keys.checkpoint(room), ["state", "last_id"])
        ledger_raw = await self.redis.hgetall(keys.order_statuses(room))
        last_text = raw_last.decode() if raw_last else "0-0"
        self.rooms[room] = OwnedRoom(
            state=RoomState.from_json(raw_state),
            ledger={k.decode(): int(v) for k, v in ledger_raw.items()},
            last_id=parse_id(last_text),
            last_id_text=last_text,
            read_id_text=last_text,
            renewed_at=now,
            checkpointed=raw_state,
        )
        await ensure_group(self.redis, room)
        log.info("worker.room_taken", room=room, last_id=last_text)
        await self._recover_pending(room)
        await self._forget_other_consumers(room)

    async def _recover_pending(self, room: str) -> None:
        """Claim what a previous holder read but never acknowledged, and apply it."""
        cursor: bytes | str = "0-0"
        trimmed = False
        while True:
            reply = await self._claim(
                keys=[keys.lease(room), keys.stream(room)],
                args=[self.name, keys.CONSUMER_GROUP, self.name, cursor, self.batch],
            )
            if reply == 0:
                raise LeaseLost(room)
            cursor, entries = reply
            # Redis 6.2 answers an entry deleted while pending with an empty pair.
            present = [entry for entry in entries if entry and entry[0] is not None]
            trimmed |= len(present) < len(entries)
            if present:
                await self._apply(room, present)
                if room not in self.rooms:
                    raise LeaseLost(room)
            if cursor in (b"0-0", "0-0"):
                break
        if trimmed:
            await self._ack_trimmed(room)

    async def _ack_trimmed(self, room: str) -> None:
        """Pending ids whose entries were trimmed away (only an operator's manual trim
        can do that): nothing to apply, so acknowledge them to clear the list."""
        first = await self.redis.xrange(keys.stream(room), count=1)
        first_id = parse_id(first[0][0]) if first else (2**63, 0)
        pending = await self.redis.xpending_range(keys.stream(room), keys.CONSUMER_GROUP, "-", "+", 10_000)
        gone = [p["message_id"] for p in pending if parse_id(p["message_id"]) < first_id]
        if gone:
            await self.redis.xack(keys.stream(room), keys.CONSUMER_GROUP, *gone)
            log.warning("worker.pending_entries_trimmed", room=room, count=len(gone))

    async def _forget_other_consumers(self, room: str) -> None:
        """Earlier holders of the room left consumers behind in the group; with their
        entries claimed they hold nothing, and would otherwise pile up forever."""
        for consumer in await self.redis.xinfo_consumers(keys.stream(room), keys.CONSUMER_GROUP):
            name = consumer["name"].decode() if isinstance(consumer["name"], bytes) else consumer["name"]
            if name != self.name and consumer["pending"] == 0:
                await self.redis.xgroup_delconsumer(keys.stream(room), keys.CONSUMER_GROUP, name)

    def _drop(self, room: str, reason: str) -> None:
        if self.rooms.pop(room, None) is not None:
            log.warning("worker.room_dropped", room=room, reason=reason)

    async def _hand_back(self, room: str) -> None:
        """Every batch is checkpointed as it is applied, so letting go is immediate."""
        self.rooms.pop(room, None)
        await self._release(keys=[keys.lease(room)], args=[self.name])
        log.info("worker.room_handed_back", room=room)

    async def _let_go(self) -> None:
        for room in list(self.rooms):
            try:
                await self._hand_back(room)
            except RedisError:
                pass
        try:
            await self.redis.zrem(keys.WORKERS, self.name)
        except RedisError:
            pass

    # --- applying --------------------------------------------------------------------

    async def _apply(self, room: str, entries: list) -> None:
        if not await self._follow_show(room):
            return
        owned = self.rooms[room]
        acks: list[bytes] = []
        fresh: list[dict] = []
        newest_id, newest_text = owned.last_id, owned.last_id_text
        read_id = parse_id(owned.read_id_text)
        for entry_id, fields in entries:
            acks.append(entry_id)
            entry = parse_id(entry_id)
            if entry > read_id:
                read_id = entry
            if entry <= owned.last_id:
                continue  # covered by the checkpoint: applied before a crash
            # Script replies keep fields as a flat [name, value] list; entries have one, "e".
            fresh.append(orjson.loads(fields[1]))
            if entry > newest_id:
                newest_id, newest_text = entry, entry_id.decode()
        owned.read_id_text = f"{read_id[0]}-{read_id[1]}"
        try:
            effects = owned.state.apply(fresh, owned.ledger, self.tagger) if fresh else BatchEffects()
            owned.state.prune(self.clock.now_ms())
            if not owned.state.within_sql_range():
                raise OverflowError("a total would exceed the archive's 64-bit integers")
            state_json, refused = owned.state.to_json(), []
        except Exception as exc:  # noqa: BLE001 - an event the state cannot take must not stop the room
            log.warning("worker.batch_failed", room=room, events=len(fresh), error=f"{type(exc).__name__}: {exc}")
            effects, refused = await self._apply_isolating(room, owned, fresh)
            state_json = owned.state.to_json()
        ok = await self._checkpoint(
            keys=[
                keys.lease(room), keys.checkpoint(room), keys.order_statuses(room),
                keys.stream(room), keys.backlog(room), *(keys.users(room, kind) for kind in USER_SETS),
            ],
            args=[
                self.name,
                state_json,
                newest_text,
                keys.CONSUMER_GROUP,
                keys.updates_channel(room),
                newest_text,
                orjson.dumps(effects.ledger),
                b" ".join(acks),
                len(fresh),
                *(orjson.dumps(sorted(effects.users[kind])) for kind in USER_SETS),
                keys.window_users_prefix(room),
                orjson.dumps([[minute, kind, sorted(ids)] for (minute, kind), ids in effects.minute_users.items()]),
                WINDOW_KEYS_TTL_S,
            ],
        )
        if not ok:
            self._drop(room, "lease lost before checkpoint")
            return
        owned.last_id, owned.last_id_text, owned.checkpointed = newest_id, newest_text, state_json
        if refused:
            await self._dead_letter(room, refused)
        EVENTS_APPLIED.labels(room=room).inc(len(fresh) - len(refused))
        if fresh and self.on_applied is not None:
            self.on_applied(room)

    async def _apply_isolating(self, room: str, owned: OwnedRoom, events: list[dict]) -> tuple[BatchEffects, list]:
        """Start over from the checkpoint and apply the batch without the events that
        break it (out of the contract's ranges, or failing to apply)."""
        ledger = {k.decode(): int(v) for k, v in (await self.redis.hgetall(keys.order_statuses(room))).items()}
        isolated = apply_isolating(owned.checkpointed, ledger, events, self.tagger, refuse=_contract_error)
        isolated.state.prune(self.clock.now_ms())
        owned.state, owned.ledger = isolated.state, isolated.ledger
        return isolated.effects, isolated.refused

    async def _dead_letter(self, room: str, refused: list[tuple[dict, str]]) -> None:
        """Events left out of their batch go where refused items go: the room's dead
        letters, which tech staff see, with the reason."""
        pipe = self.redis.pipeline(transaction=False)
        for event, reason in refused:
            pipe.xadd(keys.dead_letters(room), {"raw": json.dumps(event, ensure_ascii=False, default=str),
                                                "reason": f"not applied: {reason}"[:2000]},
                      maxlen=self.dead_maxlen, approximate=True)
        await pipe.execute()
        EVENTS_NOT_APPLIED.labels(room=room).inc(len(refused))
        log.warning("worker.events_not_applied", room=room, count=len(refused), reason=refused[0][1])


def _contract_error(event: dict) -> str | None:
    """Why an event read from the stream breaks the canonical contract (one written
    before the contract's ranges were enforced, or by a buggy feed), else None."""
    try:
        event_adapter.validate_python(event)
    except ValueError as exc:
        return str(exc).replace("\n", " ")[:500]
    return None


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
