"""Every dashboard number on a hand-computed sequence (DOMAIN.md definitions)."""

from __future__ import annotations

import pytest

from controlroom.metrics.state import USER_SETS, RoomState
from controlroom.metrics.view import room_view

T0 = 1_763_700_000_000  # 2025-11-21 04:40:00 UTC, a minute boundary
MIN = 60_000


def user(uid: str) -> dict:
    return {"id": uid}


def sequence() -> list[dict]:
    return [
        # Viewers: 100 online for 30 s, then 300 for 30 s, then a late (older) reading.
        {"type": "viewers", "ts": T0, "online": 100, "total": 3},
        {"type": "viewers", "ts": T0 + 30_000, "online": 300},
        {"type": "viewers", "ts": T0 + 60_000, "online": 200},
        {"type": "viewers", "ts": T0 + 10_000, "online": 999},  # out of order: peak only
        # Four people enter (PV 5: a re-entry), three interact, two click, two pay.
        *[{"type": "enter", "ts": T0 + i, "user": user(u)} for i, u in enumerate(["a", "b", "c", "d", "a"])],
        {"type": "comment", "ts": T0 + 100, "user": user("a"), "text": "多少钱"},
        {"type": "like", "ts": T0 + 200, "user": user("b"), "count": 20},
        {"type": "follow", "ts": T0 + 300, "user": user("c")},
        {"type": "product_click", "ts": T0 + 400, "user": user("a"), "sku": "A1"},
        {"type": "product_click", "ts": T0 + 500, "user": user("d"), "sku": "A1"},
        {"type": "product_click", "ts": T0 + 600, "user": user("d"), "sku": "B2"},
        # Orders: o1 created -> paid -> refunded; o2 created -> paid (paid sent twice);
        # o3 created -> cancelled.
        {"type": "order", "ts": T0 + 700, "user": user("a"), "order_id": "o1", "status": "created", "amount_cents": 1990},
        {"type": "order", "ts": T0 + 800, "user": user("a"), "order_id": "o1", "status": "paid", "amount_cents": 1990},
        {"type": "order", "ts": T0 + 900, "user": user("d"), "order_id": "o2", "status": "created", "amount_cents": 5990},
        {"type": "order", "ts": T0 + 950, "user": user("d"), "order_id": "o2", "status": "paid", "amount_cents": 5990},
        {"type": "order", "ts": T0 + 960, "user": user("d"), "order_id": "o2", "status": "paid", "amount_cents": 5990},
        {"type": "order", "ts": T0 + 970, "user": user("b"), "order_id": "o3", "status": "created", "amount_cents": 990},
        {"type": "order", "ts": T0 + 980, "user": user("b"), "order_id": "o3", "status": "cancelled", "amount_cents": 990},
        {"type": "order", "ts": T0 + 5 * MIN, "user": user("a"), "order_id": "o1", "status": "refunded", "amount_cents": 1990},
    ]


