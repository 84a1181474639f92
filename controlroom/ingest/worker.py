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

Leases and the heartbeat are renewed by a task of their own, several times per TTL, so
neither a long batch nor a blocking read lets them lapse; the heartbeat is written just
before the leases and with the same TTL, so a dead worker stops counting towards the
fair share no later than its leases run out. A worker waiting for a room wakes up when
the holder's lease or heartbeat runs out (it asks Redis how long that is), not on a
polling grid: another worker takes a dead one's rooms about a TTL after its last
renewal. When the holder is a process of this machine that is gone (`kill -9`, a crash,
a restart under a supervisor), its lease is taken at once. A clean stop hands the leases
back and leaves the heartbeats at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import orjson
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError, ResponseError

from controlroom.bus import keys, scripts
from controlroom.bus.client import StreamId, known_rooms, parse_id
from controlroom.bus.client import ensure_group, is_cluster, run_all
from controlroom.clock import Clock, SystemClock
from controlroom.events import event_adapter
from controlroom.metrics.state import USER_SETS, BatchEffects, RoomState, Tagger, apply_isolating
from controlroom.observability import EVENTS_APPLIED, EVENTS_NOT_APPLIED
from controlroom.bus.pubsub import announcing_script

log = structlog.get_logger(__name__)

# Leases and the heartbeat are renewed this many times per TTL: a renewal may fail or be
# late a couple of times before a lease runs out.
RENEWALS_PER_TTL = 4
# Rooms, fair share and takeovers are looked at as often, or sooner when a lease or a
# heartbeat that stands in the way runs out.
MAINTAIN_ROUNDS_PER_TTL = 4
# Past an expiry, so that Redis (which expires keys by its own clock, to the
# millisecond) has let go of the key when we look.
EXPIRY_MARGIN_S = 0.005
# A quiet room starts over when its show starts; its meta is looked at this often.
FOLLOW_SHOWS_EVERY_S = 1.0
# How often a worker on Redis Cluster looks for news in its rooms' streams (one Redis
# waits for news with a single blocking read instead).
CLUSTER_POLL_S = 0.01
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
    # The state as last checkpointed: where a batch that fails starts over from.
    checkpointed: bytes | None = None
    # Set by the lease keeper when a renewal found the lease gone; the loop drops the
    # room (its fenced reads and checkpoints would fail anyway).
    lease_lost: bool = False


class LeaseLost(Exception):
    pass


