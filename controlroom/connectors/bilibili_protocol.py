"""Bilibili live open platform (哔哩哔哩直播开放平台) protocol → canonical events (pure).

No I/O here: packets in and out of the message socket, the signature of the HTTP API,
the mapping of the pushed messages to canonical events and the binding's secret. The
connection itself (start the app, hold the socket, heartbeats, end) is bilibili.py.

HTTP API (https://live-open.biliapi.com; POST, JSON in and out, answer
`{"code": 0, "message": …, "request_id": …, "data": …}`, code ≠ 0 is a refusal):

- /v2/app/start `{"code": <主播身份码>, "app_id": <int>}` → data.game_info.game_id,
  data.websocket_info.auth_body (a JSON text to send as is) and .wss_link[] (socket
  URLs, tried in turn), data.anchor_info (room_id, uname, …);
- /v2/app/heartbeat `{"game_id"}` every 20 s (the platform closes a session that has
  not had one for 60 s: code 7003 "心跳过期" afterwards);
- /v2/app/end `{"game_id", "app_id"}` when done (otherwise the room stays taken, code
  7002 "房间重复游戏", until the heartbeat runs out).

Every request is signed (`sign_headers`); the recipe, as the open platform's 接口签名
实现标准 gives it (open.bilibili.com/doc/4/8673959e-f7bb-56e6-6e68-d225f971b81b, mirrored
at bilibili.apifox.cn/doc-885734) and as the live open platform clients send it
(xfgryujk/blivedm `blivedm/clients/open_live.py`, signature version 1.0, no access
token on the live API):

    x-bili-accesskeyid:       access_key_id
    x-bili-content-md5:       hex MD5 of the raw body (lower case)
    x-bili-signature-method:  HMAC-SHA256
    x-bili-signature-nonce:   a fresh random value per request (replays are refused)
    x-bili-signature-version: 1.0
    x-bili-timestamp:         Unix seconds (refused more than 10 min off)
    Authorization = hex(HMAC-SHA256(key=access_key_secret,
                        "\\n".join(f"{name}:{value}" for the six x-bili-* headers sorted by name)))

plus `Accept: application/json` and `Content-Type: application/json`. Refusals the
platform names (public error code table): 4001 unknown access key id, 4002 signature
refused (签名异常), 4003 time stamp expired, 4004 nonce repeated, 4012 body MD5 wrong,
7001 cool-down after the last session, 7002 the room already has a session, 7003
heartbeat expired, 7007 wrong 主播身份码, 8002 the app id has no access.

Message socket (the wss_link): binary frames of packets, each a 16-byte big-endian
header — packet length uint32 (header included), header length uint16 (16), protocol
version uint16, operation uint32, sequence uint32 — then the body. Operations: 2
heartbeat (client, every 20-30 s), 3 heartbeat reply (body: 4-byte popularity), 5
message, 7 auth (client, body = auth_body), 8 auth reply (`{"code": 0}` when accepted).
Versions: 0 plain JSON, 1 plain (what clients send), 2 zlib and 3 brotli; a compressed
op-5 body inflates to further packets, concatenated (auth_body's "protover" says which
the server uses). A frame may hold several packets; a heartbeat reply's length field
is known to leave out an echo of the client's body, so only the first packet of a
frame that does not start with op 5 or 8 is read (as the reference clients do).

A message is `{"cmd": "LIVE_OPEN_PLATFORM_…", "data": {…}}`, users by `open_id` (the
per-app id; `uid` is deprecated and 0) with `uname`, `timestamp` in seconds, `msg_id`
the platform's unique message id.

Mapping decisions:
- Ids are `bili-<msg_id>`: the prefix keeps platforms apart in one room and a message
  the platform delivers again keeps its msg_id, so the repeat is dropped downstream.
  The docs' tables leave msg_id out of LIKE, LIVE_ROOM_ENTER, LIVE_START and LIVE_END
  (their samples carry it); where it is missing the id is `bili-<cmd>-<digest of the
  message>`, equal for an identical repeat.
- DM → comment (msg; an emoji 弹幕, dm_type 1, keeps its text such as "[dog]").
- SEND_GIFT → gift named gift_name, count gift_num. Prices are 金瓜子 (gold seeds):
  1000 = ¥1 = 10 电池, so 10 金瓜子 = 1 fen and value_cents = unit price × gift_num / 10
  (rounded half up). The unit price is r_price, the price actually paid, when the
  message has it (price is the list price and differs for discounted gifts; blivedm's
  notes), else price. A free gift (paid false; its price may be silver seeds) is worth 0.
- GUARD (大航海 purchase) → gift named 总督 / 提督 / 舰长 (guard_level 1 / 2 / 3),
  count guard_num, value price × guard_num / 10 with price the 金瓜子 per unit as in the
  web GUARD_BUY. When guard_unit is not "月" the docs say to ignore guard_num and go by
  the unit (e.g. "*3天"): then count 1 and value price / 10.
- SUPER_CHAT (醒目留言) → a comment (message) and a gift "醒目留言" worth rmb yuan × 100;
  ids `bili-<msg_id>` and `bili-<msg_id>-sc`.
- LIKE → like (like_count: the platform sums one user's likes over 2 s).
- LIVE_ROOM_ENTER → enter. LIVE_START → stream live. LIVE_END → stream "interrupted":
  the platform says the broadcast stopped, which during a show is an interruption; the
  show's end is the run of show's to say, not the platform's.
- Other cmds (SUPER_CHAT_DEL, DM_MIRROR, INTERACTION_END, anything new) map to nothing:
  `classify` names them as ignored so the connector counts them. A message that cannot
  be mapped yields no event and a reason, never an exception.
- The time is the message's timestamp (seconds); a message without one takes the time
  it was received (`now_ms`).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import brotli
import orjson

from controlroom.ingest.adapters.base import (
    ItemError,
    as_id,
    as_int,
    item_text,
    to_ms,
    validated,
)

PLATFORM = "bilibili"
ID_PREFIX = "bili-"

# --- packets -------------------------------------------------------------------------

HEADER = struct.Struct(">IHHII")
HEADER_LEN = HEADER.size  # 16

OP_HEARTBEAT = 2
OP_HEARTBEAT_REPLY = 3
OP_MESSAGE = 5
OP_AUTH = 7
OP_AUTH_REPLY = 8

VER_JSON = 0
VER_PLAIN = 1
VER_ZLIB = 2
VER_BROTLI = 3

# What one frame may inflate to (all its compressed bodies together), and how deep
# compressed bodies may nest: the platform nests once.
MAX_INFLATED_BYTES = 8 * 1024 * 1024
MAX_NESTING = 2


class ProtocolError(ValueError):
    """A frame that is not the socket's packet format (or inflates too far)."""