def _run(events: list[dict], batches: int = 1) -> tuple[RoomState, dict[str, int]]:
    """Apply in batches, keeping the distinct-user sets as Redis does (a union)."""
    state, ledger = RoomState(), {}
    sets: dict[str, set[str]] = {kind: set() for kind in USER_SETS}
    size = -(-len(events) // batches)
    for start in range(0, len(events), size):
        effects = state.apply(events[start : start + size], ledger)
        for kind in USER_SETS:
            sets[kind] |= effects.users[kind]
    return state, {kind: len(members) for kind, members in sets.items()}


@pytest.mark.parametrize("batches", [1, 4])
def test_every_number_of_the_dashboard(batches):
    state, distinct = _run(sequence(), batches)
    v = room_view(state, now_ms=T0 + 6 * MIN, distinct=distinct)
    assert (v["online"], v["peak_online"]) == (200, 999)
    assert v["viewers"] == 4  # a, b, c, d (more than the platform's total of 3)
    assert v["views"] == 5
    # 100 viewers × 30 s + 300 × 30 s = 12,000 viewer-seconds, shared by at least the 999
    # once online together (more than the 4 known by name).
    assert v["avg_stay_s"] == pytest.approx(12_000 / 999)
    assert v["interaction_rate"] == pytest.approx(3 / 4)  # a commented, b liked, c followed
    assert v["like_rate"] == pytest.approx(1 / 4)
    assert (v["comments"], v["likes"], v["follows"]) == (1, 20, 1)
    assert (v["orders_created"], v["orders_paid"]) == (3, 2)
    assert v["gmv_cents"] == 1990 + 5990  # refunds are shown separately, not subtracted
    assert (v["refunds"], v["refund_cents"]) == (1, 1990)
    assert v["conversion_rate"] == pytest.approx(2 / 4)  # a and d paid
    assert v["aov_cents"] == pytest.approx((1990 + 5990) / 2)
    assert v["uv_value_cents"] == pytest.approx((1990 + 5990) / 4)
    assert v["gpm_cents"] == pytest.approx((1990 + 5990) / 5 * 1000)
    assert [(s["step"], s["count"]) for s in v["funnel"]] == [
        ("viewers", 4), ("product_clicks", 2), ("orders_created", 3), ("orders_paid", 2),
    ]
    assert [s["rate"] for s in v["funnel"]] == [None, pytest.approx(0.5), pytest.approx(1.5), pytest.approx(2 / 3)]


def test_a_steady_flow_shows_no_change_at_any_second_of_the_minute():
    state = RoomState()
    state.apply([{"type": "comment", "ts": T0 + m * MIN + i * 6000, "user": user("u"), "text": "x"}
                 for m in range(25) for i in range(10)], {})
    for second in (1, 30, 59):
        assert room_view(state, now_ms=T0 + 24 * MIN + second * 1000, distinct={})["changes"]["comments"] == 0


def test_ratios_are_blank_before_anyone_is_there():
    v = room_view(RoomState(), now_ms=T0, distinct={})
    assert v["interaction_rate"] is None and v["conversion_rate"] is None
    assert v["aov_cents"] is None and v["gpm_cents"] is None and v["avg_stay_s"] is None


def test_the_ten_minute_comparison():
    state = RoomState()
    # 2 comments a minute from minute 0 to 9, then 3 a minute from minute 10 to 19.
    events = [
        {"type": "comment", "ts": T0 + m * MIN + i, "user": user(f"u{m}{i}"), "text": "x"}
        for m in range(20) for i in range(2 if m < 10 else 3)
    ]
    events += [{"type": "viewers", "ts": T0 + m * MIN, "online": 1000 if m < 10 else 800} for m in range(20)]
    state.apply(events, {})
    # Complete minutes only: minutes 10-19 against 0-9 (the current minute 20 is empty so far).
    v = room_view(state, now_ms=T0 + 20 * MIN + 30_000, distinct={})
    assert v["changes"]["comments"] == pytest.approx(0.5)  # 30 against 20
    assert v["changes"]["online"] == pytest.approx(-0.2)  # average 800 against 1000
    assert v["changes"]["gmv_cents"] is None  # nothing to compare with


def test_a_long_silence_between_viewer_readings_counts_at_most_a_minute():
    state = RoomState()
    state.apply([{"type": "viewers", "ts": T0, "online": 100}, {"type": "viewers", "ts": T0 + 3600_000, "online": 100}], {})
    assert state.watch_ms == 100 * 60_000


def test_products_are_ranked_by_what_they_earned():
    state, _ = _run(sequence())
    v = room_view(state, now_ms=T0 + 6 * MIN, distinct={})
    # B2 was clicked but sold nothing; A1 had one click (by a) and one by d.
    assert [(p["sku"], p["clicks"]) for p in v["products"]] == [("A1", 2), ("B2", 1)]
    assert v["products"][0]["orders"] == 0  # these orders carried no sku
    state.apply([
        {"type": "order", "ts": T0, "user": user("e"), "order_id": "o9", "status": "paid", "sku": "B2", "amount_cents": 990},
        {"type": "order", "ts": T0, "user": user("e"), "order_id": "o9", "status": "refunded", "sku": "B2", "amount_cents": 990},
    ], {})
    top = room_view(state, now_ms=T0 + 6 * MIN, distinct={})["products"][0]
    assert top == {"sku": "B2", "clicks": 1, "orders": 1, "gmv_cents": 990, "refunds": 1, "refund_cents": 990,
                   "units": 1, "name": "", "price_cents": None, "on_shelf": True, "stock": None, "minutes_left": None}
    restored = RoomState.from_json(state.to_json())
    assert restored.products == state.products


def test_the_shows_product_list_and_the_shops_readings_make_the_products_panel():
    """Listed products show before they sell; a shop's reading names, prices and stocks
    one; paid orders after it take from its stock; the link can go off the shelf."""
    state = RoomState()
    listed = [{"sku": "A1", "name": "保温杯", "price_cents": 5900, "stock": 100, "on_shelf": True},
              {"sku": "C3", "name": "围巾", "price_cents": 12900, "stock": None, "on_shelf": True}]
    rows = {p["sku"]: p for p in room_view(state, now_ms=T0, distinct={}, listed_products=listed)["products"]}
    assert rows["A1"]["stock"] == 100 and rows["A1"]["name"] == "保温杯" and rows["C3"]["stock"] is None
    state.apply([
        {"type": "product", "ts": T0, "sku": "C3", "stock": 10, "price_cents": 9900},
        *({"type": "order", "ts": T0 + i * 1000, "user": user(f"b{i}"), "order_id": f"c{i}", "status": "paid",
           "sku": "C3", "quantity": 2, "amount_cents": 19800} for i in range(3)),
        {"type": "order", "ts": T0, "user": user("z"), "order_id": "a1", "status": "paid", "sku": "A1",
         "quantity": 4, "amount_cents": 23600},
        {"type": "product", "ts": T0 + 9000, "sku": "A1", "on_shelf": False},
    ], {})
    rows = {p["sku"]: p for p in room_view(state, now_ms=T0 + 60_000, distinct={}, listed_products=listed)["products"]}
    assert (rows["C3"]["stock"], rows["C3"]["price_cents"], rows["C3"]["units"]) == (4, 9900, 6)
    assert rows["C3"]["minutes_left"] == pytest.approx(4 / 6)  # 6 sold in the minute it has been on sale
    assert (rows["A1"]["stock"], rows["A1"]["on_shelf"]) == (96, False)
    restored = RoomState.from_json(state.to_json())
    assert restored.catalog == state.catalog


def test_every_tile_has_a_ten_minute_change_from_its_own_window():
    state = RoomState()
    # A reading a minute before, so minute 0 also has a minute of watching behind it.
    events = [{"type": "viewers", "ts": T0 - MIN, "online": 1000}]
    for m in range(20):  # minutes 0-9, then 10-19 with twice the buying
        ts = T0 + m * MIN
        events.append({"type": "viewers", "ts": ts, "online": 1000})
        events.append({"type": "enter", "ts": ts + 1, "user": user(f"v{m}")})
        events.append({"type": "gift", "ts": ts + 2, "user": user(f"v{m}"), "gift": "玫瑰", "value_cents": 100})
        for k in range(2 if m >= 10 else 1):
            events.append({"type": "order", "ts": ts + 3 + k, "user": user(f"v{m}"), "order_id": f"o{m}-{k}",
                           "status": "paid", "amount_cents": 1000})
    state.apply(events, {})
    # Distinct people per window, as the per-minute HyperLogLogs would count them.
    windows = {"recent": {"viewers": 10, "interacting": 10, "likers": 0, "payers": 10},
               "earlier": {"viewers": 10, "interacting": 5, "likers": 0, "payers": 5}}
    v = room_view(state, now_ms=T0 + 20 * MIN + 1000, distinct={}, window_distinct=windows)
    changes = v["changes"]
    assert changes["gmv_cents"] == pytest.approx(1.0)  # 20,000 against 10,000
    assert changes["conversion_rate"] == pytest.approx(1.0)  # 10/10 against 5/10
    assert changes["interaction_rate"] == pytest.approx(1.0)
    assert changes["aov_cents"] == pytest.approx(0.0)  # 2,000 a payer against 2,000
    assert changes["gpm_cents"] == pytest.approx(1.0)
    assert changes["gift_value_cents"] == 0 and changes["viewers"] == 0
    assert changes["online"] == 0
    assert changes["avg_stay_s"] == pytest.approx(0.0)
    assert changes["like_rate"] is None  # nobody liked in either window: no base


def test_entries_per_minute_count_the_last_complete_minute():
    state = RoomState()
    enters = [{"type": "enter", "ts": T0 + i * 1000, "user": user(f"e{i}")} for i in range(7)]  # minute 0
    enters += [{"type": "enter", "ts": T0 + MIN + i * 1000, "user": user(f"f{i}")} for i in range(3)]  # minute 1
    state.apply(enters, {})
    # In minute 1, minute 0 is the last complete one; in minute 2, minute 1 is.
    assert room_view(state, now_ms=T0 + MIN + 30_000)["entries_per_min"] == 7
    assert room_view(state, now_ms=T0 + 2 * MIN + 5_000)["entries_per_min"] == 3
    assert room_view(state, now_ms=T0 + 10 * MIN)["entries_per_min"] == 0
