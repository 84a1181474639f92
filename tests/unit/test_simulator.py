"""The show simulator, driven by hand: a fixed seed and time advanced by the test."""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict

import pytest

from controlroom.events import EVENT_TYPES, event_adapter
from controlroom.sim.generator import (
    CYCLE_MS,
    FLASH_SALE_SKU,
    MINUTE_MS,
    PRICES_CENTS,
    ShowSimulator,
    in_flash_sale,
)

START_MS = 1_763_700_000_000
HOUR_MS = 60 * MINUTE_MS
RATE = 20


def run(simulator: ShowSimulator, *, until_ms: int, step_ms: int = 1_000) -> list[dict]:
    events = []
    for now in range(START_MS + step_ms, START_MS + until_ms + 1, step_ms):
        events += simulator.events_until(now)
    return events


@pytest.fixture(scope="module")
def hour() -> list[dict]:
    """An hour of show at 20 events/s."""
    return run(ShowSimulator(seed=7, start_ms=START_MS, rate=RATE), until_ms=HOUR_MS)


def first_copies(events: list[dict]) -> list[dict]:
    seen: set[str] = set()
    unique = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            unique.append(event)
    return unique


def minute_of(event: dict) -> int:
    # Slots cover (start, start + 1 s]: a minute's events end at its last ms inclusive.
    return (event["ts"] - START_MS - 1) // MINUTE_MS


def test_every_event_is_a_canonical_event_without_stray_fields(hour):
    for event in hour:
        model = event_adapter.validate_python(event)
        assert model.source == "sim"
        assert not model.model_extra, f"fields outside the contract: {model.model_extra}"
        if hasattr(model, "user"):
            assert not model.user.model_extra
    assert {e["type"] for e in hour} == set(EVENT_TYPES) - {"stream"}


def test_events_fall_between_the_previous_and_the_current_time():
    simulator = ShowSimulator(seed=3, start_ms=START_MS, rate=RATE)
    previous = START_MS
    # Aligned steps too: an event at exactly the previous time would be handed out twice.
    for step in [1_000, 1_000, 137, 863, 1_001, 2_999, 40, 959, 1] * 60:
        now = previous + step
        events = simulator.events_until(now)
        assert all(previous < e["ts"] <= now for e in events)
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
        previous = now


