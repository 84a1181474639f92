"""Platform adapters: payloads exactly as Douyin and Doudian push them → canonical events."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from controlroom.events import event_adapter
from controlroom.ingest.adapters import ADAPTERS, PushRejected, SignatureRejected, adapter
from controlroom.ingest.adapters.doudian import doudian_signature, reply
from controlroom.ingest.adapters.douyin import douyin_signature

DOUYIN = adapter("douyin")
DOUDIAN = adapter("doudian")

NOW_S = 1_763_700_000  # 2025-11-21
SECRET = "s3cr3t-from-the-console"


def douyin_push(msg_type: str, items: list, *, secret: str = SECRET, ts: int = NOW_S, room: str = "7301234567890") -> tuple[dict, bytes]:
    """Headers and body as the platform sends them (header names in its own casing)."""
    body = json.dumps(items, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Roomid": room,
        "X-Msg-Type": msg_type,
        "X-Nonce-Str": "k7Hq2Z",
        "X-Timestamp": str(ts),
    }
    headers["X-Signature"] = douyin_signature(headers, body, secret)
    return headers, body


def assert_canonical(event: dict) -> None:
    event_adapter.validate_python(event)  # raises if not a valid canonical event


# ---------------------------------------------------------------- Douyin: signature


OFFICIAL_HEADERS = {
    "x-nonce-str": "123456",
    "x-timestamp": "456789",
    "x-roomid": "268",
    "x-msg-type": "user_group",
}
OFFICIAL_BODY = "abc123你好".encode()
OFFICIAL_SECRET = "123abc"
OFFICIAL_SIGNATURE = "GAkalGmhzqlUGQO/TgvMug=="


def test_the_official_douyin_example_signs_as_documented():
    assert douyin_signature(OFFICIAL_HEADERS, OFFICIAL_BODY, OFFICIAL_SECRET) == OFFICIAL_SIGNATURE


def test_the_official_douyin_example_verifies_with_header_names_in_any_case():
    headers = {name.upper(): value for name, value in OFFICIAL_HEADERS.items()}
    headers["Content-Type"] = "application/json"  # not signed
    headers["X-Signature"] = OFFICIAL_SIGNATURE
    DOUYIN.verify(headers, OFFICIAL_BODY, OFFICIAL_SECRET, now_s=456_789 + 10)


def test_the_signature_covers_every_signed_header_the_body_and_the_secret():
    good = dict(OFFICIAL_HEADERS, **{"x-signature": OFFICIAL_SIGNATURE})
    now = 456_789
    for name in OFFICIAL_HEADERS:
        changed = dict(good, **{name: good[name] + "0"})
        if name == "x-timestamp":
            changed[name] = "456790"
        with pytest.raises(SignatureRejected, match="x-signature does not match"):
            DOUYIN.verify(changed, OFFICIAL_BODY, OFFICIAL_SECRET, now_s=now)
    with pytest.raises(SignatureRejected, match="does not match"):
        DOUYIN.verify(good, "abc123你好 ".encode(), OFFICIAL_SECRET, now_s=now)
    with pytest.raises(SignatureRejected, match="does not match"):
        DOUYIN.verify(good, OFFICIAL_BODY, "123abd", now_s=now)


def test_a_missing_douyin_signature_is_rejected():
    headers, body = douyin_push("live_comment", [])
    del headers["X-Signature"]
    with pytest.raises(SignatureRejected) as caught:
        DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)
    assert caught.value.message == "missing x-signature"
    headers["X-Signature"] = ""
    with pytest.raises(SignatureRejected, match="missing x-signature"):
        DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)


def test_a_douyin_push_signed_with_another_secret_is_rejected():
    headers, body = douyin_push("live_comment", [], secret="someone-else")
    with pytest.raises(SignatureRejected) as caught:
        DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)
    assert caught.value.message == "x-signature does not match"


@pytest.mark.parametrize("scale", [1, 1000], ids=["seconds", "milliseconds"])
def test_a_stale_douyin_push_is_refused_as_a_replay(scale):
    for age_s in (301, -301, 86_400):
        headers, body = douyin_push("live_comment", [], ts=(NOW_S - age_s) * scale)
        with pytest.raises(SignatureRejected) as caught:
            DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)
        assert "a replayed or delayed push" in caught.value.message
        assert f"is {abs(age_s)} s from now" in caught.value.message
    for age_s in (0, 299, -299):
        headers, body = douyin_push("live_comment", [], ts=(NOW_S - age_s) * scale)
        DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)


def test_a_douyin_push_without_a_readable_timestamp_is_refused():
    headers, body = douyin_push("live_comment", [])
    headers["X-Timestamp"] = "yesterday"
    headers["X-Signature"] = douyin_signature(headers, body, SECRET)
    with pytest.raises(SignatureRejected, match="x-timestamp 'yesterday' is not"):
        DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)


# ---------------------------------------------------------------- Douyin: mapping


def test_douyin_comments_map_to_canonical_comments():
    headers, body = douyin_push("live_comment", [{
        "msg_id": "7301122334455667788", "sec_openid": "0f1e2d3c-sec", "content": "这个是正品吗",
        "avatar_url": "https://p3.douyinpic.com/a.jpeg", "nickname": "小明", "timestamp": NOW_S,
    }])
    result = DOUYIN.translate(headers, body)
    assert result.rejected == []
    assert result.external_room == "7301234567890"
    assert result.events == [{
        "id": "dy-7301122334455667788", "type": "comment", "ts": NOW_S * 1000, "source": "douyin",
        "user": {"id": "0f1e2d3c-sec", "name": "小明"}, "text": "这个是正品吗",
    }]
    assert_canonical(result.events[0])


def test_douyin_likes_keep_the_merged_count():
    headers, body = douyin_push("live_like", [{
        "msg_id": "m-like-1", "sec_openid": "u-2", "like_num": 37, "avatar_url": "", "nickname": "阿花",
        "timestamp": NOW_S * 1000 + 250,
    }])
    (event,) = DOUYIN.translate(headers, body).events
    assert event["type"] == "like" and event["count"] == 37 and event["ts"] == NOW_S * 1000 + 250
    assert event["user"] == {"id": "u-2", "name": "阿花"}
    assert_canonical(event)


def test_douyin_gifts_carry_the_gift_count_and_value_in_fen():
    headers, body = douyin_push("live_gift", [{
        "msg_id": "m-gift-1", "sec_openid": "u-3", "sec_gift_id": "n1/Dg1905sj1FyoBlQBvmbaDZFBNaKuKZH6zxHkv8Lg5x2cRfrKUTb8gzMs=",
        "gift_num": 3, "gift_value": 300, "avatar_url": "", "nickname": "大壮", "timestamp": NOW_S, "test": False,
    }])
    result = DOUYIN.translate(headers, body)
    assert result.rejected == []
    (event,) = result.events
    assert event["type"] == "gift"
    assert event["gift"] == "n1/Dg1905sj1FyoBlQBvmbaDZFBNaKuKZH6zxHkv8Lg5x2cRfrKUTb8gzMs="
    assert (event["count"], event["value_cents"]) == (3, 300)
    assert_canonical(event)


def test_douyin_test_gifts_are_not_counted_but_skipped_with_a_reason():
    good = {"msg_id": "g-real", "sec_openid": "u", "sec_gift_id": "rose", "gift_num": 1, "gift_value": 10,
            "nickname": "n", "timestamp": NOW_S, "test": False}
    test_gift = dict(good, msg_id="g-test", test=True)
    headers, body = douyin_push("live_gift", [test_gift, good])
    result = DOUYIN.translate(headers, body)
    assert [e["id"] for e in result.events] == ["dy-g-real"]
    assert result.rejected == []
    (raw, reason), = result.skipped
    assert reason == "item 0: skipped: platform test message (test=true): not counted"
    assert json.loads(raw)["msg_id"] == "g-test"


@pytest.mark.parametrize("flag", [True, 1, "true", "1"])
def test_a_douyin_test_message_is_skipped_before_its_fields_are_checked(flag):
    # The debug tools' items may lack the fields of a real one: still a test message.
    headers, body = douyin_push("live_gift", [{"msg_id": "g-debug", "test": flag}])
    result = DOUYIN.translate(headers, body)
    assert result.events == [] and result.rejected == []
    assert [reason.split(" (")[0] for _, reason in result.skipped] == ["item 0: skipped: platform test message"]


def test_a_douyin_push_is_fingerprinted_by_its_signature_nonce_and_timestamp():
    headers, body = douyin_push("live_comment", [])
    DOUYIN.verify(headers, body, SECRET, now_s=NOW_S)
    fingerprint = DOUYIN.replay_fingerprint(headers)
    # Byte-identical, or with header names in other casing or the signature padded: the same push.
    assert DOUYIN.replay_fingerprint({k.lower(): v for k, v in headers.items()}) == fingerprint
    assert DOUYIN.replay_fingerprint(dict(headers, **{"X-Signature": f" {headers['X-Signature']} "})) == fingerprint
    # A new nonce or time stamp is a new push (and a new signature).
    assert DOUYIN.replay_fingerprint(douyin_push("live_comment", [], ts=NOW_S + 1)[0]) != fingerprint
    other = dict(headers, **{"X-Nonce-Str": "other"})
    other["X-Signature"] = douyin_signature(other, body, SECRET)
    assert DOUYIN.replay_fingerprint(other) != fingerprint
    # Remembered for the whole window x-timestamp is accepted in (either side of our clock), and a little more.
    assert DOUYIN.replay_ttl_s > 2 * 300


@pytest.mark.parametrize(("reason_type", "joined"), [(1, False), (2, True)])
def test_douyin_fansclub_upgrades_and_joins(reason_type, joined):
    headers, body = douyin_push("live_fansclub", [{
        "msg_id": f"fc-{reason_type}", "sec_openid": "u-4", "fansclub_reason_type": reason_type,
        "fansclub_level": 5, "avatar_url": "", "nickname": "粉丝", "timestamp": NOW_S,
    }])
    (event,) = DOUYIN.translate(headers, body).events
    assert event["type"] == "fansclub"
    assert (event["level"], event["joined"]) == (5, joined)
    assert_canonical(event)


def test_douyin_timestamps_in_seconds_and_milliseconds_mean_the_same_instant():
    items = [
        {"msg_id": "s", "sec_openid": "u", "content": "a", "nickname": "n", "timestamp": 1_763_700_000},
        {"msg_id": "ms", "sec_openid": "u", "content": "b", "nickname": "n", "timestamp": 1_763_700_000_000},
        {"msg_id": "ms2", "sec_openid": "u", "content": "c", "nickname": "n", "timestamp": 1_763_700_000_999},
    ]
    headers, body = douyin_push("live_comment", items)
    assert [e["ts"] for e in DOUYIN.translate(headers, body).events] == [
        1_763_700_000_000, 1_763_700_000_000, 1_763_700_000_999,
    ]


def test_douyin_ids_are_prefixed_so_platforms_never_collide_and_repeats_keep_their_id():
    item = {"msg_id": "42", "sec_openid": "u", "like_num": 1, "nickname": "n", "timestamp": NOW_S}
    headers, body = douyin_push("live_like", [item, item])
    events = DOUYIN.translate(headers, body).events
    assert [e["id"] for e in events] == ["dy-42", "dy-42"]  # the repeat is dropped downstream by id


def test_a_malformed_douyin_item_among_good_ones_is_rejected_alone():
    items = [
        {"msg_id": "c0", "sec_openid": "u0", "content": "好", "nickname": "a", "timestamp": NOW_S},
        {"msg_id": "c1", "sec_openid": "u1", "content": "好", "nickname": "b", "timestamp": NOW_S},
        {"msg_id": "c2", "content": "没有用户", "nickname": "c", "timestamp": NOW_S},
        "not an object",
        {"msg_id": "c4", "sec_openid": "u4", "content": "x" * 2001, "nickname": "d", "timestamp": NOW_S},
        {"msg_id": "c5", "sec_openid": "u5", "content": "好", "nickname": "e", "timestamp": "soon"},
        {"msg_id": "c6", "sec_openid": "u6", "content": "好", "nickname": "f", "timestamp": NOW_S},
    ]
    headers, body = douyin_push("live_comment", items)
    result = DOUYIN.translate(headers, body)
    assert [e["id"] for e in result.events] == ["dy-c0", "dy-c1", "dy-c6"]
    reasons = [reason for _, reason in result.rejected]
    assert reasons[0] == "item 2: missing sec_openid"
    assert reasons[1] == "item 3: not a JSON object"
    assert reasons[2].startswith("item 4: text: String should have at most 2000 characters")
    assert reasons[3].startswith("item 5: timestamp: expected an integer")
    assert json.loads(result.rejected[0][0])["msg_id"] == "c2"
    for event in result.events:
        assert_canonical(event)


def test_douyin_values_the_canonical_contract_refuses_are_rejected_with_its_reason():
    items = [
        {"msg_id": "l0", "sec_openid": "u", "like_num": 0, "nickname": "n", "timestamp": NOW_S},
        {"msg_id": "l1", "sec_openid": "u", "like_num": 2, "nickname": "n", "timestamp": NOW_S},
    ]
    headers, body = douyin_push("live_like", items)
    result = DOUYIN.translate(headers, body)
    assert [e["id"] for e in result.events] == ["dy-l1"]
    assert result.rejected[0][1] == "item 0: count: Input should be greater than or equal to 1"


def test_an_unknown_douyin_message_type_or_a_body_that_is_not_an_array_rejects_the_push():
    headers, body = douyin_push("user_group", [])
    with pytest.raises(PushRejected, match="x-msg-type 'user_group' is not one of live_comment"):
        DOUYIN.translate(headers, body)
    headers, _ = douyin_push("live_comment", [])
    with pytest.raises(PushRejected) as caught:
        DOUYIN.translate(headers, b'{"msg_id": "1"}')
    assert caught.value.message == "body: not a JSON array (got a JSON object)"
    with pytest.raises(PushRejected, match=r"body: not a JSON array \(not valid JSON"):
        DOUYIN.translate(headers, b"[{")
    del headers["X-Msg-Type"]
    with pytest.raises(PushRejected, match="missing x-msg-type"):
        DOUYIN.translate(headers, b"[]")


# ---------------------------------------------------------------- Doudian

APP_KEY = "7012345678901234567"
APP_SECRET = "9a8b7c6d-5e4f-3a2b-1c0d-ef0123456789"
DD_SECRET = f"{APP_KEY}:{APP_SECRET}"
SHOP = 4463798
P_ID = 4781320682406083640


def doudian_push(messages: list[tuple[int, str, dict | str]], *, sign_with: str = APP_SECRET) -> tuple[dict, bytes]:
    """The push as Doudian sends it: data is the JSON *text* of the message's object."""
    items = [
        {"tag": str(tag), "msg_id": msg_id, "data": data if isinstance(data, str) else json.dumps(data)}
        for tag, msg_id, data in messages
    ]
    body = json.dumps(items).encode()
    sign = hashlib.md5(APP_KEY.encode() + body + sign_with.encode()).hexdigest()
    return {"Content-Type": "application/json", "app-id": APP_KEY, "event-sign": sign}, body


