"""The post-show review of a known event sequence and script, checked by hand."""

from __future__ import annotations

from controlroom.reports.review import build_review
from controlroom.shows import engine
from controlroom.shows.engine import RunState
from controlroom.shows.script import Script, Segment

T0 = 1_763_728_800_000  # a minute boundary
SCRIPT = Script(segments=(Segment("开场", "opening", 60), Segment("讲品：面霜", "product", 120, sku="A1")))


def run_of_show() -> RunState:
    run = engine.start(SCRIPT, RunState(), T0)
    run = engine.next_segment(SCRIPT, run, T0 + 60_000)
    return engine.end(SCRIPT, run, T0 + 180_000)


def at(seconds: float, **event) -> dict:
    return {"id": f"e{seconds}-{event['type']}-{event.get('status', '')}", "ts": T0 + int(seconds * 1000), **event}


EVENTS = [
    at(0, type="viewers", online=100),
    at(10, type="comment", user={"id": "u1", "name": "甲"}, text="你好"),
    at(59.999, type="comment", user={"id": "u2", "name": "乙"}, text="多少钱"),
    at(50, type="like", user={"id": "u2"}, count=5),  # arrives out of order
    at(60, type="order", user={"id": "u3"}, order_id="o1", status="created", sku="A1", amount_cents=1990),
    at(61, type="order", user={"id": "u3"}, order_id="o1", status="paid", sku="A1", amount_cents=1990),
    {**at(62, type="order", user={"id": "u3"}, order_id="o1", status="paid", sku="A1", amount_cents=1990), "id": "again"},
    at(70, type="product_click", user={"id": "u1"}, sku="A1"),
    at(120, type="viewers", online=80),
    at(130, type="order", user={"id": "u4"}, order_id="o2", status="paid", sku="A1", amount_cents=1000),
    at(140, type="order", user={"id": "u4"}, order_id="o2", status="refunded", sku="A1", amount_cents=1000),
]
ALERT = {"id": 1, "rule_key": "dead-air", "level": "yellow", "name": "冷场", "fired_at": T0 + 20_000,
         "acked_at": T0 + 50_000, "resolved_at": T0 + 100_000}


def review(**extra) -> dict:
    return build_review(events=EVENTS, script=SCRIPT, run=run_of_show(), planned_start_ms=T0, now_ms=T0 + 200_000,
                        alerts=[ALERT], **extra)


def test_headline_numbers():
    h = review()["headline"]
    assert (h["comments"], h["likes"], h["orders_paid"], h["gmv_cents"], h["refund_cents"]) == (2, 5, 2, 2990, 1000)
    assert h["peak_online"] == 100 and h["viewers"] == 4
    assert h["conversion_rate"] == 0.5  # u3 and u4 paid, of four people
    assert h["aov_cents"] == 1495


def test_events_are_attributed_to_segments_at_their_boundaries():
    a, b = review()["segments"]
    assert (a["comments"], a["orders_paid"], a["gmv_cents"], a["new_viewers"]) == (2, 0, 0, 2)
    # 60.000 s is the product segment's first millisecond: its order belongs there.
    assert (b["comments"], b["orders_paid"], b["gmv_cents"], b["new_viewers"]) == (0, 2, 2990, 2)
    assert (a["planned_s"], a["actual_s"], a["over_s"]) == (60, 60, 0)
    assert b["gmv_per_min_cents"] == 2990 / 2 and b["rank"] == 1


def test_products_incidents_and_comparisons():
    r = review(previous=[{"gmv_cents": 1000, "comments": 4}, {"gmv_cents": 3000, "comments": 2}])
    (product,) = r["products"]
    assert (product["sku"], product["clicks"], product["orders"], product["gmv_cents"], product["refunds"]) == (
        "A1", 1, 2, 2990, 1)
    assert product["on_stage"] == [2]
    (incident,) = r["incidents"]
    assert (incident["ack_s"], incident["resolve_s"]) == (30, 80)
    assert r["previous"]["gmv_cents"] == 1000 and r["average"]["gmv_cents"] == 2000
    assert r["bands"] == [[T0 // 1000, T0 // 1000 + 60, "开场"], [T0 // 1000 + 60, T0 // 1000 + 180, "讲品：面霜"]]
    assert r["final"]


def test_a_dip_and_the_reaction_to_it_are_findings():
    events = [at(m * 60, type="viewers", online=online) for m, online in enumerate([1000, 1000, 1000, 700, 700])]
    cue = {"text": "开福袋", "fired_at": T0 + 5 * 60_000, "audience": "host", "segment": 0, "key": "c0"}
    r = build_review(events=events, script=SCRIPT, run=run_of_show(), planned_start_ms=T0, now_ms=T0 + 600_000,
                     cues=[cue])
    (dip,) = [f for f in r["findings"] if f["kind"] == "dip"]
    assert dip["at"] == T0 + 3 * 60_000 and round(dip["drop"], 2) == 0.3 and dip["reaction_min"] == 2


def test_traffic_sources_per_segment():
    traffic = [at(5, type="enter", user={"id": "n1"}, channel="recommend"),
               at(59.9, type="enter", user={"id": "n2"}, channel="follow"),
               at(60, type="enter", user={"id": "n3"}, channel="paid"),
               at(90, type="enter", user={"id": "n4"}, channel="paid"),
               at(100, type="enter", user={"id": "n5"})]  # a feed that names no channel: not counted
    r = build_review(events=EVENTS + traffic, script=SCRIPT, run=run_of_show(), planned_start_ms=T0,
                     now_ms=T0 + 200_000)
    a, b = r["segments"]
    assert a["traffic"] == {"recommend": 1, "follow": 1} and b["traffic"] == {"paid": 2}
    assert r["traffic"] == {"recommend": 1, "follow": 1, "paid": 2}
