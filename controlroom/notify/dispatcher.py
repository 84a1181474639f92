"""Delivering notices to the team's chats, apart from the alert engine.

Every serving process runs a dispatcher; they share the notices stream through a Redis
consumer group, so each notice is taken by one of them. A notice goes to every channel
of its room that wants it (level, event). Each channel has its own queue and keeps to
its platform's documented rate limit: when the limit is reached, what waits is sent as
one message when it allows again (a burst of alerts becomes one message with a line
each, not lost and not refused). A failed send is retried with backoff (1, 2, 4, 8,
16 s); every outcome is written to the channel's delivery log.

Nothing queued is lost with its process: a notice stays pending in the consumer group
until every channel it went to has sent it (or given up on it). The holder renews its
pending notices every CLAIM_S; notices another dispatcher left pending longer than
ABANDONED_MS (it died, or was killed) are claimed and sent. The channels are read from
SQL; while SQL is away the last channels read are used, so alerts raised meanwhile
still reach the chats.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

import httpx
import orjson
import redis.asyncio as aioredis
import structlog
from redis.exceptions import ResponseError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus import keys
from controlroom.db.session import run_in_transaction
from controlroom.notify.messages import render
from controlroom.notify.models import NotifyChannel, NotifyDelivery
from controlroom.notify.notices import wants
from controlroom.notify.robots import RATE_LIMITS, accepted, request_for
from controlroom.notify.secrets import Sealer
from controlroom.rooms.models import Room

log = structlog.get_logger(__name__)

CHANNELS_S = 10.0  # channels are read from SQL again this often
BLOCK_MS = 500
MAX_PER_MESSAGE = 10
BACKOFF_S = (1, 2, 4, 8, 16)
SEND_TIMEOUT_S = 10.0
CLAIM_S = 15.0
ABANDONED_MS = 60_000


class RateLimit:
    """A robot's documented limits, all at once: (most messages, per seconds) pairs."""

    def __init__(self, limits: tuple[tuple[int, int], ...], clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.sent: deque[float] = deque()

    def wait_s(self) -> float:
        """Seconds until one more message is allowed (0: now)."""
        now = self.clock()
        longest = max(per for _, per in self.limits)
        while self.sent and now - self.sent[0] >= longest:
            self.sent.popleft()
        wait = 0.0
        for most, per in self.limits:
            recent = [at for at in self.sent if now - at < per]
            if len(recent) >= most:
                wait = max(wait, recent[-most] + per - now)
        return wait

    def note(self) -> None:
        self.sent.append(self.clock())


@dataclass
class _Queue:
    channel: dict[str, Any]
    limit: RateLimit
    # (stream entry id, notice)
    waiting: deque[tuple[bytes, dict[str, Any]]] = field(default_factory=deque)
    attempt: int = 0
    not_before: float = 0.0
    sending: asyncio.Task[None] | None = None


def channels_of(session: Session, sealer: Sealer) -> list[dict[str, Any]]:
    rows = session.execute(select(NotifyChannel, Room.slug, Room.name).join(Room, Room.id == NotifyChannel.room_id))
    return [
        {"id": c.id, "room": slug, "room_name": name, "kind": c.kind, "name": c.name, "url": sealer.open(c.url_sealed),
         "secret": sealer.open(c.secret_sealed), "levels": list(c.levels), "events": list(c.events),
         "enabled": c.enabled}
        for c, slug, name in rows
    ]


def log_delivery(session: Session, *, channel_id: int, status: str, attempt: int, notices: int, title: str,
                 detail: str, now: datetime) -> None:
    session.add(NotifyDelivery(channel_id=channel_id, at=now, status=status, attempt=attempt, notices=notices,
                               title=title[:200], detail=detail[:300]))


async def send(http: httpx.AsyncClient, channel: dict[str, Any], notices: list[dict[str, Any]], *, link: Callable,
               locale: str, now_ms: int) -> tuple[bool, str, str]:
    """One message with these notices to the channel: (delivered, title, what came of it)."""
    title, text = render(notices, channel=channel, link=link, locale=locale)
    request = request_for(channel["kind"], channel["url"], channel["secret"], title=title, text=text, notices=notices,
                          now_ms=now_ms)
    try:
        response = await http.post(request.url, content=request.body, headers=request.headers, timeout=SEND_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return False, title, f"{type(exc).__name__}: {exc}"[:300]
    ok, detail = accepted(channel["kind"], response.status_code, response.content)
    return ok, title, detail


class Dispatcher:
    def __init__(self, redis: aioredis.Redis, sessions: sessionmaker[Session], *, sealer: Sealer,
                 link: Callable[[dict[str, Any]], str], locale: str, consumer: str,
                 http: httpx.AsyncClient | None = None) -> None:
        self.redis = redis
        self.sessions = sessions
        self.sealer = sealer
        self.link = link
        self.locale = locale
        self.consumer = consumer
        self.http = http or httpx.AsyncClient()
        self.queues: dict[int, _Queue] = {}
        self._channels: list[dict[str, Any]] = []
        self._channels_at = 0.0
        # notice entry id -> channels still to send it; acknowledged when none is left
        self.unsettled: dict[bytes, int] = {}
        self._claimed_at = 0.0

    async def run(self, stop: asyncio.Event) -> None:
        await self._ensure_group()
        while not stop.is_set():
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - logged, the next round goes on
                log.warning("notify.round_failed", error=str(exc))
                await asyncio.sleep(1)
        for queue in self.queues.values():
            if queue.sending is not None:
                queue.sending.cancel()
        await self.http.aclose()

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(keys.NOTICES, keys.NOTIFIERS, id="$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def round(self) -> None:
        if time.monotonic() - self._channels_at > CHANNELS_S:
            try:
                self._channels = await run_in_transaction(self.sessions, lambda s: channels_of(s, self.sealer))
            except Exception as exc:  # noqa: BLE001 - SQL away: the channels last read still hold
                log.warning("notify.channels_unread", error=str(exc))
            self._channels_at = time.monotonic()
        if time.monotonic() - self._claimed_at > CLAIM_S:
            await self._claim()
        reply = await self.redis.xreadgroup(keys.NOTIFIERS, self.consumer, {keys.NOTICES: ">"}, count=200,
                                            block=BLOCK_MS)
        for _, entries in reply or []:
            await self._take(entries)
        for queue in self.queues.values():
            self._maybe_send(queue)

    async def _take(self, entries: list) -> None:
        for entry_id, fields in entries:
            if entry_id in self.unsettled or not fields:
                continue
            notice = orjson.loads(fields[b"n"])
            channels = [channel for channel in self._channels if wants(channel, notice)]
            for channel in channels:
                self._queue(channel).waiting.append((entry_id, notice))
            self.unsettled[entry_id] = len(channels)
            if not channels:
                await self._settle([entry_id])

    async def _claim(self) -> None:
        """Renew what this dispatcher holds; take what a dead one left."""
        self._claimed_at = time.monotonic()
        held = list(self.unsettled)
        if held:
            await self.redis.xclaim(keys.NOTICES, keys.NOTIFIERS, self.consumer, min_idle_time=0,
                                    message_ids=held, justid=True)
        _, entries, *_ = await self.redis.xautoclaim(keys.NOTICES, keys.NOTIFIERS, self.consumer,
                                                     min_idle_time=ABANDONED_MS, start_id="0-0", count=200)
        if entries:
            log.info("notify.claimed", notices=len(entries))
            await self._take(entries)

    async def _settle(self, entry_ids: list[bytes]) -> None:
        done = []
        for entry_id in entry_ids:
            left = self.unsettled.get(entry_id, 1) - 1
            if left <= 0:
                self.unsettled.pop(entry_id, None)
                done.append(entry_id)
            else:
                self.unsettled[entry_id] = left
        if done:
            await self.redis.xack(keys.NOTICES, keys.NOTIFIERS, *done)

    def reload_channels(self) -> None:
        self._channels_at = 0.0

    def _queue(self, channel: dict[str, Any]) -> _Queue:
        queue = self.queues.get(channel["id"])
        if queue is None:
            queue = self.queues[channel["id"]] = _Queue(channel, RateLimit(RATE_LIMITS[channel["kind"]]))
        queue.channel = channel  # the newest settings (url, secret) for the next send
        return queue

    def _maybe_send(self, queue: _Queue) -> None:
        if not queue.waiting or (queue.sending is not None and not queue.sending.done()):
            return
        if time.monotonic() < queue.not_before or queue.limit.wait_s() > 0:
            return
        batch = [queue.waiting.popleft() for _ in range(min(MAX_PER_MESSAGE, len(queue.waiting)))]
        queue.limit.note()
        queue.sending = asyncio.create_task(self._deliver(queue, batch), name=f"notify-{queue.channel['id']}")

    async def _deliver(self, queue: _Queue, batch: list[tuple[bytes, dict[str, Any]]]) -> None:
        queue.attempt += 1
        attempt = queue.attempt
        now = datetime.now(timezone.utc)
        ok, title, detail = await send(self.http, queue.channel, [notice for _, notice in batch], link=self.link,
                                       locale=self.locale, now_ms=int(now.timestamp() * 1000))
        if ok:
            status, queue.attempt, queue.not_before = "sent", 0, 0.0
        elif attempt <= len(BACKOFF_S):
            status = "retrying"
            queue.waiting.extendleft(reversed(batch))
            queue.not_before = time.monotonic() + BACKOFF_S[attempt - 1]
        else:
            status, queue.attempt, queue.not_before = "failed", 0, 0.0
        if status != "retrying":
            try:
                await self._settle([entry_id for entry_id, _ in batch])
            except Exception as exc:  # noqa: BLE001 - left pending: renewed, or claimed again later
                log.warning("notify.ack_failed", error=str(exc))
        log.info("notify.delivery", channel=queue.channel["id"], status=status, notices=len(batch), detail=detail)
        try:
            await run_in_transaction(self.sessions, lambda s: log_delivery(
                s, channel_id=queue.channel["id"], status=status, attempt=attempt, notices=len(batch), title=title,
                detail=detail, now=now))
        except Exception as exc:  # noqa: BLE001 - the log is for people; delivery goes on
            log.warning("notify.log_failed", error=str(exc))