class Worker:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        batch: int = 2000,
        block_ms: int = 200,
        lease_ttl_ms: int = 2_500,
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
        self.name = name or worker_name()
        self.rooms: dict[str, OwnedRoom] = {}
        # Finds moderation hits in comments as they are applied.
        self.tagger = tagger
        # Told after every checkpoint (the alert engine evaluates the room's rules).
        self.on_applied = on_applied
        self.dead_maxlen = dead_maxlen
        self._cluster = is_cluster(client)
        self._acquire = client.register_script(scripts.ACQUIRE_LEASE)
        self._renew = client.register_script(scripts.RENEW_LEASE)
        self._release = client.register_script(scripts.RELEASE_LEASE)
        self._heartbeat = client.register_script(scripts.HEARTBEAT)
        self._live_workers = client.register_script(scripts.LIVE_WORKERS)
        self._read = client.register_script(scripts.READ)
        self._claim = client.register_script(scripts.CLAIM)
        self._checkpoint = client.register_script(announcing_script(client, scripts.CHECKPOINT))
        self._reset = client.register_script(announcing_script(client, scripts.RESET))
        self._maintain_due = 0.0
        self._shows_followed_at = 0.0

    # --- the loop --------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker.started", worker=self.name)
        keeper = asyncio.create_task(self._keep_leases(), name=f"leases-{self.name}")
        try:
            while not stop.is_set():
                try:
                    await self._step()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the worker must outlive any one failure
                    # Start over from the checkpoints: they are the truth.
                    if isinstance(exc, RedisError):
                        # Redis away is an expected fault and its message says it all; a
                        # rendered traceback costs the event loop about a second.
                        log.warning("worker.step_failed", error=f"{type(exc).__name__}: {exc}", redis=True)
                    else:
                        log.exception("worker.step_failed", error=str(exc), redis=False)
                    self.rooms.clear()
                    await _sleep_or_stop(stop, 1.0)
        finally:
            # No renewal may run after the leases are handed back.
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self._let_go()
            log.info("worker.stopped", worker=self.name)

    async def _step(self) -> None:
        if time.monotonic() >= self._maintain_due:
            wait_s = await self._maintain()
            self._maintain_due = time.monotonic() + wait_s
        until_maintain_ms = int((self._maintain_due - time.monotonic()) * 1000)
        if not self.rooms:
            await asyncio.sleep(min(0.2, max(0, until_maintain_ms) / 1000))
            return
        if until_maintain_ms < 1:
            return  # BLOCK 0 would wait forever
        # Wait for news without side effects (plain XREAD), then read through the group
        # under the lease for each room that has some. The wait ends in time for the
        # next maintenance round, which may be due to take over a room.
        streams = {keys.stream(room): owned.read_id_text for room, owned in self.rooms.items()}
        woken = await self._wait_for_news(streams, min(self.block_ms, until_maintain_ms))
        for stream_key, news in woken or []:
            room = keys.room_from_channel(stream_key.decode())
            if room in self.rooms:
                await self._read_and_apply(room, news[0][0])

    async def _wait_for_news(self, streams: dict[str, str], block_ms: int) -> list:
        """[stream key, [first new entry]] of the streams that have news, waiting up to
        `block_ms` for some. One Redis: one XREAD BLOCK over every stream. A cluster
        refuses a read across slots (each room is a slot of its own): the streams are
        polled without blocking, one pipeline per round (the client sends each node its
        share at once), every CLUSTER_POLL_S until news or the time is up."""
        if not self._cluster:
            return await self.redis.xread(streams, count=1, block=block_ms) or []
        deadline = time.monotonic() + block_ms / 1000
        while True:
            pipe = self.redis.pipeline(transaction=False)
            for key, last_id in streams.items():
                pipe.xread({key: last_id}, count=1)
            woken = [reply[0] for reply in await pipe.execute() if reply]
            if woken or time.monotonic() >= deadline:
                return woken
            await asyncio.sleep(min(CLUSTER_POLL_S, max(0.0, deadline - time.monotonic())))

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
        elif room in self.rooms:
            # The news was delivered to someone else already (it will be claimed if it
            # is ever stranded); wait for newer entries instead of waking on it again.
            self.rooms[room].read_id_text = news_id.decode()

    # --- rooms and leases ------------------------------------------------------------

    async def _keep_leases(self) -> None:
        """Heartbeat and leases on a schedule of their own, so that a long batch or a
        slow read never lets them lapse. Runs until cancelled: whatever fails, the next
        round tries again (reads and checkpoints are fenced meanwhile)."""
        every_s = self.lease_ttl_ms / 1000 / RENEWALS_PER_TTL
        while True:
            started = time.monotonic()
            try:
                await self._renew_leases()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the keeper must outlive any one failure
                log.warning("worker.lease_renewal_failed", worker=self.name, error=f"{type(exc).__name__}: {exc}")
            await asyncio.sleep(max(0.0, every_s - (time.monotonic() - started)))

    async def _renew_leases(self) -> None:
        held = list(self.rooms.items())
        # One round trip, the heartbeat first: it never outlives the leases written with it.
        _, *renewed = await run_all(self.redis, [
            lambda c: self._heartbeat(keys=[keys.WORKERS], args=[self.name, self.lease_ttl_ms], client=c),
            *(lambda c, room=room: self._renew(keys=[keys.lease(room)], args=[self.name, self.lease_ttl_ms], client=c)
              for room, _ in held),
        ])
        for (room, owned), ok in zip(held, renewed):
            if not ok and not owned.lease_lost:
                owned.lease_lost = True
                log.warning("worker.lease_not_renewed", room=room, worker=self.name)

    async def _maintain(self) -> float:
        """Shares the rooms out: drops lost ones, hands back what is above the fair share,
        takes free ones up to it. Returns how long until the next round is worth running."""
        wait_s = self.lease_ttl_ms / 1000 / MAINTAIN_ROUNDS_PER_TTL
        for room, owned in list(self.rooms.items()):
            if owned.lease_lost:
                self._drop(room, "lease expired or taken by another worker")
        live_workers, soonest_expiry_s = await self._count_live_workers()
        if soonest_expiry_s is not None:
            # When another worker's heartbeat runs out the fair share grows: look again then.
            wait_s = min(wait_s, soonest_expiry_s + EXPIRY_MARGIN_S)
        rooms = await known_rooms(self.redis)
        fair_share = math.ceil(len(rooms) / live_workers) if rooms else 0

        for room in list(self.rooms):
            if room not in rooms:
                await self._hand_back(room)
        if time.monotonic() - self._shows_followed_at >= FOLLOW_SHOWS_EVERY_S:
            self._shows_followed_at = time.monotonic()
            await self._follow_shows()
        if len(self.rooms) > fair_share:
            # More workers joined: hand one room back per round, so load spreads calmly.
            await self._hand_back(next(iter(self.rooms)))
        for room in rooms:
            if len(self.rooms) >= fair_share:
                break
            if room in self.rooms:
                continue
            held_for_s = await self._take_lease(room)
            if held_for_s is not None:
                wait_s = min(wait_s, held_for_s + EXPIRY_MARGIN_S)
                continue
            try:
                await self._take_room(room)
            except LeaseLost:
                self._drop(room, "lease lost while recovering")
        return wait_s

    async def _count_live_workers(self) -> tuple[int, float | None]:
        """How many workers are alive (this one included), and how soon the first other
        one's heartbeat runs out (seconds), if there is another one. A worker of this
        machine whose process is gone is forgotten at once."""
        reply = await self._live_workers(keys=[keys.WORKERS])
        others = {name.decode(): int(left_ms) for name, left_ms in zip(reply[::2], reply[1::2])
                  if name.decode() != self.name}
        dead = [name for name in others if _died_here(name)]
        if dead:
            await self.redis.zrem(keys.WORKERS, *dead)
            log.info("worker.dead_workers_forgotten", workers=dead)
        alive = [left_ms for name, left_ms in others.items() if name not in dead]
        return 1 + len(alive), (min(alive) / 1000 if alive else None)

    async def _take_lease(self, room: str) -> float | None:
        """Takes the room's lease if it is free, ours, or held by a process of this
        machine that is gone. Returns None when the lease is ours, else how long its
        holder still has it (seconds)."""
        lease_key = keys.lease(room)
        reply = await self._acquire(keys=[lease_key], args=[self.name, self.lease_ttl_ms, ""])
        if reply[0] == 1:
            return None
        holder, left_ms = reply[1], int(reply[2])
        if _died_here(holder.decode()):
            reply = await self._acquire(keys=[lease_key], args=[self.name, self.lease_ttl_ms, holder])
            if reply[0] == 1:
                log.info("worker.lease_taken_from_dead_worker", room=room, holder=holder.decode())
                return None
            left_ms = int(reply[2])
        # A lease without an expiry (set by hand) is looked at again on the usual round.
        return (left_ms if left_ms >= 0 else self.lease_ttl_ms) / 1000

    async def _follow_shows(self) -> None:
        """A quiet room starts over too when its show starts (the screens show zeros).
        One round trip for every room; only a room whose show started is touched."""
        rooms = list(self.rooms)
        started = await run_all(self.redis, [lambda c, room=room: c.hget(keys.meta(room), "show_started_at")
                                             for room in rooms])
        for room, raw in zip(rooms, started):
            if room in self.rooms and raw and int(raw) > self.rooms[room].state.show_started_at:
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

    async def _take_room(self, room: str) -> None:
        raw_state, raw_last = await self.redis.hmget(keys.checkpoint(room), ["state", "last_id"])
        ledger_raw = await self.redis.hgetall(keys.order_statuses(room))
        last_text = raw_last.decode() if raw_last else "0-0"
        self.rooms[room] = OwnedRoom(
            state=RoomState.from_json(raw_state),
            ledger={k.decode(): int(v) for k, v in ledger_raw.items()},
            last_id=parse_id(last_text),
            last_id_text=last_text,
            read_id_text=last_text,
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
        """A clean stop: the leases and the heartbeat go in one round trip (so a stalled
        Redis holds the stop up for one timeout, not one per room), leases first, so that
        nobody sees this worker gone while its rooms still look held."""
        rooms = list(self.rooms)
        self.rooms.clear()
        try:
            await run_all(self.redis, [
                *(lambda c, room=room: self._release(keys=[keys.lease(room)], args=[self.name], client=c)
                  for room in rooms),
                lambda c: c.zrem(keys.WORKERS, self.name),
            ])
        except RedisError as exc:
            log.warning("worker.let_go_failed", error=f"{type(exc).__name__}: {exc}", rooms=rooms)
            return
        for room in rooms:
            log.info("worker.room_handed_back", room=room)

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
                keys.minute_distinct(room),
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


def _pid_space() -> str | None:
    """Names this boot of this machine's kernel and this PID namespace: workers that
    share it can tell whether another one's process is still running."""
    try:
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return hashlib.sha256(f"{boot_id} {namespace}".encode()).hexdigest()[:8]


PID_SPACE = _pid_space()


def worker_name() -> str:
    """host-pid-random@space: readable in logs, unique among Worker objects (several may
    run in one process), and telling another worker of the same PID space which process
    to look for."""
    name = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    return f"{name}@{PID_SPACE}" if PID_SPACE else name


def _died_here(worker: str) -> bool:
    """Whether this worker was a process of this PID space that is now gone. Only a
    certainty counts: a worker elsewhere, or a PID taken by another process since,
    is presumed alive (its lease runs out by itself)."""
    name, _, space = worker.rpartition("@")
    parts = name.rsplit("-", 2)
    if PID_SPACE is None or space != PID_SPACE or len(parts) != 3 or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it exists, under another user
    try:
        # A zombie runs no code any more: it just waits for its parent to reap it.
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone between the two looks
    return stat.rpartition(")")[2].split()[0] == "Z"


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