@dataclass(frozen=True)
class Packet:
    operation: int
    body: bytes
    version: int = VER_PLAIN
    sequence: int = 1


def pack(operation: int, body: bytes | str = b"", *, version: int = VER_PLAIN, sequence: int = 1) -> bytes:
    """One packet: the 16-byte header and `body` (a str is sent as UTF-8)."""
    data = body.encode() if isinstance(body, str) else bytes(body)
    return HEADER.pack(HEADER_LEN + len(data), HEADER_LEN, version, operation, sequence) + data


def _inflate(version: int, body: bytes, budget: int) -> bytes:
    try:
        if version == VER_ZLIB:
            inflater = zlib.decompressobj()
            out = inflater.decompress(body, budget + 1)
            if not inflater.eof and len(out) <= budget:
                raise ProtocolError("zlib body: truncated")
        else:
            decompressor = brotli.Decompressor()
            out = decompressor.process(body, output_buffer_limit=budget + 1)
            if len(out) <= budget and not decompressor.is_finished():
                raise ProtocolError("brotli body: truncated")
    except (zlib.error, brotli.error) as exc:
        kind = "zlib" if version == VER_ZLIB else "brotli"
        raise ProtocolError(f"{kind} body: cannot inflate ({exc})") from None
    if len(out) > budget:
        raise ProtocolError(f"compressed bodies inflate past {MAX_INFLATED_BYTES} bytes")
    return out


def _split(data: bytes, depth: int, budget: list[int], out: list[Packet]) -> None:
    offset = 0
    first = True
    while offset < len(data):
        if len(data) - offset < HEADER_LEN:
            raise ProtocolError(f"{len(data) - offset} bytes left at offset {offset}: shorter than a header")
        length, header_len, version, operation, sequence = HEADER.unpack_from(data, offset)
        if header_len < HEADER_LEN or length < header_len:
            raise ProtocolError(f"packet at offset {offset}: length {length}, header length {header_len}")
        if offset + length > len(data):
            raise ProtocolError(f"packet at offset {offset} says {length} bytes, {len(data) - offset} left")
        body = data[offset + header_len: offset + length]
        if operation == OP_MESSAGE and version in (VER_ZLIB, VER_BROTLI):
            if depth >= MAX_NESTING:
                raise ProtocolError(f"compressed bodies nested more than {MAX_NESTING} deep")
            inflated = _inflate(version, body, budget[0])
            budget[0] -= len(inflated)
            _split(inflated, depth + 1, budget, out)
        else:
            out.append(Packet(operation=operation, body=body, version=version, sequence=sequence))
        if first and operation not in (OP_MESSAGE, OP_AUTH_REPLY):
            return  # a heartbeat reply (or an unknown op): only its own packet counts
        first = False
        offset += length


