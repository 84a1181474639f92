"""Kuaishou live-interaction pushes exactly in the platform's format, through the real
hook: signed with kwaisign = md5(raw body + app secret) (computed here from the recipe),
repeats deduplicated, bad or stale signatures refused with nothing stored, a
byte-identical replay answered as a replay, test messages kept out of the counts."""

from __future__ import annotations

import hashlib
import time
import uuid

import httpx
import orjson

from tests.integration.test_platform_feeds import bind, replays_counted


def kwaisign(body: bytes, secret: str) -> str:
    return hashlib.md5(body + secret.encode()).hexdigest()


def envelope(author: str, push_type: str, payload: list[dict], *, message_id: str | None = None,
             event: str = "LIVE_INTERACTION_DATA", timestamp_ms: int | None = None) -> bytes:
    message_id = message_id or f"umid-{uuid.uuid4().hex[:12]}"
    return orjson.dumps({
        "message_id": f"msg-{message_id}", "event": event, "app_id": "ks656399649443988986",
        "timestamp": timestamp_ms or int(time.time() * 1000),
        "data": {"unique_message_id": message_id, "author_open_id": author, "room_code": "KPL704668133",
                 "push_type": push_type, "payload": payload},
    })


def kuaishou_push(server, body: bytes, secret: str, *, signature: str | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", "kwaisign": kwaisign(body, secret) if signature is None else signature}
    if signature == "":
        del headers["kwaisign"]
    return httpx.post(f"{server.url}/hooks/kuaishou", content=body, headers=headers, timeout=10)


def comment(text: str, user: str = "ks-u1", name: str = "小快") -> dict:
    return {"content": text, "userInfo": {"userId": user, "userName": name, "headUrl": "https://p.example/a.jpg"}}


def new_author() -> str:
    return f"ks-author-{uuid.uuid4().hex[:12]}"


def test_kuaishou_comments_are_verified_mapped_and_deduplicated(server, room):
    author = new_author()
    assert bind(server, room, "kuaishou", author, "ks-app-secret-1").status_code == 303
    items = [comment("这个多少钱"), {"content": "没有用户"}, comment("好看", "ks-u2")]
    body = envelope(author, "liveComment", items, message_id="umid-dedup-1")
    response = kuaishou_push(server, body, "ks-app-secret-1")
    assert response.status_code == 200, response.text
    assert response.json() == {"result": 1, "message_id": "msg-umid-dedup-1"}
    state = server.wait_for_state(room, lambda s: s["comments"] == 2)
    assert {c["text"] for c in state["recent_comments"]} == {"这个多少钱", "好看"}
    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    assert any("item 1" in d["reason"] and "userInfo" in d["reason"] for d in dead)
    # The platform's retry of the same message (a later time stamp, so a new signature):
    # the same ids, stored once.
    again = envelope(author, "liveComment", items, message_id="umid-dedup-1",
                     timestamp_ms=int(time.time() * 1000) + 5000)
    assert kuaishou_push(server, again, "ks-app-secret-1").json()["result"] == 1
    time.sleep(1)
    assert server.state(room)["comments"] == 2


def test_kuaishou_likes_gifts_follows_and_shares_are_counted(server, room):
    author = new_author()
    assert bind(server, room, "kuaishou", author, "ks-app-secret-2").status_code == 303
    user = comment("")["userInfo"]
    pushes = [
        envelope(author, "liveLike", [{"count": 5, "userInfo": user}]),
        envelope(author, "giftSend", [{"uniqueNo": uuid.uuid4().hex, "giftId": "11584", "giftName": "小心心",
                                       "giftCount": 2, "giftUnitPrice": 10, "giftTotalPrice": 20, "userInfo": user}]),
        envelope(author, "liveFollow", [{"userInfo": user}]),
        envelope(author, "liveShare", [{"userInfo": user}]),
    ]
    for body in pushes:
        assert kuaishou_push(server, body, "ks-app-secret-2").status_code == 200
    state = server.wait_for_state(room, lambda s: s["shares"] == 1 and s["gifts"] >= 1)
    assert (state["likes"], state["follows"]) == (5, 1)
    assert state["gift_value_cents"] == 200  # 20 快币 × 10 fen


def test_bad_kuaishou_signatures_and_stale_pushes_are_refused_and_store_nothing(server, room):
    author = new_author()
    bind(server, room, "kuaishou", author, "ks-the-real-secret")
    body = envelope(author, "liveComment", [comment("不该出现")])
    wrong = kuaishou_push(server, body, "another-secret")
    missing = kuaishou_push(server, body, "ks-the-real-secret", signature="")
    stale_body = envelope(author, "liveComment", [comment("也不该出现")], timestamp_ms=int(time.time() * 1000) - 3_600_000)
    stale = kuaishou_push(server, stale_body, "ks-the-real-secret")
    assert [r.status_code for r in (wrong, missing, stale)] == [401, 401, 401]
    assert "does not match" in wrong.json()["detail"] and "missing kwaisign" in missing.json()["detail"]
    assert "from now" in stale.json()["detail"]
    time.sleep(0.5)
    state = server.state(room)
    assert state["comments"] == 0 and state["events_applied"] == 0
    assert server.admin.get(f"/api/rooms/{room}/dead-letters").json() == []


def test_a_byte_identical_kuaishou_replay_is_answered_as_a_replay_and_stores_nothing(server, room):
    author = new_author()
    assert bind(server, room, "kuaishou", author, "ks-replay-secret").status_code == 303
    body = envelope(author, "liveComment", [comment("第一条")], timestamp_ms=int(time.time() * 1000) - 20_000)
    before = replays_counted(server, "kuaishou")
    first = kuaishou_push(server, body, "ks-replay-secret")
    assert first.status_code == 200 and "replay" not in first.json(), first.text
    server.wait_for_state(room, lambda s: s["comments"] == 1)
    # The same bytes again, even with the signature in capitals: a replay.
    again = kuaishou_push(server, body, "ks-replay-secret", signature=kwaisign(body, "ks-replay-secret").upper())
    assert again.status_code == 200, again.text
    assert again.json()["replay"] is True and again.json()["result"] == 1
    assert again.json()["message_id"] == first.json()["message_id"]
    time.sleep(1)
    state = server.state(room)
    assert state["comments"] == 1 and state["events_applied"] == 1  # not even offered as a duplicate
    assert replays_counted(server, "kuaishou") == before + 1
    # Another push (a new message) still goes through.
    assert kuaishou_push(server, envelope(author, "liveComment", [comment("第二条")]), "ks-replay-secret").status_code == 200
    server.wait_for_state(room, lambda s: s["comments"] == 2)


def test_kuaishou_test_messages_are_skipped_into_the_dead_letters(server, room):
    author = new_author()
    assert bind(server, room, "kuaishou", author, "ks-test-secret").status_code == 303
    gift = {"uniqueNo": uuid.uuid4().hex, "giftId": "1", "giftCount": 1, "giftTotalPrice": 9_990,
            "userInfo": comment("")["userInfo"]}
    body = envelope(author, "giftSend", [gift], event="LIVE_INTERACTION_DATA_TEST")
    response = kuaishou_push(server, body, "ks-test-secret")
    assert response.status_code == 200, response.text
    assert response.json()["result"] == 1
    assert any("skipped: platform test message" in reason for reason in response.json()["skipped"])
    time.sleep(1)
    assert server.state(room)["gifts"] == 0
    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    (skipped,) = [d for d in dead if gift["uniqueNo"] in d["raw"]]
    assert "skipped: platform test message" in skipped["reason"]


def test_the_webhook_check_event_signed_with_one_of_our_secrets_is_answered(server, room):
    # Saving the URL in the Kuaishou console sends an event that is no live data: answered
    # with result 1 (and kept aside), not counted.
    bind(server, room, "kuaishou", new_author(), "ks-console-secret")
    body = orjson.dumps({"event": "TEST", "message_id": "check-1", "app_id": "ks1",
                         "timestamp": int(time.time() * 1000), "data": {}})
    response = kuaishou_push(server, body, "ks-console-secret")
    assert response.status_code == 200, response.text
    assert response.json() == {"result": 1, "message_id": "check-1"}
    assert kuaishou_push(server, body, "nobody-s-secret").status_code == 401