def test_doudian_sign_is_the_md5_of_key_body_secret_in_lowercase_hex():
    body = b'[{"tag":"101","msg_id":"1","data":"{}"}]'
    expected = hashlib.md5(b"app" + body + b"sec").hexdigest()
    assert doudian_signature(body, "app", "sec") == expected
    assert expected == expected.lower() and len(expected) == 32
    headers = {"Event-Sign": expected, "App-Id": "app"}
    DOUDIAN.verify(headers, body, "app:sec", now_s=0)
    # An uppercase hex sign is the same digest.
    DOUDIAN.verify({"event-sign": expected.upper()}, body, "app:sec", now_s=0)


def test_doudian_pushes_with_a_wrong_or_missing_sign_are_rejected():
    headers, body = doudian_push([(101, "m1", {"p_id": P_ID, "shop_id": SHOP, "pay_amount": 100})], sign_with="wrong")
    with pytest.raises(SignatureRejected) as caught:
        DOUDIAN.verify(headers, body, DD_SECRET, now_s=NOW_S)
    assert caught.value.message == "event-sign does not match"
    headers, body = doudian_push([])
    DOUDIAN.verify(headers, body, DD_SECRET, now_s=NOW_S)
    with pytest.raises(SignatureRejected, match="event-sign does not match"):
        DOUDIAN.verify(headers, body + b" ", DD_SECRET, now_s=NOW_S)
    del headers["event-sign"]
    with pytest.raises(SignatureRejected) as caught:
        DOUDIAN.verify(headers, body, DD_SECRET, now_s=NOW_S)
    assert caught.value.message == "missing event-sign"