def unpack(data: bytes) -> list[Packet]:
    """The packets of one socket frame, compressed message bodies inflated into the
    packets they hold (so every op-5 packet returned carries one JSON message).
    ProtocolError if the frame is not the packet format."""
    out: list[Packet] = []
    _split(bytes(data), 0, [MAX_INFLATED_BYTES], out)
    return out


def popularity(packet: Packet) -> int | None:
    """The popularity figure of a heartbeat reply (op 3), if it carries one."""
    if packet.operation != OP_HEARTBEAT_REPLY or len(packet.body) < 4:
        return None
    return int.from_bytes(packet.body[:4], "big")


def decode_json(packet: Packet) -> Any:
    """The JSON body of a message or auth-reply packet; ProtocolError if it is not JSON."""
    try:
        return orjson.loads(packet.body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"op {packet.operation} body is not JSON ({exc})") from None


def auth_reply_code(packet: Packet) -> int | None:
    """The code of an auth reply (0: accepted); None if the reply has none."""
    try:
        body = decode_json(packet)
    except ProtocolError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


# --- HTTP signature ------------------------------------------------------------------

SIGNATURE_METHOD = "HMAC-SHA256"
SIGNATURE_VERSION = "1.0"


def sign_headers(body: bytes, key_id: str, key_secret: str, *, now_s: float, nonce: str) -> dict[str, str]:
    """The headers of one signed API request with this raw `body` (see the module doc)."""
    signed = {
        "x-bili-accesskeyid": key_id,
        "x-bili-content-md5": hashlib.md5(body).hexdigest(),
        "x-bili-signature-method": SIGNATURE_METHOD,
        "x-bili-signature-nonce": str(nonce),
        "x-bili-signature-version": SIGNATURE_VERSION,
        "x-bili-timestamp": str(int(now_s)),
    }
    text = "\n".join(f"{name}:{signed[name]}" for name in sorted(signed))
    signature = hmac.new(key_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return {"Accept": "application/json", "Content-Type": "application/json", **signed, "Authorization": signature}


# --- binding secret ------------------------------------------------------------------

SECRET_FORMAT = "app_id:access_key_id:access_key_secret"


def parse_secret(secret: str) -> tuple[int, str, str]:
    """(app_id, access_key_id, access_key_secret) from the binding's secret; ValueError
    naming the format (never echoing the secret) otherwise."""
    parts = (secret or "").strip().split(":", 2)
    if len(parts) != 3 or not all(part.strip() for part in parts):
        raise ValueError(f'the Bilibili binding secret must be "{SECRET_FORMAT}" '
                         f"(three parts separated by colons, none empty)")
    app_id, key_id, key_secret = (part.strip() for part in parts)
    if not app_id.isdigit() or int(app_id) <= 0:
        raise ValueError(f'the Bilibili binding secret must be "{SECRET_FORMAT}": '
                         f"app_id (the first part) must be the app's number")
    return int(app_id), key_id, key_secret


# --- messages → canonical events -----------------------------------------------------

CMD_PREFIX = "LIVE_OPEN_PLATFORM_"
GUARD_NAMES = {1: "总督", 2: "提督", 3: "舰长"}
SUPER_CHAT_GIFT = "醒目留言"
GUARD_MONTH = "月"


@dataclass(frozen=True)
class Outcome:
    # Canonical events, validated (JSON-ready dicts).
    events: list[dict[str, Any]] = field(default_factory=list)
    # Why the message gave nothing though its cmd is one we map (malformed).
    problem: str | None = None
    # The cmd, when it is not one we map (counted, not an error).
    ignored: str | None = None


def _data(message: Mapping[str, Any]) -> Mapping[str, Any]:
    data = message.get("data")
    if not isinstance(data, dict):
        raise ItemError("data: expected an object")
    return data


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise ItemError(f"{name}: expected text, got {item_text(value)}")
    return value


def _user(data: Mapping[str, Any], within: str = "") -> dict[str, Any]:
    open_id = data.get("open_id")
    if open_id in (None, ""):
        uid = data.get("uid")  # messages from before open_id; deprecated, 0 today
        if isinstance(uid, int) and not isinstance(uid, bool) and uid > 0:
            open_id = f"uid-{uid}"
    user: dict[str, Any] = {"id": as_id(open_id, f"{within}open_id")}
    name = data.get("uname")
    if isinstance(name, str) and name:
        user["name"] = name
    return user


def _ts(data: Mapping[str, Any], now_ms: int) -> int:
    if data.get("timestamp") in (None, 0):
        return now_ms
    return to_ms(data["timestamp"], "timestamp")


def _base_id(cmd: str, data: Mapping[str, Any]) -> str:
    msg_id = data.get("msg_id")
    if msg_id not in (None, ""):
        return ID_PREFIX + as_id(msg_id, "msg_id")
    digest = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
    return f"{ID_PREFIX}{cmd.removeprefix(CMD_PREFIX).lower()}-{digest}"


def _fen_from_gold(gold: int) -> int:
    """金瓜子 → fen: 1000 金瓜子 = ¥1 = 100 fen, so 10 金瓜子 a fen (half up)."""
    return (gold + 5) // 10


def _positive(value: Any, name: str) -> int:
    number = as_int(value, name)
    if number < 0:
        raise ItemError(f"{name}: expected a number ≥ 0, got {number}")
    return number


def _dm(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "comment", "user": _user(data),
             "text": _text(data, "msg")}]


