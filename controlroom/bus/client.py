"""The Redis side of controlroom: connection, room registration and the ingest write."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisClusterException, ResponseError

from controlroom.bus import keys, scripts
from controlroom.settings import Settings

_DEFAULT_CONNECT_TIMEOUT_S: float = Settings.model_fields["redis_connect_timeout_s"].default
_DEFAULT_SOCKET_TIMEOUT_S: float = Settings.model_fields["redis_socket_timeout_s"].default


def connect(
    url: str,
    *,
    connect_timeout_s: float = _DEFAULT_CONNECT_TIMEOUT_S,
    socket_timeout_s: float = _DEFAULT_SOCKET_TIMEOUT_S,
    longest_block_ms: int = 0,
) -> aioredis.Redis:
    """A client whose every call gives up after the given timeouts, whatever the library's
    defaults (redis-py 5 waited forever on a stalled server, 8 waits 5 s).

    `longest_block_ms` is the longest server-side block this client's callers ask for
    (the worker's XREAD BLOCK): the socket timeout stays above it, so an idle blocking
    read is not taken for a stalled server. Pub/sub is not concerned: redis-py >= 8.1
    waits on a subscription without the socket timeout.

    Nothing is re-sent by the library: a command that timed out may still run once Redis
    wakes up, and not every script's effects can be repeated (CHECKPOINT lowers the
    backlog counter). Whoever sees the error starts over from what Redis holds: the
    worker from its checkpoints, senders by posting again (repeats are dropped by id).
    """
    options = dict(
        # Bytes in and out: payloads are JSON bytes and never need decoding on the way through.
        decode_responses=False,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=max(socket_timeout_s, longest_block_ms / 1000 + 1),
        retry=Retry(NoBackoff(), 0),
    )
    cluster_url = as_cluster_url(url)
    if cluster_url is not None:
        # Any node of the cluster: the client learns the others and each slot's owner.
        # Commands a cluster pipeline refuses go concurrently (run_all): room for them.
        return RedisCluster.from_url(cluster_url, max_connections=CLUSTER_CONNECTIONS_PER_NODE, **options)
    return aioredis.Redis.from_url(url, health_check_interval=30, **options)


CLUSTER_CONNECTIONS_PER_NODE = 1000
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def as_cluster_url(url: str) -> str | None:
    """The plain URL of a Redis Cluster node when `url` names a cluster
    (`redis+cluster://host:port`), else None."""
    scheme, sep, rest = url.partition("://")
    return f"{CLUSTER_SCHEMES[scheme]}://{rest}" if sep and scheme in CLUSTER_SCHEMES else None


def is_cluster(client: aioredis.Redis) -> bool:
    return isinstance(client, RedisCluster)


async def run_all(client: aioredis.Redis, calls: Sequence[Callable[[Any], Any]]) -> list[Any]:
    """Run commands together, answers in order; each call(c) issues one command on `c`.
    One Redis: a single pipeline round trip. A cluster pipeline refuses scripts, PFCOUNT
    and PUBLISH: those are sent on their own, concurrently with the pipeline (each goes
    straight to the node that owns its slot)."""
    pipe = client.pipeline(transaction=False)
    queued, direct = [], []
    for index, call in enumerate(calls):
        try:
            issued = call(pipe)
            # A registered script queues itself asynchronously; a command returns the
            # pipeline, which is awaitable too (and must not be awaited: that resets it).
            if issued is not pipe and inspect.isawaitable(issued):
                await issued
            queued.append(index)
        except RedisClusterException:  # refused by a cluster pipeline: sent on its own
            direct.append(index)
    results: list[Any] = [None] * len(calls)
    answers = await asyncio.gather(pipe.execute(), *(calls[index](client) for index in direct))
    for index, answer in zip(queued, answers[0]):
        results[index] = answer
    for index, answer in zip(direct, answers[1:]):
        results[index] = answer
    return results


async def ready(client: aioredis.Redis) -> aioredis.Redis:
    """The client, with a cluster's slot map read before first use (redis-py 8.1 fails a
    transaction pipeline that is a cluster client's very first command)."""
    if is_cluster(client):
        await client.initialize()
    return client


def connect_for(settings: Settings, url: str, *, longest_block_ms: int = 0) -> aioredis.Redis:
    """`connect` with the timeouts the settings give."""
    return connect(url, connect_timeout_s=settings.redis_connect_timeout_s,
                   socket_timeout_s=settings.redis_socket_timeout_s, longest_block_ms=longest_block_ms)


