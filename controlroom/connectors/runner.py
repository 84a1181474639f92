"""Runs one connection per connector binding of the rooms this process's worker holds.

The worker's room leases are the guard: a connection runs only while its room is held
here, so two workers never hold the same one, and when a worker dies its rooms (and with
them their connections) move to another within a lease TTL. Bindings are read from the
Redis lookup the hooks use (`cr:{bindings}:<platform>`), so no SQL is touched.

A connection that fails is started again after a backoff (1, 2, 4 … 30 s; back to 1 s
after it ran a minute). Its health — what the connector last reported, the error that
ended it, how many events it brought — is kept in the room's `connector_health` hash and
the room's screens are woken when its state changes (the tech screen shows it).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

import orjson
import structlog
from redis.exceptions import RedisError

from controlroom.bus import keys
from controlroom.bus.client import Bus
from controlroom.clock import Clock
from controlroom.connectors.base import ConnectorContext, ConnectorError, State, wait_or_stop
from controlroom.i18n import N_
from controlroom.observability import EVENTS_INGESTED
from controlroom.bus.pubsub import announce

log = structlog.get_logger(__name__)

# Connector kind (the binding's platform) -> the module that runs it.
CONNECTOR_MODULES = {
    "obs": "controlroom.connectors.obs",
    "bilibili": "controlroom.connectors.bilibili",
    "channels": "controlroom.connectors.channels",
}
ConnectorRun = Callable[[ConnectorContext, asyncio.Event], Awaitable[None]]

# Bindings are read from Redis this often; which of them this process runs follows the
# worker's held rooms every FOLLOW_S, so a room handed over or lost stops its connection
# at once (the new holder starts its own as soon as it has the lease).
REFRESH_S = 2.0
FOLLOW_S = 0.25
FLUSH_S = 1.0
# Health is rewritten this often even when nothing changed, so the tech screen can tell
# a connection nobody holds (its entry stops being renewed) from a quiet one.
# (The tech screen calls an entry older than live.view.CONNECTOR_STALE_MS unheld.)
HEALTH_RENEW_S = 5.0
MIN_BACKOFF_S, MAX_BACKOFF_S = 1.0, 30.0
HEALTHY_RUN_S = 60.0


def connector_runs() -> dict[str, ConnectorRun]:
    return {kind: importlib.import_module(module).run for kind, module in CONNECTOR_MODULES.items()}


def health_field(kind: str, external_id: str) -> str:
    return f"{kind}:{external_id}"


@dataclass
class Health:
    kind: str
    external: str
    state: State = "connecting"
    detail: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    since_ms: int = 0
    updated_ms: int = 0
    events: int = 0
    error: str = ""
    retry_s: int | None = None
    # Not stored: what the flusher still has to write.
    dirty: bool = True
    state_changed: bool = True

    def stored(self) -> bytes:
        return orjson.dumps({"kind": self.kind, "external": self.external, "state": self.state, "detail": self.detail,
                             "params": self.params, "since_ms": self.since_ms, "updated_ms": self.updated_ms,
                             "events": self.events, "error": self.error, "retry_s": self.retry_s})


@dataclass
class _Connection:
    room: str
    kind: str
    external_id: str
    secret: str
    stop: asyncio.Event
    task: asyncio.Task[None]
    health: Health


class ConnectorRunner:
    def __init__(self, bus: Bus, *, clock: Clock, rooms: Callable[[], list[str]],
                 runs: Mapping[str, ConnectorRun] | None = None, refresh_s: float = REFRESH_S) -> None:
        self.bus = bus
        self.clock = clock
        self.rooms = rooms
        self.runs = dict(runs) if runs is not None else connector_runs()
        self.refresh_s = refresh_s
        self.connections: dict[tuple[str, str, str], _Connection] = {}

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        bindings: dict[tuple[str, str, str], str] = {}
        next_refresh = next_flush = 0.0
        try:
            while not stop.is_set():
                if loop.time() >= next_refresh:
                    try:
                        bindings = await self._bindings()
                    except RedisError as exc:
                        log.warning("connectors.refresh_failed", error=str(exc))
                    next_refresh = loop.time() + self.refresh_s
                held = set(self.rooms())
                await self._follow({key: secret for key, secret in bindings.items() if key[0] in held}, bound=bindings)
                if loop.time() >= next_flush:
                    with contextlib.suppress(RedisError):
                        await self._flush()
                    next_flush = loop.time() + FLUSH_S
                await wait_or_stop(stop, FOLLOW_S)
        finally:
            await self._follow({}, bound=bindings)
            with contextlib.suppress(RedisError):
                await self._flush()

    async def _bindings(self) -> dict[tuple[str, str, str], str]:
        """(room, kind, external id) -> secret, for every connector binding."""
        pipe = self.bus.redis.pipeline(transaction=False)
        for kind in self.runs:
            pipe.hgetall(keys.bindings(kind))
        found = {}
        for kind, entries in zip(self.runs, await pipe.execute()):
            for external, raw in entries.items():
                binding = orjson.loads(raw)
                found[(binding["room"], kind, external.decode())] = binding["secret"]
        return found

    async def _follow(self, wanted: dict[tuple[str, str, str], str], *, bound: Mapping[tuple[str, str, str], str]) -> None:
        """Stop the connections no longer wanted (or whose secret changed), start the new.
        The health of a connection whose binding is gone is removed; one whose room moved
        to another worker is left for the new holder to overwrite."""
        ending = [key for key, c in self.connections.items() if wanted.get(key) != c.secret]
        for key in ending:
            self.connections[key].stop.set()
        for key in ending:
            connection = self.connections.pop(key)
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(connection.task, timeout=5)
            if key in bound:
                continue
            with contextlib.suppress(RedisError):
                await self.bus.redis.hdel(keys.connector_health(connection.room),
                                          health_field(connection.kind, connection.external_id))
                await announce(self.bus.redis, connection.room, b"connectors")
        for key, secret in wanted.items():
            if key not in self.connections:
                self.connections[key] = self._start(*key, secret)

    def _start(self, room: str, kind: str, external_id: str, secret: str) -> _Connection:
        now = self.clock.now_ms()
        health = Health(kind=kind, external=_shown(kind, external_id), since_ms=now, updated_ms=now)
        stop = asyncio.Event()
        task = asyncio.create_task(self._keep(room, kind, external_id, secret, stop, health),
                                   name=f"connector-{kind}-{room}")
        return _Connection(room, kind, external_id, secret, stop, task, health)

    async def _keep(self, room: str, kind: str, external_id: str, secret: str, stop: asyncio.Event,
                    health: Health) -> None:
        """Run the connection until `stop`, starting it again after each failure."""
        backoff = MIN_BACKOFF_S
        loop = asyncio.get_running_loop()

        def report(state: State, detail: str = "", **params: Any) -> None:
            if state != health.state:
                health.state, health.since_ms, health.state_changed = state, self.clock.now_ms(), True
            if state != "failing":
                health.error, health.retry_s = "", None
            health.detail, health.params, health.dirty = detail, params, True

        async def emit(events: list[dict[str, Any]]) -> None:
            if not events:
                return
            outcome = await self.bus.ingest(room, [(e["id"], orjson.dumps(e)) for e in events], [],
                                            key_hash=keys.PUSH_KEY, now_s=self.clock.now_ms() / 1000, sources={kind})
            EVENTS_INGESTED.labels(room=room).inc(outcome.accepted)
            health.events += outcome.accepted
            health.dirty = True

        ctx = ConnectorContext(room=room, external_id=external_id, secret=secret, clock=self.clock, emit=emit,
                               report=report)
        while not stop.is_set():
            started = loop.time()
            report("connecting", N_("connecting"))
            try:
                await self.runs[kind](ctx, stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a connection that fails is started again
                log.warning("connector.failed", room=room, kind=kind, error=str(exc))
                if isinstance(exc, ConnectorError):
                    report("failing", exc.detail, **exc.figures)
                else:
                    report("failing", N_("%(error)s"), error=str(exc)[:300] or type(exc).__name__)
                health.error, health.retry_s = str(exc)[:300], int(backoff)
            if loop.time() - started >= HEALTHY_RUN_S:
                backoff = MIN_BACKOFF_S
            if await wait_or_stop(stop, backoff):
                break
            backoff = min(backoff * 2, MAX_BACKOFF_S)
        report("stopped", N_("stopped"))

    async def _flush(self) -> None:
        """Write the health that changed (or is due for renewal); wake the screens of
        rooms where a connection changed state."""
        now = self.clock.now_ms()
        due = [c for c in self.connections.values()
               if c.health.dirty or now - c.health.updated_ms >= HEALTH_RENEW_S * 1000]
        if not due:
            return
        pipe = self.bus.redis.pipeline(transaction=False)
        woken = set()
        for c in due:
            c.health.updated_ms = now
            pipe.hset(keys.connector_health(c.room), health_field(c.kind, c.external_id), c.health.stored())
            if c.health.state_changed:
                woken.add(c.room)
        await pipe.execute()
        for room in woken:
            await announce(self.bus.redis, room, b"connectors")
        for c in due:
            c.health.dirty = c.health.state_changed = False


def _shown(kind: str, external_id: str) -> str:
    """What the tech screen may show of the binding's id: an encoder's address in full, a
    platform credential (a Bilibili 主播身份码) masked."""
    if kind == "obs":
        return external_id
    return external_id[:3] + "…" + external_id[-2:] if len(external_id) > 8 else external_id