def test_a_doudian_secret_splits_on_the_first_colon_and_must_have_both_parts():
    headers, body = doudian_push([])
    sign = hashlib.md5(b"key" + body + b"se:cret").hexdigest()
    DOUDIAN.verify({"event-sign": sign}, body, "key:se:cret", now_s=0)
    with pytest.raises(SignatureRejected, match="<app_key>:<app_secret>"):
        DOUDIAN.verify(headers, body, APP_SECRET.replace("-", ""), now_s=0)


def test_a_doudian_push_for_another_app_is_rejected():
    headers, body = doudian_push([])
    headers["app-id"] = "1111"
    with pytest.raises(SignatureRejected, match="app-id 1111 is not the app_key"):
        DOUDIAN.verify(headers, body, DD_SECRET, now_s=NOW_S)


def test_the_doudian_reply_is_exactly_what_the_platform_expects():
    assert reply() == b'{"code":0,"msg":"success"}'


def test_a_doudian_push_is_fingerprinted_by_its_sign_as_verify_compares_it():
    headers, _ = doudian_push([(101, "m1", {"p_id": P_ID, "shop_id": SHOP, "pay_amount": 100})])
    fingerprint = DOUDIAN.replay_fingerprint(headers)
    assert DOUDIAN.replay_fingerprint({"Event-Sign": headers["event-sign"].upper() + " "}) == fingerprint
    other_headers, _ = doudian_push([(101, "m2", {"p_id": P_ID, "shop_id": SHOP, "pay_amount": 100})])
    assert DOUDIAN.replay_fingerprint(other_headers) != fingerprint
    assert DOUDIAN.replay_ttl_s >= 3600  # no time stamp in the push: a chosen window


