"""Bilibili open platform protocol: packets, signature, secret and message mapping.

Packets and signatures are built here independently of the module (struct, zlib,
brotli, hashlib, hmac directly) from the documented formats."""

from __future__ import annotations

import copy
import hashlib
import hmac
import struct
import zlib

import brotli
import orjson
import pytest

from controlroom.connectors import bilibili_protocol as bp

NOW_MS = 1_763_700_000_000


def raw_packet(op: int, body: bytes, *, ver: int = 0, seq: int = 0) -> bytes:
    return struct.pack(">IHHII", 16 + len(body), 16, ver, op, seq) + body


def message(cmd: str, **data) -> dict:
    return {"cmd": cmd, "data": data}


DM = message("LIVE_OPEN_PLATFORM_DM", uname="小明", uid=0, open_id="39b8fedb-60a5-4e29-ac75-b16955f7e632",
             uface="https://i0.hdslb.com/face.jpg", timestamp=1_763_700_100, room_id=4639581, msg="这个多少钱",
             msg_id="eb805544-0cf2-4688-bca1-88299e5344bf", guard_level=0, fans_medal_wearing_status=False,
             fans_medal_name="", fans_medal_level=0, emoji_img_url="", dm_type=0)
GIFT = message("LIVE_OPEN_PLATFORM_SEND_GIFT", room_id=4639581, open_id="open-2", uname="送礼人", uface="",
               gift_id=31036, gift_name="小花花", gift_num=3, price=100, r_price=100, paid=True,
               fans_medal_level=0, fans_medal_name="", fans_medal_wearing_status=False, guard_level=0,
               timestamp=1_763_700_101, msg_id="e0677be6-4d08-49bc-a722-17238b0f370b",
               anchor_info={"uid": 0, "open_id": "anchor", "uname": "主播", "uface": ""}, gift_icon="",
               combo_gift=False, combo_info={"combo_base_num": 1, "combo_count": 1, "combo_id": "c",
                                             "combo_timeout": 3})
GUARD = message("LIVE_OPEN_PLATFORM_GUARD", user_info={"open_id": "open-3", "uname": "舰长大人", "uface": ""},
                guard_level=3, guard_num=1, guard_unit="月", price=198000, fans_medal_level=0, fans_medal_name="",
                fans_medal_wearing_status=False, room_id=4639581, msg_id="415d1592-9f76-4c84-9a59-4a2ee081a4dd",
                timestamp=1_763_700_102)
SUPER_CHAT = message("LIVE_OPEN_PLATFORM_SUPER_CHAT", room_id=4639581, open_id="open-4", uname="Sequbre", uface="",
                     message_id=3992851, message="进行一个鱼的摸", rmb=30, timestamp=1_763_700_103,
                     start_time=1_763_700_103, end_time=1_763_700_163, guard_level=0, fans_medal_level=0,
                     fans_medal_name="", fans_medal_wearing_status=False,
                     msg_id="968e07ea-49e6-478c-867e-b721ccbd0d62")
LIKE = message("LIVE_OPEN_PLATFORM_LIKE", uname="点赞人", open_id="open-5", uface="", timestamp=1_763_700_104,
               room_id=4639581, like_text="点赞了", like_count=12, fans_medal_wearing_status=False,
               fans_medal_name="", fans_medal_level=0, msg_id="like-1")
ENTER = message("LIVE_OPEN_PLATFORM_LIVE_ROOM_ENTER", room_id=4639581, uface="", uname="路人", open_id="open-6",
                timestamp=1_763_700_105, msg_id="enter-1")
LIVE_START = message("LIVE_OPEN_PLATFORM_LIVE_START", room_id=4639581, open_id="anchor", timestamp=1_763_700_000,
                     area_name="日常", title="好物分享", msg_id="start-1")
LIVE_END = message("LIVE_OPEN_PLATFORM_LIVE_END", room_id=4639581, open_id="anchor", timestamp=1_763_700_900,
                   area_name="日常", title="好物分享", msg_id="end-1")


# --- packets -------------------------------------------------------------------------

def test_pack_writes_the_documented_header():
    assert bp.pack(7, '{"roomid":1}') == struct.pack(">IHHII", 28, 16, 1, 7, 1) + b'{"roomid":1}'
    assert bp.pack(2, b"", version=0, sequence=5) == struct.pack(">IHHII", 16, 16, 0, 2, 5)


def test_unpack_reads_back_what_pack_wrote():
    [packet] = bp.unpack(bp.pack(5, b'{"cmd":"X"}', version=0, sequence=3))
    assert packet == bp.Packet(operation=5, body=b'{"cmd":"X"}', version=0, sequence=3)


