"""Platform pushes exactly in the platforms' formats, through the real hooks: signature
valid, invalid, missing, stale; duplicates; an unbound room; a malformed item among good
ones. The ingest websocket. A replay of the sample recording reproduces its totals."""

from __future__ import annotations

import asyncio
import hashlib
import html
import time
import uuid

import httpx
import orjson
import websockets

from controlroom.ingest.adapters.douyin import douyin_signature
from controlroom.metrics.state import RoomState
from controlroom.reports.recording import read_recording
from controlroom.sim.samples import SAMPLE
from tests.support import Process, create_user, csrf_of, login


def bind(server, room, platform: str, external_id: str, secret: str):
    return server.admin.post(f"/rooms/{room}/bindings", data={
        "csrftoken": csrf_of(server.admin), "platform": platform, "external_id": external_id, "secret": secret,
    }, follow_redirects=False)


def douyin_push(server, room_id: str, items: list[dict], secret: str, *, msg_type: str = "live_comment",
                timestamp: int | None = None, signature: str | None = None) -> httpx.Response:
    body = orjson.dumps(items)
    headers = {"x-nonce-str": uuid.uuid4().hex[:8], "x-timestamp": str(timestamp or int(time.time())),
               "x-roomid": room_id, "x-msg-type": msg_type, "content-type": "application/json"}
    headers["x-signature"] = douyin_signature(headers, body, secret) if signature is None else signature
    if signature == "":
        del headers["x-signature"]
    return httpx.post(f"{server.url}/hooks/douyin", content=body, headers=headers, timeout=10)


def comment_item(msg_id: str, text: str, user: str = "sec-u1") -> dict:
    return {"msg_id": msg_id, "sec_openid": user, "content": text, "avatar_url": "https://p.example/a.png",
            "nickname": "小明", "timestamp": int(time.time())}


def test_douyin_comments_are_verified_mapped_and_deduplicated(server, room):
    external = f"7{uuid.uuid4().int % 10**12}"
    assert bind(server, room, "douyin", external, "123abc-secret").status_code == 303
    assert "123abc-secret" not in server.admin.get(f"/rooms/{room}/bindings").text  # never shown in full
    items = [comment_item("m1", "这个多少钱"), {"msg_id": "m2", "content": "没有用户"}, comment_item("m3", "好看", "sec-u2")]
    response = douyin_push(server, external, items, "123abc-secret")
    assert response.status_code == 200, response.text
    state = server.wait_for_state(room, lambda s: s["comments"] == 2)
    assert {c["text"] for c in state["recent_comments"]} == {"这个多少钱", "好看"}
    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    assert any("item 1" in d["reason"] and "sec_openid" in d["reason"] for d in dead)
    # The platform pushes again: counted once.
    assert douyin_push(server, external, items, "123abc-secret").status_code == 200
    time.sleep(1)
    assert server.state(room)["comments"] == 2


def test_bad_signatures_and_stale_pushes_are_refused_and_store_nothing(server, room):
    external = f"7{uuid.uuid4().int % 10**12}"
    bind(server, room, "douyin", external, "the-real-secret")
    item = [comment_item("x1", "不该出现")]
    wrong = douyin_push(server, external, item, "another-secret")
    missing = douyin_push(server, external, item, "the-real-secret", signature="")
    stale = douyin_push(server, external, item, "the-real-secret", timestamp=int(time.time()) - 3600)
    stale_ms = douyin_push(server, external, item, "the-real-secret", timestamp=(int(time.time()) - 3600) * 1000)
    assert [r.status_code for r in (wrong, missing, stale, stale_ms)] == [401, 401, 401, 401]
    assert "does not match" in wrong.json()["detail"] and "missing" in missing.json()["detail"]
    assert "from now" in stale.json()["detail"]
    time.sleep(0.5)
    assert server.state(room)["comments"] == 0


def test_a_push_for_an_unbound_room_is_answered_and_kept_for_tech_staff(server, room, database_url):
    bind(server, room, "douyin", f"7{uuid.uuid4().int % 10**12}", "shared-app-secret")
    stranger = f"9{uuid.uuid4().int % 10**12}"
    response = douyin_push(server, stranger, [comment_item("u1", "谁的直播间")], "shared-app-secret")
    assert response.status_code == 200
    tech = login(server.url, *create_user(database_url, role="tech", rooms=[room]))
    page = tech.get("/feeds/unbound").text
    assert f'data-external="{stranger}"' in page and "谁的直播间" in html.unescape(page)
    # Signed with nobody's secret: refused.
    assert douyin_push(server, stranger, [comment_item("u2", "x")], "unknown").status_code == 401