def order_lifecycle() -> list[tuple[int, str, dict]]:
    return [
        (100, "m-100", {"p_id": P_ID, "s_ids": [P_ID + 1], "shop_id": SHOP, "order_status": 1, "order_type": 0,
                        "create_time": NOW_S, "biz": 2}),
        (101, "m-101", {"p_id": P_ID, "s_ids": [P_ID + 1], "shop_id": SHOP, "order_status": 2, "order_type": 0,
                        "pay_type": 1, "pay_time": NOW_S + 30, "pay_amount": 1990, "biz": 2}),
        (106, "m-106", {"p_id": P_ID, "s_ids": [P_ID + 1], "shop_id": SHOP, "order_status": 4, "order_type": 0,
                        "cancel_time": NOW_S + 60, "cancel_reason": "不想要了", "biz": 2}),
    ]


def test_doudian_created_paid_and_cancelled_map_to_canonical_orders():
    headers, body = doudian_push(order_lifecycle())
    result = DOUDIAN.translate(headers, body)
    assert result.rejected == []
    assert result.external_room == str(SHOP)
    created, paid, cancelled = result.events
    for event in result.events:
        assert_canonical(event)
        assert event["type"] == "order" and event["source"] == "doudian"
        assert event["order_id"] == str(P_ID)
        assert event["user"] == {"id": f"dd-order-{P_ID}"}
        assert "sku" not in event
    assert [e["id"] for e in result.events] == ["dd-m-100", "dd-m-101", "dd-m-106"]
    assert [e["status"] for e in result.events] == ["created", "paid", "cancelled"]
    assert [e["ts"] for e in result.events] == [NOW_S * 1000, (NOW_S + 30) * 1000, (NOW_S + 60) * 1000]
    assert paid["amount_cents"] == 1990
    assert (created["amount_cents"], cancelled["amount_cents"]) == (0, 0)  # the push carries no amount


