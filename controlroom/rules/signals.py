"""What rules look at: a room's numbers at one moment, as plain data (pure).

The alert engine builds a RoomSignals from the checkpointed state, the distinct-people
counts kept in Redis and baselines read from SQL; the evaluator then needs nothing
else, so every condition is tested with hand-made signals and a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from controlroom.metrics.state import (
    M_COMMENTS,
    M_ENTERS,
    M_FOLLOWS,
    M_GMV,
    M_LIKES,
    M_ONLINE,
    M_PAID,
    RoomState,
)
from controlroom.metrics.view import room_view

# How a metric's window value is formed from its per-minute series.
GAUGE, FLOW, RATE = "gauge", "flow", "rate"

# Metrics a condition may name: name -> (zh label, en label, how it aggregates over minutes
# or None when it has no per-minute series).
METRICS: dict[str, tuple[str, str, str | None]] = {
    "online": ("实时在线", "online now", GAUGE),
    "peak_online": ("峰值在线", "peak online", None),
    "viewers": ("累计观看人数", "viewers (UV)", None),
    "views": ("观看次数", "views (PV)", None),
    "avg_stay_s": ("人均停留(秒)", "avg stay (s)", None),
    "interaction_rate": ("互动率", "interaction rate", RATE),
    "conversion_rate": ("成交转化率", "conversion rate", RATE),
    "like_rate": ("点赞率", "like rate", None),
    "comments": ("评论数", "comments", FLOW),
    "comments_per_min": ("每分钟评论", "comments/min", None),
    "likes": ("点赞数", "likes", FLOW),
    "likes_per_min": ("每分钟点赞", "likes/min", None),
    "follows": ("新增粉丝", "new followers", FLOW),
    "enters": ("进房次数", "room entries", FLOW),
    "gift_value_cents": ("礼物价值(分)", "gift value (fen)", None),
    "orders_created": ("下单数", "orders created", None),
    "orders_paid": ("成交单数", "orders paid", FLOW),
    "gmv_cents": ("成交金额(分)", "GMV (fen)", FLOW),
    "refunds": ("退款数", "refunds", None),
    "latency_ms": ("推流延迟(毫秒)", "stream latency (ms)", None),
}
MINUTE_COLUMNS = {
    "online": M_ONLINE, "comments": M_COMMENTS, "likes": M_LIKES, "follows": M_FOLLOWS,
    "enters": M_ENTERS, "orders_paid": M_PAID, "gmv_cents": M_GMV,
}
# Rates per minute: (numerator, denominator) of the per-minute distinct-people counts.
MINUTE_RATES = {"conversion_rate": ("payers", "viewers"), "interaction_rate": ("interacting", "viewers")}
# Moderation hits are metrics too: "hits.complaint" is the show's complaint-word count.
HITS_PREFIX = "hits."


@dataclass(frozen=True)
class Baseline:
    mean: float
    std: float
    points: int


@dataclass(frozen=True)
class RoomSignals:
    now_ms: int
    live: bool
    # Current value of every metric (None: not defined yet, e.g. a rate with no viewers).
    values: Mapping[str, float | None]
    # metric -> [(minute_ms, value)] for complete minutes of this show, oldest first.
    minutes: Mapping[str, Sequence[tuple[int, float]]] = field(default_factory=dict)
    # 10-second bucket (ms) -> category -> hits; "" counts the comments themselves.
    hit_buckets: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    # event type -> newest event time; "*" -> newest of any type.
    last_seen: Mapping[str, int] = field(default_factory=dict)
    stream_status: str | None = None
    latency_ms: int | None = None
    show_started_ms: int | None = None
    # metric -> per-minute level of this room's earlier shows.
    room_baselines: Mapping[str, Baseline] = field(default_factory=dict)


def build_signals(
    state: RoomState,
    *,
    now_ms: int,
    live: bool,
    distinct: dict[str, int] | None = None,
    minute_distinct: Mapping[int, Mapping[str, int]] | None = None,
    show_started_ms: int | None = None,
    room_baselines: Mapping[str, Baseline] | None = None,
) -> RoomSignals:
    view = room_view(state, now_ms=now_ms, distinct=distinct)
    values: dict[str, Any] = {name: view.get(name) for name in METRICS}
    values["enters"] = state.enters
    values["latency_ms"] = state.latency_ms
    for category, count in state.category_hits.items():
        values[HITS_PREFIX + category] = count
    current_minute = now_ms - now_ms % 60_000
    first = show_started_ms - show_started_ms % 60_000 if show_started_ms else None
    minutes = sorted(m for m in state.minutes if m < current_minute and (first is None or m >= first))
    series: dict[str, list[tuple[int, float]]] = {
        metric: [(m, float(state.minutes[m][column])) for m in minutes] for metric, column in MINUTE_COLUMNS.items()
    }
    minute_distinct = minute_distinct or {}
    for metric, (numerator, denominator) in MINUTE_RATES.items():
        series[metric] = [
            (m, counts.get(numerator, 0) / counts[denominator])
            for m in minutes
            if (counts := minute_distinct.get(m)) and counts.get(denominator)
        ]
    return RoomSignals(
        now_ms=now_ms,
        live=live,
        values=values,
        minutes=series,
        hit_buckets=state.hit_buckets,
        last_seen=state.last_seen,
        stream_status=state.stream_status,
        latency_ms=state.latency_ms,
        show_started_ms=show_started_ms,
        room_baselines=room_baselines or {},
    )
