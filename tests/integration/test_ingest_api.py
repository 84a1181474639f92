"""The generic ingest route, through HTTP against a running controlroom."""

from __future__ import annotations

import httpx
import orjson

from tests.support import BASE_TS, comment, create_room


def test_valid_events_are_accepted_and_reach_the_room_state(server, room):
    events = [
        comment("c1", "这个是正品吗"),
        {"id": "l1", "type": "like", "ts": BASE_TS + 100, "user": {"id": "u2", "name": "阿花"}, "count": 15},
        {"id": "g1", "type": "gift", "ts": BASE_TS + 200, "user": {"id": "u3"}, "gift": "小心心", "count": 3, "value_cents": 300},
        {"id": "v1", "type": "viewers", "ts": BASE_TS + 300, "online": 12345, "total": 456789},
        {"id": "f1", "type": "follow", "ts": BASE_TS + 400, "user": {"id": "u4"}},
        {"id": "o1", "type": "order", "ts": BASE_TS + 500, "user": {"id": "u4"}, "order_id": "9001",
         "status": "paid", "sku": "A1", "quantity": 1, "amount_cents": 1990, "platform_extra": {"kept": True}},
    ]
    response = server.post_events(room, events)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "accepted": 6, "duplicates": 0, "rejected": 0, "duplicate_indexes": [], "rejections": [],
    }
    state = server.wait_for_state(room, lambda s: s["events_applied"] == 6)
    assert (state["comments"], state["likes"], state["gift_value_cents"]) == (1, 15, 300)
    assert (state["online"], state["follows"], state["orders_paid"], state["gmv_cents"]) == (12345, 1, 1, 1990)


def test_duplicates_are_counted_and_dropped_within_a_batch_and_across_batches(server, room):
    first = server.post_events(room, [comment("c1", "一"), comment("c1", "一"), comment("c2", "二")])
    assert first.json()["accepted"] == 2
    assert first.json()["duplicates"] == 1
    assert first.json()["duplicate_indexes"] == [1]
    again = server.post_events(room, [comment("c2", "二"), comment("c3", "三")])
    assert again.json() == {"accepted": 1, "duplicates": 1, "rejected": 0, "duplicate_indexes": [0], "rejections": []}
    state = server.wait_for_state(room, lambda s: s["events_applied"] >= 3)
    assert state["comments"] == 3


def test_invalid_items_are_reported_by_index_and_field_and_kept_as_dead_letters(server, room):
    events = [
        comment("ok1", "好看"),
        {"id": "bad-ts", "type": "like", "ts": 1763700000, "user": {"id": "u"}, "count": 2},
        {"id": "bad-type", "type": "teleport", "ts": BASE_TS},
        {"id": "no-text", "type": "comment", "ts": BASE_TS, "user": {"id": "u"}},
        "not an object",
    ]
    response = server.post_events(room, events)
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (1, 4)
    by_index = {(r["index"], r["field"]): r for r in body["rejections"]}
    assert "milliseconds" in by_index[(1, "ts")]["reason"]
    assert by_index[(1, "ts")]["id"] == "bad-ts"
    assert "teleport" in by_index[(2, "type")]["reason"]
    assert by_index[(3, "text")]["reason"] == "Field required"
    assert "JSON object" in by_index[(4, "")]["reason"]

    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    assert len(dead) == 4
    raw_items = [d["raw"] for d in dead]
    assert any('"teleport"' in raw for raw in raw_items)
    assert any("ts:" in d["reason"] for d in dead)
    assert server.wait_for_state(room, lambda s: s["events_applied"] == 1)["comments"] == 1


def test_a_batch_of_only_invalid_items_is_422_and_nothing_is_applied(server, room):
    response = server.post_events(room, [{"id": "x", "type": "viewers", "ts": BASE_TS, "online": -5}])
    assert response.status_code == 422
    assert response.json()["rejections"][0]["field"] == "online"


def test_ndjson_is_accepted_line_by_line_and_a_broken_line_is_rejected_alone(server, room):
    lines = [orjson.dumps(comment("n1", "第一行")), b"{broken", b"", orjson.dumps(comment("n2", "第三行"))]
    response = httpx.post(
        f"{server.url}/api/rooms/{room}/events", content=b"\n".join(lines),
        headers={"content-type": "application/x-ndjson", "x-api-key": room.api_key},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (2, 1)
    assert "line 2 is not valid JSON" in body["rejections"][0]["reason"]


def test_a_body_that_is_not_json_is_400_saying_where_it_broke(server, room):
    response = httpx.post(
        f"{server.url}/api/rooms/{room}/events", content=b'[{"id": "c1", "type": }]',
        headers={"content-type": "application/json", "x-api-key": room.api_key},
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    assert "column" in response.json()["detail"]


def test_a_json_object_instead_of_an_array_is_400(server, room):
    response = server.post_events(room, comment("c1", "单个"))  # type: ignore[arg-type]
    assert response.status_code == 400
    assert "JSON array" in response.json()["detail"]


def test_an_oversized_body_is_413_with_the_limit_and_nothing_is_stored(server, room):
    events = [comment(f"big{i}", "长" * 1500) for i in range(1000)]  # ~4.6 MB
    response = server.post_events(room, events)
    assert response.status_code == 413
    assert "4194304 bytes" in response.json()["detail"]
    assert server.state(room)["events_applied"] == 0


def test_more_than_5000_events_is_413_with_the_limit(server, room):
    events = [{"id": f"l{i}", "type": "like", "ts": BASE_TS, "user": {"id": "u"}} for i in range(5001)]
    response = server.post_events(room, events)
    assert response.status_code == 413
    assert "5001" in response.json()["detail"] and "5000" in response.json()["detail"]


def test_ingest_needs_the_room_s_key_and_stores_nothing_without_it(server, room, database_url, redis_url):
    missing = server.post_events(room, [comment("k1", "hi")], api_key="")
    assert missing.status_code == 401
    assert "X-Api-Key" in missing.json()["detail"]
    wrong = server.post_events(room, [comment("k2", "hi")], api_key="crk_not-a-real-key")
    assert wrong.status_code == 401
    assert "not valid" in wrong.json()["detail"]
    other_room = create_room(database_url, redis_url)
    assert server.post_events(room, [comment("k3", "hi")], api_key=other_room.api_key).status_code == 401
    bearer = httpx.post(
        f"{server.url}/api/rooms/{room}/events", json=[comment("k4", "hi")],
        headers={"Authorization": f"Bearer {room.api_key}"},
    )
    assert bearer.json()["accepted"] == 1
    assert server.wait_for_state(room, lambda s: s["events_applied"] == 1)["comments"] == 1


def test_an_unknown_room_answers_like_a_wrong_key_so_it_reveals_nothing(server, room):
    response = server.post_events("no-such-room", [comment("c1", "hi")], api_key=room.api_key)
    assert response.status_code == 401


def test_the_event_contract_is_published_in_the_openapi_schema(server):
    assert httpx.get(f"{server.url}/openapi.json").status_code == 401
    schema = server.admin.get("/openapi.json").json()
    body = schema["paths"]["/api/rooms/{room}/events"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["items"]["$ref"] == "#/components/schemas/Event"
    event = schema["components"]["schemas"]["Event"]
    assert set(event["discriminator"]["mapping"]) >= {"comment", "like", "gift", "viewers", "order", "stream"}
    assert "Order" in schema["components"]["schemas"]
