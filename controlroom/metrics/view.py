"""What the screens show of a room, computed from its checkpointed state at a moment.

Definitions follow ../shared/DOMAIN.md ("The numbers they watch"). Distinct-user counts
(viewers, interacting, clickers, payers) come from Redis sets kept with the checkpoint.
"""

from __future__ import annotations

from typing import Any, Sequence

from controlroom.events import TRAFFIC_CHANNELS
from controlroom.metrics.state import (
    M_COMMENTS,
    M_ENTERS,
    M_FOLLOWS,
    M_GIFTS,
    M_GMV,
    M_LIKES,
    M_ONLINE,
    M_PAID,
    M_REFUNDS,
    M_WATCH,
    P_CLICKS,
    PRODUCT_COLUMNS,
    P_UNITS,
    P_GMV,
    P_ORDERS,
    P_REFUND_CENTS,
    P_REFUNDS,
    USER_SETS,
    RoomState,
)

# No event for this long while the show is live: the feed is stale (SOP 3 uses 15 s).
FEED_STALE_MS = 15_000
# "The last 10 minutes against the 10 minutes before."
CHANGE_WINDOW_MS = 10 * 60_000

# Targets these teams set per show (DOMAIN.md): the defaults; each show can change them.
DEFAULT_TARGETS = {"interaction_rate": 0.15, "conversion_rate": 0.05, "like_rate": 0.10, "comments": 1000}

def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def change_windows(now_ms: int) -> dict[str, tuple[int, int]]:
    """[start, end) of the last 10 complete minutes and of the 10 before. Complete
    minutes only: a half-filled current minute would make every flow look lower."""
    minute_now = now_ms - now_ms % 60_000
    return {
        "recent": (minute_now - CHANGE_WINDOW_MS, minute_now),
        "earlier": (minute_now - 2 * CHANGE_WINDOW_MS, minute_now - CHANGE_WINDOW_MS),
    }


def _window_numbers(state: RoomState, start: int, end: int, distinct: dict[str, int]) -> dict[str, float | None]:
    """Every tile's number over one window (flows summed, online averaged, rates from
    the window's own distinct people)."""
    def total(column: int) -> float:
        return state.minute_window(column, start, end)

    viewers = distinct.get("viewers", 0)
    gmv, enters = total(M_GMV), total(M_ENTERS)
    return {
        "online": state.minute_window(M_ONLINE, start, end, average=True),
        "viewers": viewers,
        "views": enters,
        "avg_stay_s": _ratio(total(M_WATCH) / 1000, viewers),
        "interaction_rate": _ratio(distinct.get("interacting", 0), viewers),
        "like_rate": _ratio(distinct.get("likers", 0), viewers),
        "comments": total(M_COMMENTS),
        "likes": total(M_LIKES),
        "follows": total(M_FOLLOWS),
        "gift_value_cents": total(M_GIFTS),
        "orders_paid": total(M_PAID),
        "gmv_cents": gmv,
        "refund_cents": total(M_REFUNDS),
        "conversion_rate": _ratio(distinct.get("payers", 0), viewers),
        "aov_cents": _ratio(gmv, distinct.get("payers", 0)),
        "uv_value_cents": _ratio(gmv, viewers),
        "gpm_cents": _ratio(gmv * 1000, enters),
    }


def _changes(
    state: RoomState, now_ms: int, window_distinct: dict[str, dict[str, int]] | None
) -> dict[str, float | None]:
    """Relative change of the last 10 minutes against the 10 before (None: no base)."""
    windows = change_windows(now_ms)
    window_distinct = window_distinct or {}
    recent = _window_numbers(state, *windows["recent"], window_distinct.get("recent", {}))
    earlier = _window_numbers(state, *windows["earlier"], window_distinct.get("earlier", {}))
    return {
        tile: (recent[tile] - earlier[tile]) / earlier[tile] if recent[tile] is not None and earlier[tile] else None
        for tile in recent
    }


def _shares(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values())
    return {channel: count / total for channel, count in counts.items()} if total else {}


