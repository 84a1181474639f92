"""The Kuaishou adapter: live-interaction pushes exactly as the platform sends them →
canonical events. The signature is computed here from the documented recipe
(kwaisign = lowercase hex md5(raw body + app secret)), not with the adapter's helper."""

from __future__ import annotations

import hashlib
import json

import pytest

from controlroom.events import event_adapter
from controlroom.ingest.adapters import (
    ADAPTERS,
    PushRejected,
    SignatureRejected,
    adapter,
)
from controlroom.ingest.adapters.kuaishou import kuaishou_signature, reply

KUAISHOU = adapter("kuaishou")

NOW_S = 1_763_700_000  # 2025-11-21
NOW_MS = NOW_S * 1000
SECRET = "7d1f0a9c2b3e4d5f-app-secret"
AUTHOR = "f198e20b0c24ac9014bf5724d9d5c043"


def sign(body: bytes, secret: str = SECRET) -> str:
    return hashlib.md5(body + secret.encode("utf-8")).hexdigest()


def push(push_type: str, payload: list, *, event: str = "LIVE_INTERACTION_DATA", ts: int | None = NOW_MS,
         message_id: str = "umid-0001", author: str = AUTHOR, secret: str = SECRET) -> tuple[dict, bytes]:
    """Headers and body as the platform sends them (its header name in its own casing)."""
    envelope = {"message_id": f"msg-{message_id}", "event": event, "app_id": "ks656399649443988986",
                "data": {"unique_message_id": message_id, "author_open_id": author, "room_code": "KPL704668133",
                         "push_type": push_type, "payload": payload}}
    if ts is not None:
        envelope["timestamp"] = ts
    body = json.dumps(envelope, ensure_ascii=False).encode()
    return {"Content-Type": "application/json", "Kwaisign": sign(body, secret)}, body


def viewer(user_id: str = "u-ks-1", name: str = "小快") -> dict:
    return {"userId": user_id, "userName": name, "headUrl": "https://p.kuaishou.example/a.jpg"}


def assert_canonical(event: dict) -> None:
    event_adapter.validate_python(event)


def test_the_adapter_is_registered():
    assert ADAPTERS["kuaishou"] is KUAISHOU
    assert KUAISHOU.platform == "kuaishou"


# ---------------------------------------------------------------- signature and age


def test_kwaisign_is_the_md5_of_body_then_secret_in_lowercase_hex():
    body = b'{"event":"TEST","message_id":"m","timestamp":1}'
    expected = hashlib.md5(body + b"the-secret").hexdigest()
    assert kuaishou_signature(body, "the-secret") == expected
    assert expected == expected.lower() and len(expected) == 32


def test_a_push_signed_as_documented_verifies_with_the_header_in_any_case():
    headers, body = push("liveComment", [{"content": "好", "userInfo": viewer()}])
    KUAISHOU.verify(headers, body, SECRET, now_s=NOW_S)
    KUAISHOU.verify({"kwaisign": headers["Kwaisign"].upper()}, body, SECRET, now_s=NOW_S)
    KUAISHOU.verify({"KWAISIGN": f" {headers['Kwaisign']} "}, body, SECRET, now_s=NOW_S)


def test_the_signature_covers_the_body_and_the_secret():
    headers, body = push("liveComment", [{"content": "好", "userInfo": viewer()}])
    with pytest.raises(SignatureRejected) as caught:
        KUAISHOU.verify(headers, body.replace("好".encode(), "坏".encode()), SECRET, now_s=NOW_S)
    assert caught.value.message == "kwaisign does not match"
    with pytest.raises(SignatureRejected, match="kwaisign does not match"):
        KUAISHOU.verify(headers, body, SECRET + "x", now_s=NOW_S)
    other_headers, _ = push("liveComment", [], secret="someone-else")
    with pytest.raises(SignatureRejected, match="kwaisign does not match"):
        KUAISHOU.verify(other_headers, push("liveComment", [])[1], SECRET, now_s=NOW_S)


