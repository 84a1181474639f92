"""Is SQL answering? Each process keeps its own view, fed by a watcher that pings SQL
every second and by any caller that saw SQL fail; the screens learn of an outage from
a key in Redis that the watcher keeps fresh while it lasts."""

from __future__ import annotations

import asyncio
import weakref
from concurrent.futures import ThreadPoolExecutor

import orjson
import redis.asyncio as aioredis
import structlog
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus import keys
from controlroom.clock import Clock

log = structlog.get_logger(__name__)

PING_EVERY_S = 1.0
# How long one check waits for its ping.
PING_TIMEOUT_S = 1.5
# A ping still unanswered after this long means "down": a blackholed server never
# answers at all. One slow ping does not: on a machine pegged by other work a healthy
# server can take over a second, and "down" refuses every request that needs SQL.
PING_DOWN_AFTER_S = 3.0
# The key outlives a few missed refreshes, and no more: a watcher that died with its
# process cannot leave "down" behind for good.
HEALTH_KEY_TTL_S = 5


class DatabaseAway(Exception):
    """Refused without trying: this process knows SQL is away (its watch says so)."""


def database_unavailable(exc: BaseException) -> bool:
    """SQL failures that mean "the database is away", not "this query is wrong": lost or
    refused connections, timeouts, a full pool."""
    if isinstance(exc, (PoolTimeoutError, DatabaseAway)):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        name = type(exc.orig).__name__ if exc.orig is not None else ""
        return name in {"OperationalError", "InterfaceError", "QueryCanceled", "ConnectionTimeout",
                        "ConnectionFailure", "AdminShutdown", "CannotConnectNow"}
    return False


class DatabaseHealth:
    """This process's view: down since when, and why."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.down_since_ms: int | None = None
        self.answers = 0  # pings answered so far: "has it answered since …?"
        self.error = ""

    @property
    def down(self) -> bool:
        return self.down_since_ms is not None

    def failed(self, exc: BaseException | str) -> None:
        self.error = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        if self.down_since_ms is None:
            self.down_since_ms = self.clock.now_ms()
            log.warning("database.down", error=self.error)

    def answered(self) -> None:
        if self.down_since_ms is not None:
            log.info("database.back", down_for_ms=self.clock.now_ms() - self.down_since_ms)
        self.down_since_ms = None
        self.answers += 1
        self.error = ""


# The health of each engine a watch looks after, for `refuse_while_away`.
_HEALTH_OF: "weakref.WeakKeyDictionary[Engine, DatabaseHealth]" = weakref.WeakKeyDictionary()


def refuse_while_away(sessions: sessionmaker[Session]) -> None:
    """Fail fast while SQL is known to be away: every request would otherwise wait for
    a connect timeout, and hold a thread meanwhile. The watch finds out within a
    second when it is back."""
    health = _HEALTH_OF.get(sessions.kw.get("bind"))
    if health is not None and health.down:
        raise DatabaseAway(health.error or "the database is unavailable")


class DatabaseWatch:
    """Pings SQL every second on a thread of its own (a hung ping never takes a thread
    that requests need), and keeps the shared health key in Redis."""

    def __init__(self, sessions: sessionmaker[Session], redis: aioredis.Redis, health: DatabaseHealth) -> None:
        self.sessions = sessions
        self.redis = redis
        self.health = health
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="database-watch")
        if sessions.kw.get("bind") is not None:
            _HEALTH_OF[sessions.kw["bind"]] = health
        self._ping: asyncio.Future | None = None
        self._ping_sent = 0.0

    def _select_one(self) -> None:
        with self.sessions() as session:
            session.execute(text("SELECT 1"))

    async def check(self) -> bool:
        loop = asyncio.get_running_loop()
        if self._ping is None or self._ping.done():
            self._ping = loop.run_in_executor(self._thread, self._select_one)
            self._ping_sent = loop.time()
            # A ping given up on still ends (in error, usually): its outcome is not news.
            self._ping.add_done_callback(lambda ping: ping.cancelled() or ping.exception())
        try:
            await asyncio.wait_for(asyncio.shield(self._ping), timeout=PING_TIMEOUT_S)
        except asyncio.TimeoutError:
            if loop.time() - self._ping_sent >= PING_DOWN_AFTER_S:
                self.health.failed(f"no answer within {PING_DOWN_AFTER_S:g} s")
        except Exception as exc:  # noqa: BLE001 - any failure to answer SELECT 1 is "down"
            self.health.failed(exc)
        else:
            self.health.answered()
        await self._tell_screens()
        return not self.health.down

    async def _tell_screens(self) -> None:
        try:
            if self.health.down:
                await self.redis.set(keys.DATABASE_HEALTH, orjson.dumps(
                    {"down_since": self.health.down_since_ms, "error": self.health.error}), ex=HEALTH_KEY_TTL_S)
            else:
                await self.redis.delete(keys.DATABASE_HEALTH)
        except Exception as exc:  # noqa: BLE001 - Redis being away is told elsewhere
            log.debug("database.health_not_shared", error=str(exc))

    async def run(self, stop: asyncio.Event | None = None) -> None:
        try:
            while stop is None or not stop.is_set():
                await self.check()
                await asyncio.sleep(PING_EVERY_S)
        finally:
            self._thread.shutdown(wait=False, cancel_futures=True)