def test_doudian_data_must_be_the_json_encoded_object():
    headers, body = doudian_push([
        (101, "bad-json", "{p_id: 1"),
        (101, "array", "[1, 2]"),
        (101, "ok", {"p_id": P_ID, "shop_id": SHOP, "pay_time": NOW_S, "pay_amount": 500}),
    ])
    result = DOUDIAN.translate(headers, body)
    assert [e["id"] for e in result.events] == ["dd-ok"]
    reasons = [reason for _, reason in result.rejected]
    assert reasons[0].startswith("item 0: data: not valid JSON")
    assert reasons[1] == "item 1: data: expected a JSON object, got a JSON array"


@pytest.mark.parametrize("tag", [206, 207])
def test_doudian_refund_success_counts_the_refund_amount(tag):
    data = {"p_id": P_ID, "s_id": P_ID + 1, "shop_id": SHOP, "aftersale_id": 7001, "aftersale_status": 12,
            "aftersale_type": 2, "refund_amount": 1500, "refund_post_amount": 0, "success_time": NOW_S + 600}
    headers, body = doudian_push([(tag, f"m-{tag}", data)])
    result = DOUDIAN.translate(headers, body)
    assert result.rejected == []
    (event,) = result.events
    assert_canonical(event)
    assert event["status"] == "refunded"
    assert event["amount_cents"] == 1500
    assert event["ts"] == (NOW_S + 600) * 1000
    assert event["order_id"] == f"{P_ID}/{P_ID + 1}"  # a refund is per sub-order