def _gift(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    count = as_int(data.get("gift_num"), "gift_num")
    paid = data.get("paid")
    if not isinstance(paid, bool):
        raise ItemError(f"paid: expected true or false, got {item_text(paid)}")
    value = 0
    if paid:
        price_field = "r_price" if data.get("r_price") is not None else "price"
        value = _fen_from_gold(_positive(data.get(price_field), price_field) * count)
    name = data.get("gift_name")
    if not isinstance(name, str) or not name.strip():
        name = as_id(data.get("gift_id"), "gift_name")
    return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "gift", "user": _user(data),
             "gift": name, "count": count, "value_cents": value}]


def _guard(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    info = data.get("user_info")
    if not isinstance(info, dict):
        raise ItemError("user_info: expected an object")
    level = as_int(data.get("guard_level"), "guard_level")
    unit = data.get("guard_unit")
    count = as_int(data.get("guard_num"), "guard_num") if unit in (None, "", GUARD_MONTH) else 1
    price = _positive(data.get("price"), "price")
    return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "gift", "user": _user(info, "user_info."),
             "gift": GUARD_NAMES.get(level, f"guard level {level}"), "count": count,
             "value_cents": _fen_from_gold(price * count), "guard_level": level}]


def _super_chat(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    base = _base_id(cmd, data)
    ts = _ts(data, now_ms)
    user = _user(data)
    rmb = _positive(data.get("rmb"), "rmb")
    return [
        {"id": base, "ts": ts, "type": "comment", "user": user, "text": _text(data, "message")},
        {"id": f"{base}-sc", "ts": ts, "type": "gift", "user": user, "gift": SUPER_CHAT_GIFT, "count": 1,
         "value_cents": rmb * 100},
    ]


def _like(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "like", "user": _user(data),
             "count": as_int(data.get("like_count"), "like_count")}]


def _enter(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
    return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "enter", "user": _user(data)}]


def _stream(status: str) -> Callable[[str, Mapping[str, Any], int], list[dict[str, Any]]]:
    def mapper(cmd: str, data: Mapping[str, Any], now_ms: int) -> list[dict[str, Any]]:
        return [{"id": _base_id(cmd, data), "ts": _ts(data, now_ms), "type": "stream", "status": status}]
    return mapper


CMDS: dict[str, Callable[[str, Mapping[str, Any], int], list[dict[str, Any]]]] = {
    "LIVE_OPEN_PLATFORM_DM": _dm,
    "LIVE_OPEN_PLATFORM_SEND_GIFT": _gift,
    "LIVE_OPEN_PLATFORM_GUARD": _guard,
    "LIVE_OPEN_PLATFORM_SUPER_CHAT": _super_chat,
    "LIVE_OPEN_PLATFORM_LIKE": _like,
    "LIVE_OPEN_PLATFORM_LIVE_ROOM_ENTER": _enter,
    "LIVE_OPEN_PLATFORM_LIVE_START": _stream("live"),
    "LIVE_OPEN_PLATFORM_LIVE_END": _stream("interrupted"),
}

# The platform's notice that it stopped pushing for this session (heartbeat expired or
# the session was ended): not an event, a reason for the connector to start again.
CMD_INTERACTION_END = "LIVE_OPEN_PLATFORM_INTERACTION_END"


def classify(message: Any, now_ms: int) -> Outcome:
    """The message's canonical events, or why there are none (never raises)."""
    if not isinstance(message, dict):
        return Outcome(problem="message: expected a JSON object")
    cmd = message.get("cmd")
    if not isinstance(cmd, str) or not cmd:
        return Outcome(problem=f"cmd: expected a name, got {item_text(cmd)}")
    cmd = cmd.split(":", 1)[0]  # the web protocol once suffixed cmds with ":<params>"
    mapper = CMDS.get(cmd)
    if mapper is None:
        return Outcome(ignored=cmd)
    try:
        events = [validated({"source": PLATFORM, **event}) for event in mapper(cmd, _data(message), now_ms)]
    except ItemError as exc:
        return Outcome(problem=f"{cmd}: {exc}")
    return Outcome(events=events)


def translate(message: Any, now_ms: int) -> list[dict[str, Any]]:
    """The message's canonical events: none for a message of another cmd or one that
    cannot be mapped (`classify` says why)."""
    return classify(message, now_ms).events
