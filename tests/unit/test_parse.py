"""Reading an ingest body: per-item validation, exact reasons, nothing good lost."""

from __future__ import annotations

import orjson
import pytest

from controlroom.ingest.parse import BodyError, is_ndjson, parse_body

TS = 1_763_700_000_123


def test_every_event_of_the_contract_validates_and_keeps_extra_fields():
    events = [
        {"id": "c1", "type": "comment", "ts": TS, "user": {"id": "u1", "name": "小明"}, "text": "这个是正品吗"},
        {"id": "l1", "type": "like", "ts": TS, "user": {"id": "u2", "name": "阿花"}, "count": 15},
        {"id": "g1", "type": "gift", "ts": TS, "user": {"id": "u3"}, "gift": "小心心", "count": 3, "value_cents": 300},
        {"id": "v1", "type": "viewers", "ts": TS, "online": 12345, "total": 456789},
        {"id": "e1", "type": "enter", "ts": TS, "user": {"id": "u4"}},
        {"id": "f1", "type": "follow", "ts": TS, "user": {"id": "u4"}},
        {"id": "s1", "type": "share", "ts": TS, "user": {"id": "u4"}},
        {"id": "fc1", "type": "fansclub", "ts": TS, "user": {"id": "u4"}, "level": 3, "joined": True},
        {"id": "p1", "type": "product_click", "ts": TS, "user": {"id": "u4"}, "sku": "A1"},
        {"id": "o1", "type": "order", "ts": TS, "user": {"id": "u4"}, "order_id": "9001", "status": "paid",
         "sku": "A1", "quantity": 1, "amount_cents": 1990},
        {"id": "st1", "type": "stream", "ts": TS, "status": "interrupted", "latency_ms": 3500, "encoder": "obs-2"},
    ]
    batch = parse_body(orjson.dumps(events), now_ms=TS, ndjson=False, max_events=100)
    assert batch.rejections == []
    assert [event_id for _, event_id, _ in batch.valid] == [e["id"] for e in events]
    stored = orjson.loads(batch.valid[-1][2])
    assert stored["encoder"] == "obs-2"
    assert orjson.loads(batch.valid[1][2])["count"] == 15


def test_defaults_are_filled_so_the_worker_sees_canonical_events():
    batch = parse_body(orjson.dumps([{"id": "l", "type": "like", "ts": TS, "user": {"id": "u"}}]), now_ms=TS, ndjson=False, max_events=1)
    assert orjson.loads(batch.valid[0][2])["count"] == 1


@pytest.mark.parametrize(
    ("item", "field", "reason_part"),
    [
        ({"id": "x", "type": "like", "ts": TS // 1000, "user": {"id": "u"}}, "ts", "milliseconds"),
        ({"id": "x", "type": "order", "ts": TS, "user": {"id": "u"}, "order_id": "1", "status": "shipped", "amount_cents": 1}, "status", "'created'"),
        ({"id": "x", "type": "gift", "ts": TS, "user": {"id": "u"}, "gift": "玫瑰", "value_cents": -1}, "value_cents", "greater than or equal to 0"),
        ({"id": "", "type": "follow", "ts": TS, "user": {"id": "u"}}, "id", "at least 1 character"),
        ({"type": "follow", "ts": TS, "user": {"id": "u"}}, "id", "Field required"),
        ({"id": "x", "ts": TS}, "type", "missing"),
        ({"id": "x", "type": "comment", "ts": TS, "user": {"id": "u"}, "text": "长" * 2001}, "text", "at most 2000"),
    ],
)
def test_an_invalid_item_is_rejected_with_its_field_and_reason(item, field, reason_part):
    good = {"id": "ok", "type": "follow", "ts": TS, "user": {"id": "u"}}
    batch = parse_body(orjson.dumps([good, item]), now_ms=TS, ndjson=False, max_events=10)
    assert [i for i, _, _ in batch.valid] == [0]
    assert {(r.index, r.field) for r in batch.rejections} == {(1, field)}
    assert reason_part in batch.rejections[0].reason
    raw, reason = batch.dead[0]
    assert orjson.loads(raw) == item
    assert field.encode() in reason


def test_body_level_errors():
    with pytest.raises(BodyError) as empty:
        parse_body(b"  ", now_ms=TS, ndjson=False, max_events=10)
    assert empty.value.status == 400
    with pytest.raises(BodyError) as broken:
        parse_body(b'[{"id": 1,,}]', now_ms=TS, ndjson=False, max_events=10)
    assert broken.value.status == 400 and "line 1 column" in broken.value.message
    with pytest.raises(BodyError) as too_many:
        parse_body(orjson.dumps([{}] * 11), now_ms=TS, ndjson=False, max_events=10)
    assert too_many.value.status == 413 and "limit is 10" in too_many.value.message


def test_an_event_stamped_far_in_the_future_is_refused():
    events = [
        {"id": "soon", "type": "viewers", "ts": TS + 60_000, "online": 5},
        {"id": "far", "type": "viewers", "ts": TS + 3_600_000, "online": 5},
    ]
    batch = parse_body(orjson.dumps(events), now_ms=TS, ndjson=False, max_events=10)
    assert [event_id for _, event_id, _ in batch.valid] == ["soon"]
    assert batch.rejections[0].field == "ts" and "3600 s in the future" in batch.rejections[0].reason


def test_ndjson_content_types():
    assert is_ndjson("application/x-ndjson; charset=utf-8")
    assert is_ndjson("application/jsonl")
    assert not is_ndjson("application/json")
    assert not is_ndjson(None)


def test_an_integer_past_64_bits_is_refused_as_out_of_range_not_as_a_float():
    """A JSON reader turns 10**30 into a float; the reason still says what is wrong."""
    body = b'[{"id":"g","type":"gift","ts":1763700000000,"user":{"id":"u"},"gift":"x","value_cents":1000000000000000000000000000000}]'
    batch = parse_body(body, ndjson=False, max_events=10, now_ms=1_763_700_000_000)
    [rejection] = batch.rejections
    assert rejection.field == "value_cents" and "far outside the field's range" in rejection.reason