def test_several_plain_messages_in_one_frame():
    frame = raw_packet(5, orjson.dumps(DM)) + raw_packet(5, orjson.dumps(LIKE))
    assert [orjson.loads(p.body) for p in bp.unpack(frame)] == [DM, LIKE]


@pytest.mark.parametrize("ver, compress", [(2, zlib.compress), (3, brotli.compress)], ids=["zlib", "brotli"])
def test_compressed_bodies_inflate_into_the_packets_they_hold(ver, compress):
    inner = raw_packet(5, orjson.dumps(DM)) + raw_packet(5, orjson.dumps(GIFT)) + raw_packet(5, orjson.dumps(LIKE))
    frame = raw_packet(5, compress(inner), ver=ver)
    packets = bp.unpack(frame)
    assert [p.operation for p in packets] == [5, 5, 5]
    assert [orjson.loads(p.body) for p in packets] == [DM, GIFT, LIKE]


def test_a_frame_mixing_compressed_and_plain_packets():
    frame = (raw_packet(5, brotli.compress(raw_packet(5, orjson.dumps(DM))), ver=3)
             + raw_packet(5, zlib.compress(raw_packet(5, orjson.dumps(ENTER))), ver=2)
             + raw_packet(5, orjson.dumps(LIVE_END)))
    assert [orjson.loads(p.body) for p in bp.unpack(frame)] == [DM, ENTER, LIVE_END]


def test_auth_reply_and_heartbeat_reply():
    [auth] = bp.unpack(raw_packet(8, b'{"code":0}', ver=1))
    assert auth.operation == bp.OP_AUTH_REPLY and bp.auth_reply_code(auth) == 0
    [refused] = bp.unpack(raw_packet(8, b'{"code":-101}'))
    assert bp.auth_reply_code(refused) == -101
    assert bp.auth_reply_code(bp.Packet(operation=8, body=b"nonsense")) is None
    # The heartbeat reply's length covers the popularity only; the echo after it is
    # not a packet and must not fail the frame.
    [beat] = bp.unpack(raw_packet(3, (1234).to_bytes(4, "big"), ver=1) + b"{}")
    assert beat.operation == bp.OP_HEARTBEAT_REPLY and bp.popularity(beat) == 1234


@pytest.mark.parametrize("frame", [
    b"\x00\x00\x00",  # shorter than a header
    struct.pack(">IHHII", 40, 16, 0, 5, 0) + b"{}",  # says 40 bytes, has 18
    struct.pack(">IHHII", 10, 16, 0, 5, 0),  # shorter than its own header
    raw_packet(5, b"not zlib at all", ver=2),
    raw_packet(5, b"not brotli at all", ver=3),
    raw_packet(5, zlib.compress(raw_packet(5, b"{}"))[:-4], ver=2),  # truncated
    raw_packet(5, orjson.dumps(DM)) + b"\x00\x01",  # trailing bytes after a message
], ids=["short", "overlong", "header-length", "bad-zlib", "bad-brotli", "truncated-zlib", "trailing"])
def test_a_malformed_frame_is_a_protocol_error(frame):
    with pytest.raises(bp.ProtocolError):
        bp.unpack(frame)


def test_a_decompression_bomb_is_refused():
    frame = raw_packet(5, zlib.compress(b"\x00" * (bp.MAX_INFLATED_BYTES + 1024)), ver=2)
    with pytest.raises(bp.ProtocolError, match="inflate past"):
        bp.unpack(frame)


def test_nesting_is_bounded():
    frame = raw_packet(5, b"{}")
    for _ in range(bp.MAX_NESTING + 1):
        frame = raw_packet(5, zlib.compress(frame), ver=2)
    with pytest.raises(bp.ProtocolError, match="nested"):
        bp.unpack(frame)


# --- signature -----------------------------------------------------------------------

def test_signature_follows_the_documented_recipe():
    body = b'{"code":"BQ9JD5E6M1TJ","app_id":1650000000000}'
    headers = bp.sign_headers(body, "34c0f583f0414123", "abc7736bb78947d5a4a90690c861c456", now_s=1_763_700_000.7,
                              nonce="738210")
    md5 = hashlib.md5(body).hexdigest()
    # The six x-bili-* headers sorted by name, "name:value" joined by newlines.
    canonical = (
        "x-bili-accesskeyid:34c0f583f0414123\n"
        f"x-bili-content-md5:{md5}\n"
        "x-bili-signature-method:HMAC-SHA256\n"
        "x-bili-signature-nonce:738210\n"
        "x-bili-signature-version:1.0\n"
        "x-bili-timestamp:1763700000"
    )
    expected = hmac.new(b"abc7736bb78947d5a4a90690c861c456", canonical.encode(), hashlib.sha256).hexdigest()
    assert headers == {
        "Accept": "application/json",
        "Content-Type": "application/json",
        "x-bili-accesskeyid": "34c0f583f0414123",
        "x-bili-content-md5": md5,
        "x-bili-signature-method": "HMAC-SHA256",
        "x-bili-signature-nonce": "738210",
        "x-bili-signature-version": "1.0",
        "x-bili-timestamp": "1763700000",
        "Authorization": expected,
    }


