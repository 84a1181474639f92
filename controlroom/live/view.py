"""The one reader of a room's live state in Redis.

The screens, the alert engine and the minute archive all read a room through here:
its checkpointed state (controlroom/metrics), its distinct people, and every declared
projection of SQL (controlroom/live/projections.py). What the screens get is a typed
`RoomView`, built from one pipelined round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import redis.asyncio as aioredis

from controlroom.bus import keys
from controlroom.bus.client import run_all
from controlroom.clock import Clock
from controlroom.live.projections import REGISTRY, ViewOptions
from controlroom.metrics.state import USER_SETS, WINDOWED_SETS, RoomState
from controlroom.metrics.view import change_windows, room_view


@dataclass
class RoomView:
    """A room as its screens show it at `now_ms`: the numbers of metrics/view.py, and
    each projection by name. Templates read it as `v`."""

    room: str
    now_ms: int
    online: int
    peak_online: int
    viewers: int
    viewers_total: int
    views: int
    avg_stay_s: float | None
    interaction_rate: float | None
    like_rate: float | None
    comments: int
    comments_per_min: float
    entries_per_min: int
    likes: int
    likes_per_min: float
    gifts: int
    gift_value_cents: int
    follows: int
    shares: int
    product_clicks: int
    orders_created: int
    orders_paid: int
    gmv_cents: int
    refunds: int
    refund_cents: int
    conversion_rate: float | None
    aov_cents: float | None
    uv_value_cents: float | None
    gpm_cents: float | None
    products: list[dict[str, Any]]
    hot_words: list[Any]
    hot_questions: list[dict[str, Any]]
    series: dict[str, list]
    funnel: list[dict[str, Any]]
    changes: dict[str, float | None]
    traffic: dict[str, Any]
    targets: dict[str, Any]
    stream_status: str
    latency_ms: int | None
    bitrate_kbps: int | None
    dropped_share: float | None
    events_applied: int
    last_event_ts: int | None
    feed_age_ms: int | None
    feed_stale: bool
    recent_comments: list[dict[str, Any]]
    # Every stored projection (of the room and shared), by its declared name.
    projections: dict[str, Any] = field(default_factory=dict)
    # {"down_since": ms, "error": "..."} while SQL is unreachable, else None.
    database_down: dict[str, Any] | None = None
    # The room's encoder and platform connections, as their worker reports them.
    connectors: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, state: RoomState, *, room: str, now_ms: int, projections: dict[str, Any],
           distinct: dict[str, int] | None = None, window_distinct: dict[str, dict[str, int]] | None = None,
           targets: dict[str, Any] | None = None, arrived_ms: int | None = None) -> "RoomView":
        numbers = room_view(state, now_ms=now_ms, distinct=distinct, window_distinct=window_distinct, targets=targets,
                            arrived_ms=arrived_ms, listed_products=(projections.get("show") or {}).get("products") or ())
        return cls(room=room, now_ms=now_ms, projections=projections, **numbers)

    # The projections the built-in panels read, by the names their partials use.
    @property
    def alerts(self) -> dict[str, Any]:
        return self.projections["alerts"]

    @property
    def show(self) -> dict[str, Any] | None:
        return self.projections["show"]

    @property
    def host_messages(self) -> list[dict[str, Any]]:
        return self.projections["host-messages"]

    @property
    def playbooks(self) -> dict[str, Any]:
        return {"runs": self.projections["playbooks"]["runs"], "available": self.projections["playbook-catalogue"]}

    @property
    def categories(self) -> list[list[str]]:
        """[key, name, name_en] of each moderation category, for the feed's filter."""
        return self.projections["lexicon-categories"]

    @property
    def quick_replies(self) -> dict[str, Any]:
        return self.projections["quick-replies"]


@dataclass
class LiveState:
    """A room's checkpointed numbers and its distinct people so far, and where its feed
    stands: when ingest last accepted an event for it and when the newest event applied
    so far had been accepted (stream ids are the arrival time in ms)."""

    state: RoomState
    distinct: dict[str, int]
    arrived_ms: int | None = None
    applied_arrival_ms: int | None = None
    # source -> when ingest last heard from it (ms)
    source_arrivals: dict[str, int] = field(default_factory=dict)
    # The stream entry the recorder has reached (its arrival, ms), and since when the
    # room's recording keeps failing (ms), if it does.
    recorded_ms: int | None = None
    recording_failing_since_ms: int | None = None

    def recording_behind_ms(self, now_ms: int) -> int:
        """How far the show's recording trails what ingest accepted, or how long it has
        been failing: 0 while it keeps up (a room never recorded yet has no figure)."""
        behind = 0
        if self.arrived_ms is not None and self.recorded_ms is not None:
            behind = max(0, self.arrived_ms - self.recorded_ms)
        if self.recording_failing_since_ms is not None:
            behind = max(behind, now_ms - self.recording_failing_since_ms)
        return behind

    @property
    def behind_ms(self) -> int:
        """How far processing trails ingest: 0 when every accepted event is applied."""
        if self.arrived_ms is None or self.applied_arrival_ms is None:
            return 0
        return max(0, self.arrived_ms - self.applied_arrival_ms)


def _arrival_ms(stream_id: bytes | str | None) -> int | None:
    """When ingest accepted the entry: a stream id's first part, in ms."""
    if not stream_id:
        return None
    text = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    try:
        return int(text.split("-", 1)[0]) or None
    except ValueError:
        return None