async def ensure_group(client: aioredis.Redis, room: str) -> None:
    """The room's consumer group, from id 0 so events written before any worker
    started are not skipped."""
    try:
        await client.xgroup_create(keys.stream(room), keys.CONSUMER_GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


# A Redis stream entry id: (milliseconds, sequence).
StreamId = tuple[int, int]


def parse_id(raw: bytes | str) -> StreamId:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


async def known_rooms(client: aioredis.Redis) -> list[str]:
    """The slugs of every room ingest and workers know (published from SQL)."""
    return sorted(member.decode() for member in await client.smembers(keys.ROOMS))


class UnknownRoom(Exception):
    pass


class InvalidApiKey(Exception):
    """No valid ingest key of this room was sent."""


class BacklogFull(Exception):
    """The room's workers are too far behind; the sender should retry later."""


@dataclass
class IngestOutcome:
    accepted: int
    duplicate_indexes: list[int]


class Bus:
    def __init__(
        self, client: aioredis.Redis, *, max_backlog: int, dead_maxlen: int, dedup_window_s: int
    ) -> None:
        self.redis = client
        self.max_backlog = max_backlog
        self.dead_maxlen = dead_maxlen
        self.dedup_window_s = dedup_window_s
        self._ingest = client.register_script(scripts.INGEST)
        self._publish_keys = client.register_script(scripts.PUBLISH_KEYS)

    @classmethod
    def from_settings(cls, client: aioredis.Redis, settings: Settings) -> "Bus":
        return cls(
            client,
            max_backlog=settings.max_backlog,
            dead_maxlen=settings.dead_letter_maxlen,
            dedup_window_s=settings.dedup_window_s,
        )

    async def register_room(self, room: str, *, name: str) -> None:
        """Make a room known to ingest and workers (idempotent)."""
        await self.redis.hset(keys.meta(room), mapping={"name": name})
        await ensure_group(self.redis, room)
        await self.redis.sadd(keys.ROOMS, room)

    async def publish_api_keys(self, room: str, key_hashes: list[str], *, as_of_ms: int) -> bool:
        """Replace the room's valid ingest keys in one step (revoked ones drop out),
        unless a snapshot read later than `as_of_ms` is already there."""
        # Platform pushes are authenticated by their signature before they get here; they
        # write with PUSH_KEY, which no sent key can hash to (it is not hex).
        return bool(await self._publish_keys(
            keys=[keys.api_keys(room), keys.api_keys_as_of(room)], args=[as_of_ms, *key_hashes, keys.PUSH_KEY]
        ))

    async def key_is_valid(self, room: str, key_hash: str) -> bool:
        return keys.ROOM_SLUG.match(room) is not None and bool(await self.redis.hexists(keys.api_keys(room), key_hash))

    async def room_name(self, room: str) -> str | None:
        if not keys.ROOM_SLUG.match(room):
            return None
        name = await self.redis.hget(keys.meta(room), "name")
        return name.decode() if name is not None else None

    async def ingest(
        self,
        room: str,
        events: list[tuple[str, bytes]],
        dead: list[tuple[bytes, bytes]],
        *,
        key_hash: str,
        now_s: float | None = None,
        sources: Iterable[str] = (),
    ) -> IngestOutcome:
        """Write a batch atomically: new events to the stream, repeats counted and
        dropped, rejected items to the dead-letter stream; or nothing at all. `sources`:
        the feeds the batch came from, each heard from now (feed silence per source)."""
        if not keys.ROOM_SLUG.match(room):
            raise InvalidApiKey(room)
        window = int((now_s if now_s is not None else time.time()) // self.dedup_window_s)
        args = [
            self.dead_maxlen,
            2 * self.dedup_window_s,
            self.max_backlog,
            orjson.dumps([event_id for event_id, _ in events]),
            b"\n".join(payload for _, payload in events),
            orjson.dumps([[raw.decode(errors="replace"), reason.decode()] for raw, reason in dead]),
            key_hash,
            orjson.dumps(sorted(set(sources))),
            keys.MAX_SOURCES,
        ]
        result = await self._ingest(
            keys=[
                keys.meta(room),
                keys.stream(room),
                keys.seen_ids(room, window),
                keys.seen_ids(room, window - 1),
                keys.dead_letters(room),
                keys.backlog(room),
                keys.api_keys(room),
                keys.source_arrivals(room),
            ],
            args=args,
        )
        if result == -3:
            raise InvalidApiKey(room)
        if result == -1:
            raise UnknownRoom(room)
        if result == -2:
            raise BacklogFull(room)
        accepted, duplicates = result
        return IngestOutcome(accepted=int(accepted), duplicate_indexes=[int(i) for i in duplicates])
