"""No number and no event can stop a room: absurd values are refused at the door with
their reason, an event that still reaches a worker and cannot be applied is left out of
its batch (dead-lettered, counted) while the room goes on, and one room that cannot be
archived never keeps the others out of the SQL archive."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import orjson
import pytest
from sqlalchemy import select

from controlroom.bus import keys
from controlroom.bus.client import connect
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.live.archive import archive_minutes
from controlroom.metrics.models import RoomMinute
from controlroom.metrics.state import RoomState
from controlroom.rooms.models import Room
from tests.support import create_room

POISON = {
    "order amount 2**63": ({"type": "order", "user": {"id": "u1"}, "order_id": "o1", "status": "paid",
                            "amount_cents": 2**63}, "amount_cents"),
    "gift value 10**30": ({"type": "gift", "user": {"id": "u2"}, "gift": "火箭", "value_cents": 10**30}, "value_cents"),
    "online 2**40": ({"type": "viewers", "online": 2**40}, "online"),
    "quantity 2**70": ({"type": "order", "user": {"id": "u3"}, "order_id": "o2", "status": "paid", "quantity": 2**70,
                        "amount_cents": 100}, "quantity"),
    "count true": ({"type": "like", "user": {"id": "u4"}, "count": True}, "count"),
    "negative likes": ({"type": "like", "user": {"id": "u5"}, "count": -5}, "count"),
    "latency a string": ({"type": "stream", "status": "live", "latency_ms": "fast"}, "latency_ms"),
}


def _now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.parametrize("case", list(POISON))
def test_an_absurd_number_is_refused_with_its_field_and_dead_lettered(server, room, case):
    event, field = POISON[case]
    item = {"id": f"p-{case}", "ts": _now_ms(), **event}
    good = {"id": f"g-{case}", "type": "comment", "ts": _now_ms(), "user": {"id": "v"}, "text": "还在吗"}
    # Sent as a stranger's script would (orjson, which the test helper uses, refuses such integers).
    response = httpx.post(f"{server.url}/api/rooms/{room}/events", content=_dumps([item, good]),
                          headers={"content-type": "application/json", "x-api-key": room.api_key})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 1 and body["rejected"] == 1
    assert [r["field"] for r in body["rejections"]] == [field] and body["rejections"][0]["index"] == 0
    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    assert any(f"p-{case}" in d["raw"] and field in d["reason"] for d in dead)
    assert server.wait_for_state(room, lambda s: s["comments"] == 1)["comments"] == 1


async def test_an_event_the_worker_cannot_apply_is_left_out_and_the_room_goes_on(server, room, redis_url):
    """Written straight into the stream, as an entry from before the ranges were enforced
    (or from a buggy feed) would be: the worker leaves it out and applies the rest."""
    client = connect(redis_url)
    try:
        now = _now_ms()
        poison = [
            {"id": "old-1", "type": "order", "ts": now, "user": {"id": "u"}, "order_id": "o9", "status": "paid",
             "amount_cents": 2**63},
            {"id": "old-2", "type": "viewers", "ts": now, "online": 2**40},
            {"id": "old-3", "type": "gift", "ts": now, "user": {"id": "u"}, "gift": "x", "value_cents": 10**30},
            {"id": "old-4", "type": "like", "ts": now, "user": {"id": "u"}},  # fine
            {"id": "old-5", "type": "comment", "ts": now},  # no user, no text
        ]
        for event in poison:
            await client.xadd(keys.stream(room), {"e": _dumps(event)})
        await client.incrby(keys.backlog(room), len(poison))
    finally:
        await client.aclose()
    state = await asyncio.to_thread(server.wait_for_state, room, lambda s: s["events_applied"] >= 1, 15)
    assert state["likes"] == 1 and state["gmv_cents"] == 0 and state["online"] == 0

    # The room goes on: the next events are applied as usual.
    after = [{"id": "new-1", "type": "comment", "ts": _now_ms(), "user": {"id": "v"}, "text": "刚进来"},
             {"id": "new-2", "type": "viewers", "ts": _now_ms(), "online": 321}]
    assert (await asyncio.to_thread(server.post_events, room, after)).json()["accepted"] == 2
    state = await asyncio.to_thread(server.wait_for_state, room, lambda s: s["comments"] == 1 and s["online"] == 321)
    assert state["events_applied"] == 3

    dead = (await asyncio.to_thread(server.admin.get, f"/api/rooms/{room}/dead-letters")).json()
    not_applied = [d for d in dead if d["reason"].startswith("not applied")]
    assert {orjson.loads(d["raw"])["id"] for d in not_applied} == {"old-1", "old-2", "old-3", "old-5"}
    metrics = (await asyncio.to_thread(httpx.get, f"{server.url}/metrics")).text
    assert f'controlroom_events_not_applied_total{{room="{room}"}} 4.0' in metrics


def _dumps(value: object) -> bytes:
    return json.dumps(value).encode()  # orjson refuses integers past 64 bits, as intended


async def test_one_room_that_cannot_be_archived_never_stops_the_others(database_url, own_redis_url):
    broken, fine = create_room(database_url, own_redis_url), create_room(database_url, own_redis_url)
    minute = (_now_ms() // 60_000) * 60_000
    client = connect(own_redis_url)
    try:
        good = RoomState()
        good.apply([{"id": "v", "type": "viewers", "ts": minute + 1, "online": 777}], {})
        await client.hset(keys.checkpoint(fine), "state", good.to_json())
        # A state checkpointed before the ranges: a total SQL cannot hold.
        bad = orjson.loads(good.to_json())
        bad["minutes"][0][1] = 2**63 + 5
        await client.hset(keys.checkpoint(broken), "state", _dumps(bad))
        engine = make_engine(database_url)
        written = await archive_minutes(client, session_factory(engine))
    finally:
        await client.aclose()
    assert written >= 1
    with transaction(session_factory(engine)) as session:
        rows = session.scalars(select(RoomMinute).join(Room, Room.id == RoomMinute.room_id)
                               .where(Room.slug == fine)).all()
        assert [row.online for row in rows] == [777]
    engine.dispose()