def test_doudian_orders_with_event_sign_and_the_exact_reply(server, room):
    shop = f"shop-{uuid.uuid4().hex[:6]}"
    assert bind(server, room, "doudian", shop, "app-key-1:app-secret-1").status_code == 303
    paid = {"p_id": 4901, "s_ids": [1], "shop_id": shop, "order_status": 2, "pay_type": 1,
            "pay_time": int(time.time()), "pay_amount": 1990}
    body = orjson.dumps([
        {"tag": "100", "msg_id": f"{shop}-a", "data": orjson.dumps({**paid, "create_time": int(time.time())}).decode()},
        {"tag": "101", "msg_id": f"{shop}-b", "data": orjson.dumps(paid).decode()},
    ])
    sign = hashlib.md5(b"app-key-1" + body + b"app-secret-1").hexdigest()
    response = httpx.post(f"{server.url}/hooks/doudian", content=body,
                          headers={"event-sign": sign, "app-id": "app-key-1", "content-type": "application/json"})
    assert response.status_code == 200 and response.content == b'{"code":0,"msg":"success"}'
    state = server.wait_for_state(room, lambda s: s["orders_paid"] == 1)
    assert state["orders_created"] == 1 and state["gmv_cents"] == 1990
    forged = httpx.post(f"{server.url}/hooks/doudian", content=body, headers={"event-sign": "0" * 32})
    assert forged.status_code == 401


async def test_the_ingest_websocket_streams_batches_with_the_room_key(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/ingest/{room}",
                                  additional_headers={"x-api-key": room.api_key}) as ws:
        now = int(time.time() * 1000)
        await ws.send(orjson.dumps([{"id": "w1", "type": "like", "ts": now, "user": {"id": "u"}, "count": 3}]).decode())
        first = orjson.loads(await ws.recv())
        await ws.send('{"id":"w2","type":"like","ts":%d,"user":{"id":"u"},"count":2}\n{"id":"w3","type":"nope"}' % now)
        second = orjson.loads(await ws.recv())
    assert (first["status"], first["accepted"]) == (200, 1)
    assert (second["status"], second["accepted"], second["rejected"]) == (200, 1, 1)
    await asyncio.to_thread(server.wait_for_state, room, lambda s: s["likes"] == 5)
    try:
        async with websockets.connect(f"{server.ws_url}/ws/ingest/{room}") as ws:
            await ws.recv()
        raise AssertionError("a websocket without the key stayed open")
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd.code == 1008


def test_a_fast_replay_of_the_sample_show_reproduces_its_totals(server, room, tmp_path):
    events = read_recording(SAMPLE)
    expected = RoomState()
    expected.apply(events, {})
    replay = Process(["replay", str(SAMPLE), "--room", room, "--speed", "600", "--url", server.url,
                      "--api-key", room.api_key], dict(server.env), tmp_path / "replay.log").start()
    assert replay.proc.wait(timeout=300) == 0, replay.log_text()
    state = server.wait_for_state(room, lambda s: s["events_applied"] == len(events), timeout=60)
    for total in ("comments", "likes", "gifts", "gift_value_cents", "follows", "shares", "product_clicks",
                  "orders_created", "orders_paid", "gmv_cents", "refunds", "refund_cents", "peak_online"):
        assert state[total] == getattr(expected, total), total
    assert "0 duplicates, 0 rejected" in replay.log_text()


