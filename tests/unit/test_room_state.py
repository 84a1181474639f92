"""The room's live state: pure, fed events by hand, read with a fake clock."""

from __future__ import annotations

from controlroom.clock import FakeClock
from controlroom.metrics.state import RECENT_COMMENTS, RoomState
from controlroom.metrics.view import room_view

T0 = 1_763_700_000_000


def order(order_id: str, status: str, amount: int, ts: int = T0) -> dict:
    return {"type": "order", "ts": ts, "user": {"id": "u"}, "order_id": order_id, "status": status, "amount_cents": amount}


def test_online_is_the_newest_reading_and_peak_the_highest_even_out_of_order():
    state = RoomState()
    state.apply(
        [
            {"type": "viewers", "ts": T0 + 2000, "online": 900},
            {"type": "viewers", "ts": T0 + 1000, "online": 1500},  # late, older reading
            {"type": "viewers", "ts": T0 + 3000, "online": 800},
        ],
        {},
    )
    assert state.online == 800
    assert state.peak_online == 1500


def test_orders_count_once_per_status_as_they_move_created_paid_refunded():
    state, ledger = RoomState(), {}
    effects = state.apply([order("A", "created", 1990), order("A", "paid", 1990), order("A", "paid", 1990)], ledger)
    assert effects.ledger == {"A": 0b11}
    assert effects.users["payers"] == {"u"}
    state.apply([order("A", "refunded", 1990), order("B", "paid", 990), order("C", "created", 500),
                 order("C", "cancelled", 500)], ledger)
    assert (state.orders_created, state.orders_paid, state.gmv_cents) == (2, 2, 2980)
    assert (state.refunds, state.refund_cents, state.orders_cancelled) == (1, 1990, 1)


def test_the_ledger_carries_across_restarts_so_a_status_is_not_counted_twice():
    state, ledger = RoomState(), {}
    state.apply([order("A", "paid", 1990)], ledger)
    restored = RoomState.from_json(state.to_json())
    restored.apply([order("A", "paid", 1990)], dict(ledger))
    assert (restored.orders_paid, restored.gmv_cents) == (1, 1990)


def test_rates_per_minute_follow_the_clock_and_fall_to_zero_when_the_room_goes_quiet():
    clock = FakeClock(T0)
    state = RoomState()
    comments = [{"type": "comment", "ts": T0 + i * 1000, "user": {"id": "u"}, "text": "hi"} for i in range(30)]
    likes = [{"type": "like", "ts": T0 + 500, "user": {"id": "u"}, "count": 25}]
    state.apply(comments + likes, {})
    clock.set(T0 + 30_000)
    assert state.comments_per_min(clock.now_ms()) == 30
    assert state.likes_per_min(clock.now_ms()) == 25
    clock.advance(seconds=45)  # the window is now (T0+15 s, T0+75 s]: comments 16..29
    assert state.comments_per_min(clock.now_ms()) == 14
    clock.advance(seconds=60)
    state.prune(clock.now_ms())
    assert state.comments_per_min(clock.now_ms()) == 0
    assert state.comments == 30  # totals never decay


def test_recent_comments_keep_the_newest_and_survive_a_checkpoint():
    state = RoomState()
    state.apply(
        [{"type": "comment", "ts": T0 + i, "user": {"id": f"u{i}", "name": f"观众{i}"}, "text": f"第{i}条"} for i in range(250)],
        {},
    )
    restored = RoomState.from_json(state.to_json())
    assert len(restored.recent_comments) == RECENT_COMMENTS
    view = room_view(restored, now_ms=T0 + 100)
    assert view["recent_comments"][0]["text"] == "第249条"
    assert view["recent_comments"][0]["name"] == "观众249"


def test_a_nickless_comment_shows_the_user_id():
    state = RoomState()
    state.apply([{"type": "comment", "ts": T0, "user": {"id": "sec_abc"}, "text": "?"}], {})
    assert state.recent_comments[0]["name"] == "sec_abc"


def test_gifts_follows_stream_status_and_minutes():
    state = RoomState()
    state.apply(
        [
            {"type": "gift", "ts": T0, "user": {"id": "u"}, "gift": "玫瑰", "count": 3, "value_cents": 300},
            {"type": "follow", "ts": T0, "user": {"id": "u"}},
            {"type": "stream", "ts": T0 + 5, "status": "interrupted", "latency_ms": 3500},
            {"type": "stream", "ts": T0 + 1, "status": "live"},  # older, ignored
            {"type": "order", "ts": T0 + 61_000, "user": {"id": "u"}, "order_id": "x", "status": "paid", "amount_cents": 990},
        ],
        {},
    )
    assert (state.gifts, state.gift_value_cents, state.follows) == (3, 300, 1)
    assert (state.stream_status, state.latency_ms) == ("interrupted", 3500)
    assert state.minutes[T0 - T0 % 60_000 + 60_000][3] == 990


def test_the_feed_is_stale_after_15_seconds_without_events():
    state = RoomState()
    assert room_view(state, now_ms=T0)["feed_stale"] is True
    state.apply([{"type": "like", "ts": T0, "user": {"id": "u"}}], {})
    assert room_view(state, now_ms=T0 + 14_000)["feed_stale"] is False
    assert room_view(state, now_ms=T0 + 16_000)["feed_stale"] is True