def test_a_missing_kwaisign_is_rejected():
    headers, body = push("liveLike", [])
    del headers["Kwaisign"]
    with pytest.raises(SignatureRejected) as caught:
        KUAISHOU.verify(headers, body, SECRET, now_s=NOW_S)
    assert caught.value.message == "missing kwaisign"
    with pytest.raises(SignatureRejected, match="missing kwaisign"):
        KUAISHOU.verify({"kwaisign": ""}, body, SECRET, now_s=NOW_S)


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_a_stale_or_early_push_is_refused_as_a_replay(scale):
    for age_s in (301, -301, 86_400):
        headers, body = push("liveLike", [], ts=(NOW_S - age_s) * scale)
        with pytest.raises(SignatureRejected) as caught:
            KUAISHOU.verify(headers, body, SECRET, now_s=NOW_S)
        assert "a replayed or delayed push" in caught.value.message
        assert f"is {abs(age_s)} s from now" in caught.value.message
    for age_s in (0, 299, -299):
        headers, body = push("liveLike", [], ts=(NOW_S - age_s) * scale)
        KUAISHOU.verify(headers, body, SECRET, now_s=NOW_S)


def test_a_live_push_without_a_readable_timestamp_is_refused():
    headers, body = push("liveLike", [], ts=None)
    with pytest.raises(SignatureRejected, match="missing timestamp"):
        KUAISHOU.verify(headers, body, SECRET, now_s=NOW_S)
    envelope = json.loads(push("liveLike", [])[1])
    envelope["timestamp"] = "yesterday"
    body = json.dumps(envelope).encode()
    with pytest.raises(SignatureRejected, match='timestamp "yesterday" is not a Unix time stamp'):
        KUAISHOU.verify({"kwaisign": sign(body)}, body, SECRET, now_s=NOW_S)


def test_the_webhook_check_and_other_events_verify_without_a_timestamp():
    # Not live data, nothing counted: only the signature matters.
    body = json.dumps({"event": "TEST", "message_id": "check-1", "app_id": "ks1"}).encode()
    KUAISHOU.verify({"kwaisign": sign(body)}, body, SECRET, now_s=NOW_S)


def test_a_push_is_fingerprinted_by_its_kwaisign_as_verify_compares_it():
    headers, _ = push("liveLike", [{"count": 1, "userInfo": viewer()}])
    fingerprint = KUAISHOU.replay_fingerprint(headers)
    assert fingerprint == headers["Kwaisign"]
    assert KUAISHOU.replay_fingerprint({"kwaisign": headers["Kwaisign"].upper() + " "}) == fingerprint
    later, _ = push("liveLike", [{"count": 1, "userInfo": viewer()}], ts=NOW_MS + 1)
    assert KUAISHOU.replay_fingerprint(later) != fingerprint
    # Remembered for the whole window the timestamp is accepted in (either side of our clock), and more.
    assert KUAISHOU.replay_ttl_s > 2 * 300


# ---------------------------------------------------------------- mapping


def test_comments_map_to_canonical_comments():
    headers, body = push("liveComment", [{"content": "这个多少钱", "userInfo": viewer("u-1", "小明")}])
    result = KUAISHOU.translate(headers, body)
    assert result.rejected == [] and result.skipped == []
    assert result.external_room == AUTHOR
    assert result.events == [{
        "id": "ks-umid-0001-0", "type": "comment", "ts": NOW_MS, "source": "kuaishou",
        "user": {"id": "u-1", "name": "小明"}, "text": "这个多少钱",
    }]
    assert_canonical(result.events[0])


def test_likes_keep_the_merged_count():
    headers, body = push("liveLike", [{"count": 37, "userInfo": viewer("u-2", "阿花")}])
    (event,) = KUAISHOU.translate(headers, body).events
    assert (event["type"], event["count"]) == ("like", 37)
    assert event["user"] == {"id": "u-2", "name": "阿花"}
    assert_canonical(event)


def test_gifts_are_valued_in_fen_at_ten_fen_per_kuaibi():
    gift = {"uniqueNo": "G2025112100001", "giftId": "11584", "giftName": "小心心", "giftCount": 3,
            "giftUnitPrice": 10, "giftTotalPrice": 30, "userInfo": viewer("u-3", "大壮"), "normalGift": True}
    headers, body = push("giftSend", [gift])
    (event,) = KUAISHOU.translate(headers, body).events
    assert event["id"] == "ks-gift-G2025112100001"  # the gift's own transaction number
    assert (event["type"], event["gift"], event["gift_name"]) == ("gift", "11584", "小心心")
    assert (event["count"], event["value_cents"]) == (3, 300)  # 30 快币 = ¥3.00
    assert event["user"] == {"id": "u-3", "name": "大壮"}
    assert_canonical(event)