def test_signature_depends_on_body_secret_and_nonce():
    base = bp.sign_headers(b"{}", "id", "secret", now_s=1, nonce="n")["Authorization"]
    assert bp.sign_headers(b"{ }", "id", "secret", now_s=1, nonce="n")["Authorization"] != base
    assert bp.sign_headers(b"{}", "id", "other", now_s=1, nonce="n")["Authorization"] != base
    assert bp.sign_headers(b"{}", "id", "secret", now_s=1, nonce="m")["Authorization"] != base


# --- secret --------------------------------------------------------------------------

def test_parse_secret():
    assert bp.parse_secret("1650000000000:key-id:key:secret") == (1650000000000, "key-id", "key:secret")
    assert bp.parse_secret(" 42 : id : s ") == (42, "id", "s")


@pytest.mark.parametrize("secret", ["", "only-one-part", "1:id", "1::s", "app:id:sup3rs3cret", "0:id:s"])
def test_a_malformed_secret_names_the_format_and_hides_the_secret(secret):
    with pytest.raises(ValueError) as caught:
        bp.parse_secret(secret)
    assert "app_id:access_key_id:access_key_secret" in str(caught.value)
    assert "sup3rs3cret" not in str(caught.value)


# --- mapping -------------------------------------------------------------------------

def test_comment():
    assert bp.translate(DM, NOW_MS) == [{
        "id": "bili-eb805544-0cf2-4688-bca1-88299e5344bf", "ts": 1_763_700_100_000, "source": "bilibili",
        "type": "comment", "user": {"id": "39b8fedb-60a5-4e29-ac75-b16955f7e632", "name": "小明"},
        "text": "这个多少钱",
    }]


def test_paid_gift_is_worth_its_gold_seeds_in_fen():
    # 100 金瓜子 = ¥0.1 = 10 fen each, three of them.
    assert bp.translate(GIFT, NOW_MS) == [{
        "id": "bili-e0677be6-4d08-49bc-a722-17238b0f370b", "ts": 1_763_700_101_000, "source": "bilibili",
        "type": "gift", "user": {"id": "open-2", "name": "送礼人"}, "gift": "小花花", "count": 3,
        "value_cents": 30,
    }]


def test_a_discounted_gift_counts_what_was_paid():
    gift = copy.deepcopy(GIFT)
    gift["data"].update(price=5200, r_price=4990, gift_num=2)
    [event] = bp.translate(gift, NOW_MS)
    assert event["value_cents"] == 998  # 2 × 4990 金瓜子 = ¥9.98
    del gift["data"]["r_price"]
    assert bp.translate(gift, NOW_MS)[0]["value_cents"] == 1040


def test_a_free_gift_is_worth_nothing():
    gift = copy.deepcopy(GIFT)
    gift["data"].update(gift_name="辣条", price=100, r_price=100, paid=False, gift_num=5)
    [event] = bp.translate(gift, NOW_MS)
    assert (event["gift"], event["count"], event["value_cents"]) == ("辣条", 5, 0)


def test_guard_purchase_is_a_gift():
    [event] = bp.translate(GUARD, NOW_MS)
    assert event == {
        "id": "bili-415d1592-9f76-4c84-9a59-4a2ee081a4dd", "ts": 1_763_700_102_000, "source": "bilibili",
        "type": "gift", "user": {"id": "open-3", "name": "舰长大人"}, "gift": "舰长", "count": 1,
        "value_cents": 19800, "guard_level": 3,
    }
    months = copy.deepcopy(GUARD)
    months["data"].update(guard_level=2, guard_num=3, price=1_998_000)
    [event] = bp.translate(months, NOW_MS)
    assert (event["gift"], event["count"], event["value_cents"]) == ("提督", 3, 599_400)
    trial = copy.deepcopy(GUARD)
    trial["data"].update(guard_num=3, guard_unit="*3天", price=20_000)
    [event] = bp.translate(trial, NOW_MS)
    assert (event["count"], event["value_cents"]) == (1, 2000)