def replays_counted(server, platform: str) -> float:
    """controlroom_push_replays_total{platform=…} as /metrics shows it (0 before the first)."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith("controlroom_push_replays_total{") and f'platform="{platform}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_a_byte_identical_douyin_replay_is_answered_as_a_replay_and_stores_nothing(server, room):
    external = f"7{uuid.uuid4().int % 10**12}"
    assert bind(server, room, "douyin", external, "replay-secret").status_code == 303
    # A fresh msg_id in the replay would get past msg_id dedup; the signature does not.
    body = orjson.dumps([comment_item(f"r-{uuid.uuid4().hex[:8]}", "第一条")])
    headers = {"x-nonce-str": "n0nce", "x-timestamp": str(int(time.time()) - 20), "x-roomid": external,
               "x-msg-type": "live_comment", "content-type": "application/json"}
    headers["x-signature"] = douyin_signature(headers, body, "replay-secret")
    before = replays_counted(server, "douyin")
    first = httpx.post(f"{server.url}/hooks/douyin", content=body, headers=headers, timeout=10)
    assert first.status_code == 200 and "replay" not in first.json(), first.text
    server.wait_for_state(room, lambda s: s["comments"] == 1)
    again = httpx.post(f"{server.url}/hooks/douyin", content=body, headers=headers, timeout=10)
    assert again.status_code == 200, again.text
    assert again.json()["replay"] is True and again.json()["err_no"] == 0
    time.sleep(1)
    state = server.state(room)
    assert state["comments"] == 1 and state["events_applied"] == 1  # not even offered as a duplicate
    assert replays_counted(server, "douyin") == before + 1
    # Another push (new nonce and signature) still goes through.
    assert douyin_push(server, external, [comment_item(f"r-{uuid.uuid4().hex[:8]}", "第二条")],
                       "replay-secret").status_code == 200
    server.wait_for_state(room, lambda s: s["comments"] == 2)


def test_a_byte_identical_doudian_replay_is_answered_as_a_replay_and_stores_nothing(server, room):
    shop = f"shop-{uuid.uuid4().hex[:6]}"
    assert bind(server, room, "doudian", shop, "app-key-2:app-secret-2").status_code == 303
    paid = {"p_id": 5102, "s_ids": [1], "shop_id": shop, "order_status": 2, "pay_type": 1,
            "pay_time": int(time.time()), "pay_amount": 990}
    body = orjson.dumps([{"tag": "101", "msg_id": f"{shop}-{uuid.uuid4().hex[:6]}", "data": orjson.dumps(paid).decode()}])
    headers = {"event-sign": hashlib.md5(b"app-key-2" + body + b"app-secret-2").hexdigest(), "app-id": "app-key-2",
               "content-type": "application/json"}
    before = replays_counted(server, "doudian")
    first = httpx.post(f"{server.url}/hooks/doudian", content=body, headers=headers, timeout=10)
    assert first.status_code == 200 and first.content == b'{"code":0,"msg":"success"}'
    server.wait_for_state(room, lambda s: s["orders_paid"] == 1)
    # The same bytes again, even with the signature in capitals: a replay.
    headers["event-sign"] = headers["event-sign"].upper()
    again = httpx.post(f"{server.url}/hooks/doudian", content=body, headers=headers, timeout=10)
    assert again.status_code == 200, again.text
    assert again.json()["replay"] is True and again.json()["code"] == 0
    time.sleep(1)
    state = server.state(room)
    assert state["orders_paid"] == 1 and state["events_applied"] == 1
    assert replays_counted(server, "doudian") == before + 1


def test_a_douyin_test_gift_beside_a_real_one_is_skipped_into_the_dead_letters(server, room):
    external = f"7{uuid.uuid4().int % 10**12}"
    assert bind(server, room, "douyin", external, "gift-secret").status_code == 303
    real = {"msg_id": f"g-{uuid.uuid4().hex[:8]}", "sec_openid": "sec-u9", "sec_gift_id": "rose", "gift_num": 2,
            "gift_value": 200, "avatar_url": "", "nickname": "大壮", "timestamp": int(time.time()), "test": False}
    test_gift = dict(real, msg_id=f"g-test-{uuid.uuid4().hex[:8]}", test=True, gift_value=99_900)
    response = douyin_push(server, external, [test_gift, real], "gift-secret", msg_type="live_gift")
    assert response.status_code == 200, response.text
    assert any("skipped: platform test message" in reason for reason in response.json()["skipped"])
    state = server.wait_for_state(room, lambda s: s["gifts"] >= 1)
    assert state["gift_value_cents"] == 200
    dead = server.admin.get(f"/api/rooms/{room}/dead-letters").json()
    (skipped,) = [d for d in dead if test_gift["msg_id"] in d["raw"]]
    assert "skipped: platform test message" in skipped["reason"]
    assert all(real["msg_id"] not in d["raw"] for d in dead)
