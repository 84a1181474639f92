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
    "dropped_frames_pct": ("推流丢帧率(%)", "dropped frames (%)", None),
    "bitrate_kbps": ("推流码率(kbps)", "stream bitrate (kbit/s)", None),
    "processing_behind_s": ("处理滞后(秒)", "processing behind (s)", None),
    "recording_behind_s": ("录制滞后(秒)", "recording behind (s)", None),
    "segment_remaining_s": ("环节剩余(秒)", "segment time left (s)", None),
    "segment_online_target": ("本环节在线目标", "segment online target", None),
    "planned_capacity": ("计划承载在线", "planned capacity (online)", None),
    "stock_minutes_left": ("预计售罄(分钟)", "minutes until a product sells out", None),
    "sold_out_on_shelf": ("已售罄仍在架商品", "sold-out products still listed", None),
    "complaints_filed": ("客服/平台投诉", "complaints filed", None),
}
# Traffic sources: the share (%) of the last five minutes' entries that came from each.
CHANNEL_NAMES = {
    "recommend": ("推荐", "recommendation feed"), "follow": ("关注", "follows"), "search": ("搜索", "search"),
    "short_video": ("短视频引流", "short videos"), "paid": ("付费推广", "paid promotion"),
    "private": ("私域/分享", "private domain / shares"), "other": ("其他", "other"),
}
for _channel, (_zh, _en) in CHANNEL_NAMES.items():
    METRICS[f"traffic_share_{_channel}"] = (f"流量占比：{_zh}(%)", f"traffic share: {_en} (%)", None)
TRAFFIC_SHARE_WINDOW_MS = 5 * 60_000
# Below this many entries in the window a share says nothing (one viewer would be 100 %).
MIN_TRAFFIC_ENTRIES = 20

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
    # For the rates of distinct people (conversion, interaction): minute_ms -> (people
    # counted, out of how many), so a window's rate can be judged on its evidence.
    minute_shares: Mapping[str, Mapping[int, tuple[int, int]]] = field(default_factory=dict)
    # 10-second bucket (ms) -> category -> hits; "" counts the comments themselves.
    hit_buckets: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    # event type -> newest event time; "*" -> newest of any type.
    last_seen: Mapping[str, int] = field(default_factory=dict)
    # When ingest last accepted an event for the room (the feed's own pulse), and how far
    # processing trails it: silence is judged where the feed is, not where processing is.
    last_arrived_ms: int | None = None
    behind_ms: int = 0
    # source -> when ingest last heard from it (ms): silence of one feed among several.
    source_arrivals: Mapping[str, int] = field(default_factory=dict)
    # [start, end) ms of flash sales and lucky bags (and the minutes after): traffic
    # they pull in is not the room's level.
    boosted: tuple[tuple[int, int], ...] = ()
    stream_status: str | None = None
    latency_ms: int | None = None
    show_started_ms: int | None = None
    # The product the host presents now (the running segment's SKU, else the one a feed
    # marks 讲解中) and since when: doubt about it is judged from then on (SOP 8).
    on_stage_sku: str | None = None
    on_stage_since_ms: int | None = None
    # metric -> per-minute level of this room's earlier shows.
    room_baselines: Mapping[str, Baseline] = field(default_factory=dict)


def traffic_shares(state: RoomState, now_ms: int) -> dict[str, float | None]:
    """Each channel's share (%) of the entries of the last five minutes (current minute
    included), None while there are too few entries to tell."""
    current = now_ms - now_ms % 60_000
    counts = state.traffic_window(current + 60_000 - TRAFFIC_SHARE_WINDOW_MS, current + 60_000)
    total = sum(counts.values())
    return {f"traffic_share_{channel}": (counts.get(channel, 0) * 100 / total if total >= MIN_TRAFFIC_ENTRIES else None)
            for channel in CHANNEL_NAMES}