@pytest.mark.parametrize("rate", [5, 50])
def test_volume_tracks_the_rate_in_every_minute(rate):
    events = run(ShowSimulator(seed=11, start_ms=START_MS, rate=rate), until_ms=CYCLE_MS)
    per_minute = Counter(minute_of(e) for e in events)
    for minute in range(CYCLE_MS // MINUTE_MS):
        assert 0.7 * rate * 60 <= per_minute[minute] <= 1.3 * rate * 60, f"minute {minute}: {per_minute[minute]}"


def test_an_hour_averages_the_rate_and_no_minute_strays_beyond_30_percent(hour):
    per_minute = Counter(minute_of(e) for e in hour)
    assert sorted(per_minute) == list(range(60))
    assert all(0.7 * RATE * 60 <= n <= 1.3 * RATE * 60 for n in per_minute.values()), per_minute
    assert len(hour) == pytest.approx(RATE * 3600, rel=0.05)


def test_viewers_are_read_every_two_seconds_with_a_cumulative_total(hour):
    readings = [e for e in hour if e["type"] == "viewers"]
    gaps = [b["ts"] - a["ts"] for a, b in zip(readings, readings[1:]) if a["id"] != b["id"]]
    assert all(1_700 <= gap <= 2_300 for gap in gaps)
    totals = [e["total"] for e in readings]
    assert totals == sorted(totals)
    assert all(e["total"] >= e["online"] for e in readings)


def test_the_audience_rises_then_dips_and_surges_in_every_cycle(hour):
    readings = [(e["ts"] - START_MS, e["online"]) for e in first_copies(hour) if e["type"] == "viewers"]
    assert max(o for t, o in readings if 5 * MINUTE_MS < t < 6 * MINUTE_MS) > 3 * readings[0][1]

    def shape_of(cycle: int) -> dict[str, bool]:
        # From minute 10 on, the 5 minutes looked back on are past the opening rise.
        start = max(cycle * CYCLE_MS, 10 * MINUTE_MS)
        in_cycle = [(t, o) for t, o in readings if start <= t < (cycle + 1) * CYCLE_MS]
        falls = rises = False
        for t, online in in_cycle:
            before = [o for s, o in readings if t - 5 * MINUTE_MS <= s < t]
            falls |= online <= 0.8 * max(before)  # SOP 1: -20 % within 5 min
            rises |= online >= 2 * min(before)  # SOP 2: +100 % within 5 min
        usual = statistics.median(o for _, o in in_cycle)
        return {
            "trough": min(o for _, o in in_cycle) <= 0.8 * usual,
            "falls": falls,
            "surge": max(o for _, o in in_cycle) >= 1.5 * usual,
            "rises": rises,
        }

    for cycle in range(3):
        assert all(shape_of(cycle).values()), (cycle, shape_of(cycle))


def test_the_audience_count_is_noisy_on_the_plateau(hour):
    readings = [(e["ts"] - START_MS, e["online"]) for e in first_copies(hour) if e["type"] == "viewers"]
    # Minutes 1-7 of the second and third cycles: past the opening rise, before the trough.
    plateau = [online for t, online in readings if t > CYCLE_MS and MINUTE_MS <= t % CYCLE_MS < 7 * MINUTE_MS]
    spread = statistics.pstdev(plateau) / statistics.fmean(plateau)
    assert 0.01 < spread < 0.1
    turns = sum((b - a) * (c - b) < 0 for a, b, c in zip(plateau, plateau[1:], plateau[2:]))
    assert turns > len(plateau) / 4


def test_orders_move_forward_through_their_statuses(hour):
    allowed = {("created",), ("created", "paid"), ("created", "paid", "refunded"), ("created", "cancelled")}
    orders: dict[str, list[dict]] = defaultdict(list)
    for event in first_copies(hour):
        if event["type"] == "order":
            orders[event["order_id"]].append(event)
    outcomes = Counter()
    for order_id, events in orders.items():
        statuses = tuple(e["status"] for e in sorted(events, key=lambda e: e["ts"]))
        assert statuses in allowed, (order_id, statuses)
        assert len({(e["user"]["id"], e["sku"], e["quantity"], e["amount_cents"]) for e in events}) == 1
        assert events[0]["amount_cents"] == PRICES_CENTS[events[0]["sku"]] * events[0]["quantity"]
        outcomes[statuses[-1]] += 1
    assert outcomes["refunded"] > 0 and outcomes["cancelled"] > 0
    paid = outcomes["paid"] + outcomes["refunded"]
    assert 0.75 < paid / (paid + outcomes["cancelled"]) < 0.95


def test_the_flash_sale_brings_bursts_of_clicks_and_orders_at_9_9(hour):
    flash_minutes = {m for m in range(60) if in_flash_sale(m * MINUTE_MS)}
    assert len(flash_minutes) == 9  # three minutes in each 20-minute cycle
    clicks = Counter(minute_of(e) for e in hour if e["type"] == "product_click")
    orders = Counter(minute_of(e) for e in hour if e["type"] == "order" and e["status"] == "created")
    for per_minute in (clicks, orders):
        during = statistics.fmean(per_minute[m] for m in flash_minutes)
        outside = statistics.fmean(per_minute[m] for m in range(60) if m not in flash_minutes)
        assert during > 2.5 * outside
    flash_orders = [e for e in hour if e["type"] == "order" and e["sku"] == FLASH_SALE_SKU and e["status"] == "created"]
    assert flash_orders and all(in_flash_sale(e["ts"] - START_MS) for e in flash_orders)
    assert {e["amount_cents"] for e in flash_orders} == {990}


def test_some_pushes_are_repeated_as_exact_copies(hour):
    copies: dict[str, list[dict]] = defaultdict(list)
    for event in hour:
        copies[event["id"]].append(event)
    repeated = [events for events in copies.values() if len(events) > 1]
    assert 0.002 < len(repeated) / len(copies) < 0.01
    assert all(events[0] == events[1] for events in repeated)


def test_comments_ask_praise_greet_and_now_and_then_doubt_or_complain(hour):
    texts = [e["text"] for e in hour if e["type"] == "comment"]

    def share(*words: str) -> float:
        return sum(any(w in text for w in words) for text in texts) / len(texts)

    assert share("多少钱", "什么时候发货", "有没有优惠券", "尺码怎么选", "是正品吗", "怎么买") > 0.1
    assert share("好看", "已下单", "主播好美") > 0.03
    assert share("来了", "晚上好", "大家好") > 0.03
    assert 0.01 < share("假货", "夸大", "骗人", "质量差") < 0.08
    assert 0 < share("投诉", "举报", "315", "消协") < 0.005


def test_users_come_from_a_pool_and_keep_their_nicknames(hour):
    names: dict[str, set[str]] = defaultdict(set)
    for event in hour:
        if "user" in event:
            names[event["user"]["id"]].add(event["user"]["name"])
    assert all(re.fullmatch(r"u\d+", user_id) for user_id in names)
    assert all(len(user_names) == 1 for user_names in names.values())
    assert all(re.search(r"[\u4e00-\u9fff]", name) for (name,) in names.values())
    # Regulars come back: far fewer people than interactions.
    assert len(names) < sum("user" in e for e in hour) / 3


def test_likes_come_merged_and_gifts_are_valued_per_piece(hour):
    like_counts = [e["count"] for e in hour if e["type"] == "like"]
    assert min(like_counts) >= 1 and max(like_counts) == 50
    assert statistics.fmean(like_counts) > 3
    unit_values: dict[str, set[float]] = defaultdict(set)
    for gift in (e for e in hour if e["type"] == "gift"):
        unit_values[gift["gift"]].add(gift["value_cents"] / gift["count"])
    assert {"小心心", "玫瑰", "跑车"} <= set(unit_values)
    assert all(len(values) == 1 for values in unit_values.values())
    assert any(e["type"] == "gift" and e["count"] > 1 for e in hour)


def test_the_same_seed_gives_the_same_show_however_time_is_sliced():
    span = 5 * MINUTE_MS
    by_second = run(ShowSimulator(seed=5, start_ms=START_MS, rate=RATE), until_ms=span)
    by_200_ms = run(ShowSimulator(seed=5, start_ms=START_MS, rate=RATE), until_ms=span, step_ms=200)
    at_once = ShowSimulator(seed=5, start_ms=START_MS, rate=RATE).events_until(START_MS + span)
    other_seed = run(ShowSimulator(seed=6, start_ms=START_MS, rate=RATE), until_ms=span)
    assert by_second == by_200_ms == at_once
    assert other_seed != by_second


def test_time_cannot_run_backwards():
    simulator = ShowSimulator(seed=1, start_ms=START_MS, rate=RATE)
    simulator.events_until(START_MS + 5_000)
    assert simulator.events_until(START_MS + 5_000) == []
    with pytest.raises(ValueError):
        simulator.events_until(START_MS + 4_999)


def test_the_rate_must_be_positive():
    with pytest.raises(ValueError):
        ShowSimulator(seed=1, start_ms=START_MS, rate=0)