def traffic_structure(state: RoomState, now_ms: int) -> dict[str, Any]:
    """Where the viewers came from: each source's entries and share over the show, and
    how its share moved in the last 10 minutes against the 10 before (percentage
    points). Counted from `enter` events that name their channel; a platform that
    only sends its own split (viewers.channels) is shown as it reports it."""
    counted = bool(state.traffic)
    counts = state.traffic if counted else state.platform_traffic
    shares = _shares(counts)
    windows = change_windows(now_ms)
    recent = _shares(state.traffic_window(*windows["recent"]))
    earlier = _shares(state.traffic_window(*windows["earlier"]))
    rows = []
    for channel in TRAFFIC_CHANNELS:
        if channel not in counts:
            continue
        change = None
        if recent and earlier:
            change = (recent.get(channel, 0.0) - earlier.get(channel, 0.0)) * 100
        rows.append({"channel": channel, "count": counts[channel], "share": shares.get(channel, 0.0),
                     "recent_share": recent.get(channel) if recent else None, "change_pp": change})
    rows.sort(key=lambda row: -row["count"])
    return {"rows": rows, "total": sum(counts.values()), "from_platform": not counted and bool(counts)}


PRODUCTS_SHOWN = 20


def minute_series(state: RoomState) -> dict[str, list]:
    """The show so far, a point per minute (x in Unix seconds, for uPlot)."""
    minutes = sorted(state.minutes)
    rows = [state.minutes[m] for m in minutes]
    return {
        "x": [m // 1000 for m in minutes],
        "online": [row[M_ONLINE] for row in rows],
        "comments": [row[M_COMMENTS] for row in rows],
        "likes": [row[M_LIKES] for row in rows],
        "gmv": [row[M_GMV] / 100 for row in rows],
    }


def changed_points(before: dict[str, list], after: dict[str, list]) -> dict[str, list]:
    """The points of `after` that `before` lacks or holds otherwise (late events change a
    minute already shown), as a series of their own."""
    names = [name for name in after if name != "x"]

    def point(series: dict[str, list], i: int) -> tuple:
        return tuple(series[name][i] if name in series else None for name in names)

    known = {x: point(before, i) for i, x in enumerate(before.get("x", []))}
    changed = [i for i, x in enumerate(after["x"]) if known.get(x) != point(after, i)]
    return {"x": [after["x"][i] for i in changed], **{name: [after[name][i] for i in changed] for name in names}}


def merge_series(archived: dict[str, list], live: dict[str, list]) -> dict[str, list]:
    """Archived minutes completed by the live ones; the live state wins where both have
    a minute (the archive lags it by up to 15 s)."""
    rows = {x: {name: archived[name][i] for name in archived if name != "x"} for i, x in enumerate(archived["x"])}
    rows.update({x: {name: live[name][i] for name in live if name != "x"} for i, x in enumerate(live["x"])})
    minutes = sorted(rows)
    names = [name for name in live if name != "x"]
    return {"x": minutes, **{name: [rows[m].get(name, 0) for m in minutes] for name in names}}


def _products(state: RoomState, now_ms: int, listed: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """The show's products and every SKU that sold or was clicked: what it earned, and
    its listing (name, price, link on or off the shelf, stock left and when it runs out
    at the recent order rate), ranked by what they earned, then by interest (clicks)."""
    planned = {p["sku"]: p for p in listed}
    outlook = state.stock_outlook(now_ms, {sku: p["stock"] for sku, p in planned.items() if p.get("stock") is not None})
    rows = []
    for sku in dict.fromkeys([*planned, *state.products, *state.catalog]):
        r = state.products.get(sku) or [0] * PRODUCT_COLUMNS
        listing = state.catalog.get(sku) or {}
        plan = planned.get(sku) or {}
        stock = outlook.get(sku) or {}
        on_shelf = listing.get("on_shelf")
        rows.append({
            "sku": sku, "clicks": r[P_CLICKS], "orders": r[P_ORDERS], "gmv_cents": r[P_GMV],
            "refunds": r[P_REFUNDS], "refund_cents": r[P_REFUND_CENTS], "units": r[P_UNITS],
            "name": listing.get("name") or plan.get("name") or "",
            "price_cents": listing.get("price_cents") if listing.get("price_cents") is not None else plan.get("price_cents"),
            "on_shelf": on_shelf if on_shelf is not None else plan.get("on_shelf", True),
            "stock": stock.get("stock"), "minutes_left": stock.get("minutes_left"),
        })
    rows.sort(key=lambda row: (-row["gmv_cents"], -row["clicks"], row["sku"] not in planned, row["sku"]))
    return rows[:PRODUCTS_SHOWN]


def room_view(
    state: RoomState,
    *,
    now_ms: int,
    distinct: dict[str, int] | None = None,
    window_distinct: dict[str, dict[str, int]] | None = None,
    targets: dict[str, Any] | None = None,
    arrived_ms: int | None = None,
    listed_products: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    distinct = {kind: 0 for kind in USER_SETS} | (distinct or {})
    # The feed's pulse: the newest event applied, or, sooner, the newest ingest accepted
    # (a worker running behind is not a silent feed).
    last_heard = max(state.last_event_ts or 0, arrived_ms or 0)
    feed_age_ms = max(0, now_ms - last_heard) if last_heard else None
    # The platform's cumulative count sees viewers our feed never hears from.
    viewers = max(state.viewers_total, distinct["viewers"])
    views = max(state.enters, viewers)
    gmv = state.gmv_cents
    payers = distinct["payers"]
    # Watch time is online × time; shared among at least the most ever online at once, or
    # a feed without the platform's total (only commenters known) makes every stay long.
    avg_stay_s = _ratio(state.watch_ms / 1000, max(viewers, state.peak_online))
    interaction_rate = _ratio(distinct["interacting"], viewers)
    conversion_rate = _ratio(payers, viewers)
    # Distinct people at every step, so each rate is "of those, how many went on".
    funnel = [
        ("viewers", viewers),
        ("product_clicks", distinct["clickers"]),
        ("orders_created", distinct["orderers"]),
        ("orders_paid", payers),
    ]
    return {
        "online": state.online,
        "peak_online": state.peak_online,
        "viewers": viewers,
        "viewers_total": state.viewers_total,
        "views": views,
        "avg_stay_s": avg_stay_s,
        "interaction_rate": interaction_rate,
        "like_rate": _ratio(distinct["likers"], viewers),
        "comments": state.comments,
        "comments_per_min": state.comments_per_min(now_ms),
        # 进场/分钟: entries in the last complete minute (the current one is still filling).
        "entries_per_min": int(state.minute_window(M_ENTERS, now_ms - now_ms % 60_000 - 60_000, now_ms - now_ms % 60_000)),
        "likes": state.likes,
        "likes_per_min": state.likes_per_min(now_ms),
        "gifts": state.gifts,
        "gift_value_cents": state.gift_value_cents,
        "follows": state.follows,
        "shares": state.shares,
        "product_clicks": state.product_clicks,
        "orders_created": state.orders_created,
        "orders_paid": state.orders_paid,
        "gmv_cents": gmv,
        "refunds": state.refunds,
        "refund_cents": state.refund_cents,
        "conversion_rate": conversion_rate,
        "aov_cents": _ratio(gmv, payers),
        "uv_value_cents": _ratio(gmv, viewers),
        "gpm_cents": _ratio(gmv * 1000, views),
        "products": _products(state, now_ms, listed_products),
        "hot_words": state.hot_words(now_ms),
        "hot_questions": [
            {"group": group, "count": count, "examples": examples}
            for group, count, examples in state.hot_questions(now_ms)
        ],
        "series": minute_series(state),
        "funnel": [
            {"step": step, "count": count, "rate": _ratio(count, funnel[i - 1][1]) if i else None}
            for i, (step, count) in enumerate(funnel)
        ],
        "changes": _changes(state, now_ms, window_distinct),
        "traffic": traffic_structure(state, now_ms),
        "targets": DEFAULT_TARGETS | (targets or {}),
        "stream_status": state.stream_status,
        "latency_ms": state.latency_ms,
        "bitrate_kbps": state.bitrate_kbps,
        "dropped_share": state.dropped_share,
        "events_applied": state.events_applied,
        "last_event_ts": state.last_event_ts or None,
        "feed_age_ms": feed_age_ms,
        "feed_stale": feed_age_ms is None or feed_age_ms > FEED_STALE_MS,
        "recent_comments": list(reversed(state.recent_comments)),
    }
