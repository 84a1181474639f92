"""A batch with an event that cannot be applied: that event alone is left out."""

from __future__ import annotations

from controlroom.metrics.state import RoomState, apply_isolating

T0 = 1_763_700_000_000


def _like(i: int, count: int = 1) -> dict:
    return {"id": f"l{i}", "type": "like", "ts": T0 + i, "user": {"id": f"u{i}"}, "count": count}


def test_the_events_that_break_a_batch_are_left_out_and_the_rest_applied():
    events = [_like(0), _like(1, 2**63), _like(2), {"id": "x", "type": "comment", "ts": T0}, _like(3)]
    batch = apply_isolating(RoomState().to_json(), {}, events, None, refuse=lambda e: None)
    assert batch.state.likes == 3 and batch.state.events_applied == 3
    assert sorted(e["id"] for e, _ in batch.refused) == ["l1", "x"]
    assert batch.effects.users["likers"] == {"u0", "u2", "u3"}
    assert batch.state.within_sql_range()


def test_what_the_contract_refuses_is_never_applied():
    events = [_like(0), _like(1, 7)]
    batch = apply_isolating(None, {}, events, None, refuse=lambda e: "too many" if e["count"] > 5 else None)
    assert batch.state.likes == 1 and [(e["id"], why) for e, why in batch.refused] == [("l1", "too many")]


def test_a_batch_without_poison_is_applied_whole():
    batch = apply_isolating(None, {}, [_like(i) for i in range(10)], None, refuse=lambda e: None)
    assert batch.state.likes == 10 and batch.refused == []
