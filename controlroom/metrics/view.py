"""What the screens show of a room, computed from its checkpointed state at a moment."""

from __future__ import annotations

from typing import Any

from controlroom.metrics.state import RoomState

# No event for this long while the show is live: the feed is stale (SOP 3 uses 15 s).
FEED_STALE_MS = 15_000


def room_view(state: RoomState, *, now_ms: int) -> dict[str, Any]:
    feed_age_ms = now_ms - state.last_event_ts if state.last_event_ts else None
    return {
        "online": state.online,
        "peak_online": state.peak_online,
        "viewers_total": state.viewers_total,
        "comments": state.comments,
        "comments_per_min": state.comments_per_min(now_ms),
        "likes": state.likes,
        "likes_per_min": state.likes_per_min(now_ms),
        "gifts": state.gifts,
        "gift_value_cents": state.gift_value_cents,
        "follows": state.follows,
        "shares": state.shares,
        "product_clicks": state.product_clicks,
        "orders_created": state.orders_created,
        "orders_paid": state.orders_paid,
        "gmv_cents": state.gmv_cents,
        "refunds": state.refunds,
        "refund_cents": state.refund_cents,
        "stream_status": state.stream_status,
        "latency_ms": state.latency_ms,
        "events_applied": state.events_applied,
        "last_event_ts": state.last_event_ts or None,
        "feed_age_ms": feed_age_ms,
        "feed_stale": feed_age_ms is None or feed_age_ms > FEED_STALE_MS,
        "recent_comments": list(reversed(state.recent_comments)),
    }