def test_a_gift_without_a_total_is_valued_from_its_unit_price():
    gift = {"giftId": "1", "giftCount": 4, "giftUnitPrice": 5, "userInfo": viewer()}
    (event,) = KUAISHOU.translate(*push("giftSend", [gift])).events
    assert event["value_cents"] == 4 * 5 * 10
    assert event["id"] == "ks-umid-0001-0"  # no uniqueNo: the push's id and the item's place


def test_follows_and_shares_carry_the_user():
    (follow,) = KUAISHOU.translate(*push("liveFollow", [{"userInfo": viewer("u-f")}])).events
    (share,) = KUAISHOU.translate(*push("liveShare", [{"userInfo": viewer("u-s")}])).events
    assert (follow["type"], follow["user"]["id"]) == ("follow", "u-f")
    assert (share["type"], share["user"]["id"]) == ("share", "u-s")
    assert_canonical(follow)
    assert_canonical(share)


def test_every_item_of_a_push_gets_its_own_id_and_a_repeat_keeps_them():
    items = [{"content": "一", "userInfo": viewer()}, {"content": "二", "userInfo": viewer()}]
    first = KUAISHOU.translate(*push("liveComment", items)).events
    again = KUAISHOU.translate(*push("liveComment", items, ts=NOW_MS + 5000)).events  # the platform's retry
    assert [e["id"] for e in first] == ["ks-umid-0001-0", "ks-umid-0001-1"]
    assert [e["id"] for e in again] == [e["id"] for e in first]  # dropped downstream as duplicates


def test_items_take_the_push_time_in_seconds_or_milliseconds_or_the_arrival_time():
    item = [{"count": 1, "userInfo": viewer()}]
    assert KUAISHOU.translate(*push("liveLike", item, ts=NOW_S)).events[0]["ts"] == NOW_MS
    assert KUAISHOU.translate(*push("liveLike", item, ts=NOW_MS + 999)).events[0]["ts"] == NOW_MS + 999
    assert KUAISHOU.translate(*push("liveLike", item, ts=None), now_ms=NOW_MS + 7).events[0]["ts"] == NOW_MS + 7


def test_the_envelope_message_id_stands_in_for_a_missing_unique_message_id():
    headers, body = push("liveLike", [{"count": 1, "userInfo": viewer()}])
    envelope = json.loads(body)
    del envelope["data"]["unique_message_id"]
    body = json.dumps(envelope).encode()
    assert KUAISHOU.translate(headers, body).events[0]["id"] == "ks-msg-umid-0001-0"


# ---------------------------------------------------------------- test messages


@pytest.mark.parametrize(("event", "message_id", "why"), [
    ("LIVE_INTERACTION_DATA_TEST", "umid-9", "event=LIVE_INTERACTION_DATA_TEST"),
    ("LIVE_INTERACTION_DATA", "test_171", "unique_message_id=test_171"),
    ("LIVE_INTERACTION_DATA", "stress_172", "unique_message_id=stress_172"),
])
def test_test_messages_are_skipped_not_counted(event, message_id, why):
    # Sparse items too: a test item is skipped before its fields are checked.
    items = [{"uniqueNo": "T1", "giftId": "1", "giftCount": 1, "giftTotalPrice": 99_999, "userInfo": viewer()}, {}]
    result = KUAISHOU.translate(*push("giftSend", items, event=event, message_id=message_id))
    assert result.events == [] and result.rejected == []
    assert [reason for _, reason in result.skipped] == [
        f"item 0: skipped: platform test message ({why}): not counted",
        f"item 1: skipped: platform test message ({why}): not counted",
    ]
    assert json.loads(result.skipped[0][0])["uniqueNo"] == "T1"


def test_a_stress_test_reaches_the_bound_room():
    result = KUAISHOU.translate(*push("liveLike", [{"count": 1, "userInfo": viewer()}],
                                      event="LIVE_INTERACTION_DATA_TEST", author=f"stress_{AUTHOR}"))
    assert result.external_room == AUTHOR and len(result.skipped) == 1