def _newest_arrival_ms(newest_entries: list) -> int | None:
    """From XREVRANGE … COUNT 1: when ingest last accepted an event for the room."""
    return _arrival_ms(newest_entries[0][0]) if newest_entries else None


async def read_live_state(client: aioredis.Redis, room: str) -> LiveState:
    pipe = client.pipeline(transaction=False)
    pipe.hmget(keys.checkpoint(room), ["state", "last_id"])
    pipe.xrevrange(keys.stream(room), count=1)
    pipe.hgetall(keys.source_arrivals(room))
    pipe.get(keys.recorded(room))
    pipe.get(keys.recording_failure(room))
    for kind in USER_SETS:
        pipe.scard(keys.users(room, kind))
    (raw, last_applied), newest, sources, recorded, failure, *counts = await pipe.execute()
    return LiveState(RoomState.from_json(raw), dict(zip(USER_SETS, counts)),
                     arrived_ms=_newest_arrival_ms(newest),
                     applied_arrival_ms=_arrival_ms(last_applied),
                     source_arrivals={source.decode(errors="replace"): int(ms) for source, ms in sources.items()},
                     recorded_ms=_arrival_ms(recorded),
                     recording_failing_since_ms=orjson.loads(failure)["since"] if failure else None)


# A connection whose health its worker has not renewed for this long (it renews every
# 5 s, connectors/runner.py) is held by no worker: none holds the room, or it died.
CONNECTOR_STALE_MS = 20_000


def read_connector_health(raw: dict[bytes, bytes], now_ms: int) -> list[dict[str, Any]]:
    """The room's encoder and platform connections for the tech screen, `stale` set on
    those no worker renewed lately."""
    found = []
    for value in raw.values():
        health = orjson.loads(value)
        health["stale"] = now_ms - health.get("updated_ms", 0) > CONNECTOR_STALE_MS
        found.append(health)
    return sorted(found, key=lambda h: (h["kind"], h["external"]))


async def read_room_view(client: aioredis.Redis, room: str, clock: Clock, options: ViewOptions) -> RoomView:
    now_ms = clock.now_ms()
    windows = change_windows(now_ms)
    stored = [p for p in REGISTRY.values() if p.stored_as_json]
    calls = [lambda c: c.hget(keys.checkpoint(room), "state")]
    calls += [lambda c, key=projection.key(room): c.get(key) for projection in stored]
    calls += [lambda c, key=keys.users(room, kind): c.scard(key) for kind in USER_SETS]
    calls += [lambda c, window=[keys.window_users(room, kind, m) for m in range(start, end, 60_000)]: c.pfcount(*window)
              for start, end in windows.values() for kind in WINDOWED_SETS]
    calls += [lambda c: c.get(keys.DATABASE_HEALTH), lambda c: c.xrevrange(keys.stream(room), count=1),
              lambda c: c.hgetall(keys.connector_health(room))]
    raw, *rest, database_health, newest, connector_health = await run_all(client, calls)
    raw_projections, counts = rest[: len(stored)], rest[len(stored):]
    distinct = dict(zip(USER_SETS, counts[: len(USER_SETS)]))
    windowed = iter(counts[len(USER_SETS):])
    window_distinct = {name: {kind: next(windowed) for kind in WINDOWED_SETS} for name in windows}
    projections = {p.name: p.read(value, now_ms, options) for p, value in zip(stored, raw_projections)}
    view = RoomView.of(
        RoomState.from_json(raw), room=room, now_ms=now_ms, projections=projections, distinct=distinct,
        window_distinct=window_distinct, targets=projections.get("targets"), arrived_ms=_newest_arrival_ms(newest),
    )
    view.database_down = orjson.loads(database_health) if database_health else None
    view.connectors = read_connector_health(connector_health, now_ms)
    return view


async def read_minute_distinct(client: aioredis.Redis, room: str) -> dict[int, dict[str, int]]:
    """Per complete minute already counted, the distinct people of each windowed kind."""
    raw = await client.hgetall(keys.minute_distinct(room))
    return {int(minute): orjson.loads(value) for minute, value in raw.items()}


async def count_minute_distinct(
    client: aioredis.Redis, room: str, minutes: list[int], *, forget_before_ms: int | None = None
) -> dict[int, dict[str, int]]:
    """Count the given minutes from their short-lived HyperLogLogs and keep the counts
    in the room's hash (the HyperLogLogs expire; the archive and the rules need them)."""
    if not minutes:
        return {}
    counts = iter(await run_all(client, [lambda c, key=keys.window_users(room, kind, minute): c.pfcount(key)
                                         for minute in minutes for kind in WINDOWED_SETS]))
    new = {minute: {kind: next(counts) for kind in WINDOWED_SETS} for minute in minutes}
    pipe = client.pipeline(transaction=False)
    pipe.hset(keys.minute_distinct(room), mapping={m: orjson.dumps(c) for m, c in new.items()})
    if forget_before_ms is not None:
        known = await client.hkeys(keys.minute_distinct(room))
        stale = [m for m in known if int(m) < forget_before_ms]
        if stale:
            pipe.hdel(keys.minute_distinct(room), *stale)
    await pipe.execute()
    return new