def test_doudian_refunds_of_two_sub_orders_are_two_refunds_and_without_refund_amount_use_pay_amount():
    base = {"p_id": P_ID, "shop_id": SHOP, "success_time": NOW_S}
    headers, body = doudian_push([
        (206, "r1", dict(base, s_id=P_ID + 1, refund_amount=700)),
        (206, "r2", dict(base, s_id=P_ID + 2, pay_amount=1290)),
        (206, "r3", dict(base, s_id=P_ID + 3)),
    ])
    result = DOUDIAN.translate(headers, body)
    assert [(e["order_id"], e["amount_cents"]) for e in result.events] == [
        (f"{P_ID}/{P_ID + 1}", 700), (f"{P_ID}/{P_ID + 2}", 1290),
    ]
    assert result.rejected[0][1] == "item 2: missing data.refund_amount (and no data.pay_amount)"


def test_a_closed_after_sale_is_not_a_refund():
    data = {"p_id": P_ID, "s_id": P_ID + 1, "shop_id": SHOP, "aftersale_status": 28, "refund_amount": 1500,
            "close_time": NOW_S}
    headers, body = doudian_push([(207, "closed", data)])
    result = DOUDIAN.translate(headers, body)
    assert result.events == []
    assert "closed without a refund" in result.rejected[0][1]


def test_doudian_refund_requests_and_other_tags_are_skipped_with_a_reason():
    data = {"p_id": P_ID, "s_id": P_ID + 1, "shop_id": SHOP, "aftersale_status": 6, "refund_amount": 1990,
            "apply_time": NOW_S}
    headers, body = doudian_push([
        (200, "req", data),
        (102, "shipped", {"p_id": P_ID, "shop_id": SHOP}),
        (101, "paid", {"p_id": P_ID, "shop_id": SHOP, "pay_time": NOW_S, "pay_amount": 1990}),
    ])
    result = DOUDIAN.translate(headers, body)
    assert [e["status"] for e in result.events] == ["paid"]
    assert [reason for _, reason in result.rejected] == [
        "item 0: tag 200 (refund requested): counted when the refund succeeds",
        "item 1: tag 102: not an order event",
    ]
    assert json.loads(json.loads(result.rejected[0][0])["data"])["aftersale_status"] == 6


def test_doudian_missing_times_fall_back_to_the_arrival_time_only_when_given():
    messages = [(101, "m", {"p_id": P_ID, "shop_id": SHOP, "pay_amount": 100})]
    headers, body = doudian_push(messages)
    (event,) = DOUDIAN.translate(headers, body, now_ms=NOW_S * 1000 + 5).events
    assert event["ts"] == NOW_S * 1000 + 5
    result = DOUDIAN.translate(headers, body)
    assert result.events == []
    assert result.rejected[0][1] == "item 0: missing data.pay_time"