def test_super_chat_is_a_comment_and_a_gift():
    comment, gift = bp.translate(SUPER_CHAT, NOW_MS)
    user = {"id": "open-4", "name": "Sequbre"}
    assert comment == {"id": "bili-968e07ea-49e6-478c-867e-b721ccbd0d62", "ts": 1_763_700_103_000,
                       "source": "bilibili", "type": "comment", "user": user, "text": "进行一个鱼的摸"}
    assert gift == {"id": "bili-968e07ea-49e6-478c-867e-b721ccbd0d62-sc", "ts": 1_763_700_103_000,
                    "source": "bilibili", "type": "gift", "user": user, "gift": "醒目留言", "count": 1,
                    "value_cents": 3000}


def test_like_enter_and_stream():
    assert bp.translate(LIKE, NOW_MS) == [{"id": "bili-like-1", "ts": 1_763_700_104_000, "source": "bilibili",
                                           "type": "like", "user": {"id": "open-5", "name": "点赞人"},
                                           "count": 12}]
    assert bp.translate(ENTER, NOW_MS) == [{"id": "bili-enter-1", "ts": 1_763_700_105_000, "source": "bilibili",
                                            "type": "enter", "user": {"id": "open-6", "name": "路人"}}]
    assert bp.translate(LIVE_START, NOW_MS) == [{"id": "bili-start-1", "ts": 1_763_700_000_000,
                                                 "source": "bilibili", "type": "stream", "status": "live"}]
    assert bp.translate(LIVE_END, NOW_MS) == [{"id": "bili-end-1", "ts": 1_763_700_900_000,
                                               "source": "bilibili", "type": "stream", "status": "interrupted"}]


@pytest.mark.parametrize("sample", [DM, GIFT, GUARD, SUPER_CHAT, LIKE, ENTER, LIVE_START, LIVE_END],
                         ids=lambda m: m["cmd"])
def test_a_repeat_keeps_its_ids(sample):
    first = bp.translate(copy.deepcopy(sample), NOW_MS)
    again = bp.translate(copy.deepcopy(sample), NOW_MS + 60_000)
    assert first and [e["id"] for e in first] == [e["id"] for e in again]


def test_without_msg_id_the_id_is_derived_from_the_message():
    like = copy.deepcopy(LIKE)
    del like["data"]["msg_id"]
    [event] = bp.translate(like, NOW_MS)
    assert event["id"].startswith("bili-like-") and event["id"] != "bili-like-1"
    assert bp.translate(copy.deepcopy(like), NOW_MS)[0]["id"] == event["id"]
    like["data"]["like_count"] = 13
    assert bp.translate(like, NOW_MS)[0]["id"] != event["id"]


def test_a_message_without_time_takes_the_time_it_arrived():
    enter = copy.deepcopy(ENTER)
    del enter["data"]["timestamp"]
    assert bp.translate(enter, NOW_MS)[0]["ts"] == NOW_MS


def _without(sample: dict, *path: str) -> dict:
    out = copy.deepcopy(sample)
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


def _with(sample: dict, **changes) -> dict:
    out = copy.deepcopy(sample)
    out["data"].update(changes)
    return out


@pytest.mark.parametrize("bad", [
    None, [], "LIVE_OPEN_PLATFORM_DM", {"data": DM["data"]}, {"cmd": 7, "data": DM["data"]},
    {"cmd": "LIVE_OPEN_PLATFORM_DM"}, {"cmd": "LIVE_OPEN_PLATFORM_DM", "data": "text"},
    _without(DM, "data", "open_id"), _without(DM, "data", "msg"), _with(DM, msg=["x"]),
    _with(DM, timestamp="yesterday"), _with(DM, msg="x" * 2001),
    _with(GIFT, gift_num="many"), _with(GIFT, gift_num=0), _without(GIFT, "data", "paid"), _with(GIFT, r_price=-5),
    _without(GUARD, "data", "user_info"), _with(GUARD, price=None),
    _with(SUPER_CHAT, rmb="lots"), _with(LIKE, like_count=0), _with(ENTER, open_id=""),
    _with(LIVE_END, msg_id={"nested": True}),
], ids=lambda bad: repr(bad)[:60])
def test_a_malformed_message_yields_no_event_and_no_exception(bad):
    assert bp.translate(bad, NOW_MS) == []
    outcome = bp.classify(bad, NOW_MS)
    assert outcome.events == [] and outcome.problem and outcome.ignored is None


@pytest.mark.parametrize("cmd", ["LIVE_OPEN_PLATFORM_SUPER_CHAT_DEL", "LIVE_OPEN_PLATFORM_INTERACTION_END",
                                 "LIVE_OPEN_PLATFORM_SOMETHING_NEW"])
def test_other_cmds_are_ignored_not_errors(cmd):
    outcome = bp.classify({"cmd": cmd, "data": {"game_id": "g", "msg_id": "m"}}, NOW_MS)
    assert outcome == bp.Outcome(ignored=cmd)