def build_signals(
    state: RoomState,
    *,
    now_ms: int,
    live: bool,
    distinct: dict[str, int] | None = None,
    minute_distinct: Mapping[int, Mapping[str, int]] | None = None,
    show_started_ms: int | None = None,
    room_baselines: Mapping[str, Baseline] | None = None,
    arrived_ms: int | None = None,
    behind_ms: int = 0,
    recording_behind_ms: int = 0,
    source_arrivals: Mapping[str, int] | None = None,
    boosted: tuple[tuple[int, int], ...] = (),
    segment_remaining_s: float | None = None,
    stage: tuple[Mapping[str, Any], int] | None = None,
    planned_capacity: int | None = None,
    planned_stock: Mapping[str, int] | None = None,
) -> RoomSignals:
    view = room_view(state, now_ms=now_ms, distinct=distinct)
    values: dict[str, Any] = {name: view.get(name) for name in METRICS}
    values["enters"] = state.enters
    values["latency_ms"] = state.latency_ms
    values.update(traffic_shares(state, now_ms))
    # Only while the encoder says it is streaming: a stopped output's last reading is not
    # the stream's health.
    streaming = state.stream_status == "live"
    values["dropped_frames_pct"] = state.dropped_share * 100 if streaming and state.dropped_share is not None else None
    values["bitrate_kbps"] = state.bitrate_kbps if streaming else None
    values["processing_behind_s"] = behind_ms / 1000
    values["recording_behind_s"] = recording_behind_ms / 1000
    values["segment_remaining_s"] = segment_remaining_s
    segment, segment_started_ms = stage if stage else ({}, None)
    values["segment_online_target"] = segment.get("online_target")
    values["planned_capacity"] = planned_capacity
    values["complaints_filed"] = state.complaints_filed
    outlook = [row for row in state.stock_outlook(now_ms, dict(planned_stock or {})).values() if row["on_shelf"]]
    selling = [row["minutes_left"] for row in outlook if row["stock"] > 0 and row["minutes_left"] is not None]
    values["stock_minutes_left"] = min(selling) if selling else None
    values["sold_out_on_shelf"] = sum(1 for row in outlook if row["stock"] == 0)
    on_stage_sku, on_stage_since = segment.get("sku") or None, segment_started_ms
    if on_stage_sku is None:
        on_stage_sku = next((sku for sku, entry in state.catalog.items() if entry.get("on_stage")), None)
        on_stage_since = state.catalog[on_stage_sku].get("on_stage_ts") if on_stage_sku else None
    for category, count in state.category_hits.items():
        values[HITS_PREFIX + category] = count
    current_minute = now_ms - now_ms % 60_000
    first = show_started_ms - show_started_ms % 60_000 if show_started_ms else None
    minutes = sorted(m for m in state.minutes if m < current_minute and (first is None or m >= first))
    series: dict[str, list[tuple[int, float]]] = {
        metric: [(m, float(state.minutes[m][column])) for m in minutes] for metric, column in MINUTE_COLUMNS.items()
    }
    minute_distinct = minute_distinct or {}
    shares: dict[str, dict[int, tuple[int, int]]] = {}
    for metric, (numerator, denominator) in MINUTE_RATES.items():
        shares[metric] = {
            m: (counts.get(numerator, 0), counts[denominator])
            for m in minutes
            if (counts := minute_distinct.get(m)) and counts.get(denominator)
        }
        series[metric] = [(m, part / whole) for m, (part, whole) in shares[metric].items()]
    return RoomSignals(
        now_ms=now_ms,
        live=live,
        values=values,
        minutes=series,
        minute_shares=shares,
        hit_buckets=state.hit_buckets,
        last_seen=state.last_seen,
        last_arrived_ms=arrived_ms,
        behind_ms=behind_ms,
        source_arrivals=source_arrivals or {},
        boosted=boosted,
        stream_status=state.stream_status,
        latency_ms=state.latency_ms,
        show_started_ms=show_started_ms,
        room_baselines=room_baselines or {},
        on_stage_sku=on_stage_sku,
        on_stage_since_ms=on_stage_since if on_stage_sku else None,
    )