def test_doudian_times_in_milliseconds_and_cancel_falls_back_to_update_time():
    headers, body = doudian_push([
        (101, "ms", {"p_id": P_ID, "shop_id": SHOP, "pay_time": NOW_S * 1000 + 7, "pay_amount": 1}),
        (106, "upd", {"p_id": P_ID, "shop_id": SHOP, "update_time": NOW_S + 9}),
    ])
    assert [e["ts"] for e in DOUDIAN.translate(headers, body).events] == [NOW_S * 1000 + 7, (NOW_S + 9) * 1000]


def test_a_malformed_doudian_item_among_good_ones_is_rejected_alone():
    headers, body = doudian_push(order_lifecycle())
    items = json.loads(body)
    items.insert(1, {"tag": "101", "msg_id": "no-data"})
    items.insert(2, {"tag": "101", "msg_id": "no-amount", "data": json.dumps({"p_id": 1, "shop_id": SHOP, "pay_time": NOW_S})})
    items.insert(3, {"tag": "101", "msg_id": "neg", "data": json.dumps({"p_id": 2, "shop_id": SHOP, "pay_time": NOW_S,
                                                                        "pay_amount": -5})})
    result = DOUDIAN.translate(headers, json.dumps(items).encode())
    assert [e["id"] for e in result.events] == ["dd-m-100", "dd-m-101", "dd-m-106"]
    assert [reason for _, reason in result.rejected] == [
        "item 1: missing data",
        "item 2: missing data.pay_amount",
        "item 3: amount_cents: Input should be greater than or equal to 0",
    ]


def test_a_doudian_push_mixing_shops_is_rejected_whole():
    headers, body = doudian_push([
        (101, "a", {"p_id": 1, "shop_id": SHOP, "pay_time": NOW_S, "pay_amount": 1}),
        (101, "b", {"p_id": 2, "shop_id": SHOP + 1, "pay_time": NOW_S, "pay_amount": 1}),
    ])
    with pytest.raises(PushRejected, match=f"item 1: data.shop_id {SHOP + 1} differs from {SHOP}"):
        DOUDIAN.translate(headers, body)


def test_a_doudian_body_that_is_not_an_array_rejects_the_push():
    with pytest.raises(PushRejected, match=r"body: not a JSON array \(got a JSON object\)"):
        DOUDIAN.translate({}, b'{"tag": "101"}')
    with pytest.raises(PushRejected, match="not valid JSON"):
        DOUDIAN.translate({}, b"tag=101")


def test_the_registry_names_both_platforms():
    assert set(ADAPTERS) >= {"douyin", "doudian"}
    assert ADAPTERS["douyin"].platform == "douyin" and ADAPTERS["doudian"].platform == "doudian"
    with pytest.raises(KeyError, match="no adapter for platform 'taobao'"):
        adapter("taobao")
    # The official example signature is base64 of a raw 16-byte MD5.
    assert len(base64.b64decode(OFFICIAL_SIGNATURE)) == 16


def test_platform_amounts_beyond_the_contract_are_refused_with_their_field():
    """A gift_value or pay_amount of 2**63 would poison the room's totals and the archive."""
    headers, body = douyin_push("live_gift", [
        {"msg_id": "m-huge", "sec_openid": "u-9", "sec_gift_id": "g", "gift_num": 1, "gift_value": 2**63,
         "nickname": "x", "timestamp": NOW_S},
        {"msg_id": "m-fine", "sec_openid": "u-9", "sec_gift_id": "g", "gift_num": 1, "gift_value": 100,
         "nickname": "x", "timestamp": NOW_S},
    ])
    result = DOUYIN.translate(headers, body)
    assert [e["value_cents"] for e in result.events] == [100]
    [(raw, reason)] = result.rejected
    assert "m-huge" in raw and reason.startswith("item 0: ") and "value_cents" in reason

    paid = (101, "m-big", {"p_id": P_ID, "s_ids": [P_ID + 1], "shop_id": SHOP, "order_status": 2, "order_type": 0,
                           "pay_type": 1, "pay_time": NOW_S + 30, "pay_amount": 2**63, "biz": 2})
    result = DOUDIAN.translate(*doudian_push([paid]))
    assert result.events == []
    [(raw, reason)] = result.rejected
    assert "amount_cents" in reason