# ---------------------------------------------------------------- malformed


def test_a_malformed_item_among_good_ones_is_rejected_alone_naming_its_field():
    items = [
        {"content": "好", "userInfo": viewer("u0")},
        {"content": "没有用户"},
        {"content": "没有 id", "userInfo": {"userName": "无名"}},
        "not an object",
        {"content": 42, "userInfo": viewer("u4")},
        {"content": "x" * 2001, "userInfo": viewer("u5")},
        {"content": "好", "userInfo": "u6"},
        {"content": "好", "userInfo": viewer("u7")},
    ]
    result = KUAISHOU.translate(*push("liveComment", items))
    assert [e["id"] for e in result.events] == ["ks-umid-0001-0", "ks-umid-0001-7"]
    reasons = [reason for _, reason in result.rejected]
    assert reasons == [
        "item 1: missing userInfo",
        "item 2: missing userInfo.userId",
        "item 3: not a JSON object",
        "item 4: content: expected text, got 42",
        "item 5: text: String should have at most 2000 characters",
        "item 6: userInfo: expected a JSON object, got a JSON string",
    ]
    assert json.loads(result.rejected[0][0]) == {"content": "没有用户"}


def test_malformed_gifts_and_likes_name_their_field():
    items = [
        {"giftId": "1", "giftCount": 2, "userInfo": viewer()},
        {"giftId": "1", "giftCount": "many", "giftTotalPrice": 1, "userInfo": viewer()},
        {"giftCount": 1, "giftTotalPrice": 1, "userInfo": viewer()},
    ]
    reasons = [r for _, r in KUAISHOU.translate(*push("giftSend", items)).rejected]
    assert reasons == [
        "item 0: missing giftTotalPrice (and no giftUnitPrice)",
        'item 1: giftCount: expected an integer, got "many"',
        "item 2: missing giftId",
    ]
    likes = KUAISHOU.translate(*push("liveLike", [{"userInfo": viewer()}, {"count": 0, "userInfo": viewer()}]))
    assert [r for _, r in likes.rejected] == [
        "item 0: missing count",
        "item 1: count: Input should be greater than or equal to 1",
    ]


def test_an_unmapped_push_type_rejects_its_items_but_not_the_push():
    result = KUAISHOU.translate(*push("liveEnter", [{"userInfo": viewer()}]))
    assert result.events == []
    ((_, reason),) = result.rejected
    assert reason.startswith("item 0: push_type 'liveEnter' is not mapped (known: liveComment, liveLike, giftSend")


def test_a_body_that_is_not_a_live_interaction_push_rejects_the_push():
    with pytest.raises(PushRejected) as caught:
        KUAISHOU.translate({}, b"[1, 2]")
    assert caught.value.message == "body: not a JSON object (got a JSON array)"
    with pytest.raises(PushRejected, match=r"body: not a JSON object \(not valid JSON"):
        KUAISHOU.translate({}, b"{")
    with pytest.raises(PushRejected, match='event "AUTHORIZE" is not live-interaction data'):
        KUAISHOU.translate({}, json.dumps({"event": "AUTHORIZE", "data": {"open_id": "x"}}).encode())
    _, body = push("liveLike", [])
    envelope = json.loads(body)
    for change, message in [
        (lambda e: e.pop("data"), "missing data"),
        (lambda e: e["data"].pop("push_type"), "missing data.push_type"),
        (lambda e: e["data"].update(payload={"count": 1}), "data.payload: expected a JSON array, got a JSON object"),
        (lambda e: (e["data"].pop("unique_message_id"), e.pop("message_id")), "missing data.unique_message_id"),
    ]:
        broken = json.loads(json.dumps(envelope))
        change(broken)
        with pytest.raises(PushRejected, match=message):
            KUAISHOU.translate({}, json.dumps(broken).encode())


# ---------------------------------------------------------------- reply


def test_the_reply_is_result_1_with_the_push_message_id():
    _, body = push("liveLike", [])
    assert json.loads(reply(body)) == {"result": 1, "message_id": "msg-umid-0001"}
    assert json.loads(reply(body, {"replay": True})) == {"result": 1, "message_id": "msg-umid-0001", "replay": True}
    assert json.loads(reply(b"not json")) == {"result": 1}
