"""The Bilibili connector against a loopback open platform.

The real platform is out of reach, so a real server stands in for it on 127.0.0.1:
the signed HTTP API (/v2/app/start, /heartbeat, /end; the signature checked from the
documented recipe, written here on its own, refused with the platform's code 4002) and
a message socket speaking the packet protocol (auth op 7 → op 8, heartbeats op 2 → op 3,
messages op 5 compressed with brotli and zlib). Nothing of the connector is mocked: it
runs as the runner runs it, with a context whose emit collects what it brings."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import socket
import struct
import time
import zlib
from typing import Any

import brotli
import orjson
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from controlroom.clock import SystemClock
from controlroom.connectors import bilibili
from controlroom.connectors.base import ConnectorContext
from tests.connectors import Collected, until

APP_ID = 1_650_000_000_123
KEY_ID = "34c0f583f0414123"
KEY_SECRET = "abc7736bb78947d5a4a90690c861c456"
CODE = "BQ9JD5E6M1TJ"  # 主播身份码
SIGNED = ("x-bili-accesskeyid", "x-bili-content-md5", "x-bili-signature-method", "x-bili-signature-nonce",
          "x-bili-signature-version", "x-bili-timestamp")


def packet(op: int, body: bytes, *, ver: int = 0) -> bytes:
    return struct.pack(">IHHII", 16 + len(body), 16, ver, op, 0) + body


def messages_frame(ver: int, *messages: dict) -> bytes:
    inner = b"".join(packet(5, orjson.dumps(m)) for m in messages)
    compress = {2: zlib.compress, 3: brotli.compress}[ver]
    return packet(5, compress(inner), ver=ver)


def read_packet(frame: bytes) -> tuple[int, bytes]:
    length, header_len, _ver, op, _seq = struct.unpack_from(">IHHII", frame)
    return op, frame[header_len:length]


class Platform:
    """The open platform's API and message server, recording what it was sent."""

    def __init__(self) -> None:
        self.key_secret = KEY_SECRET
        self.base_url = ""
        self.requests: list[tuple[str, dict[str, Any], int]] = []  # path, body, code answered
        self.nonces: set[str] = set()
        self.starts = 0
        self.expired = False
        self.ended: list[dict[str, Any]] = []
        self.auths = 0
        self.refuse_auth = False
        self.socket_heartbeats = 0
        self.silent = False  # stop answering (a half-open connection: no close, no data)
        # Frames pushed after each successful auth (one list per connection, in order).
        self.script: list[list[bytes]] = []
        self.open: list[WebSocket] = []
        self.drop = asyncio.Event()

    @property
    def game_id(self) -> str:
        return f"game-{self.starts}"

    @property
    def auth_body(self) -> str:
        return orjson.dumps({"roomid": 4639581, "protover": 2, "uid": 0, "key": f"key-{self.starts}",
                             "group": "open"}).decode()

    def check_signature(self, headers: Any, body: bytes) -> int:
        """0, or the platform's refusal code, from the documented recipe."""
        if headers.get("accept") != "application/json" or headers.get("content-type") != "application/json":
            return 4011
        if headers.get("x-bili-accesskeyid") != KEY_ID:
            return 4001
        if headers.get("x-bili-content-md5") != hashlib.md5(body).hexdigest():
            return 4012
        if headers.get("x-bili-signature-method") != "HMAC-SHA256":
            return 4005
        if headers.get("x-bili-signature-version") != "1.0":
            return 4006
        if abs(int(headers.get("x-bili-timestamp", "0")) - time.time()) > 600:
            return 4003
        nonce = headers.get("x-bili-signature-nonce", "")
        if not nonce or nonce in self.nonces:
            return 4004
        text = "\n".join(f"{name}:{headers[name]}" for name in sorted(SIGNED))
        expected = hmac.new(self.key_secret.encode(), text.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("authorization", ""), expected):
            return 4002
        self.nonces.add(nonce)
        return 0

    async def api(self, request: Request) -> JSONResponse:
        body = await request.body()
        path = request.url.path
        payload = orjson.loads(body)
        code = self.check_signature(request.headers, body)
        data: dict[str, Any] = {}
        if code == 0 and path == "/v2/app/start":
            if payload != {"code": CODE, "app_id": APP_ID}:
                code = 7007
            else:
                self.starts += 1
                self.expired = False
                ws_url = self.base_url.replace("http://", "ws://") + "/sub"
                data = {"game_info": {"game_id": self.game_id},
                        "websocket_info": {"auth_body": self.auth_body, "wss_link": [ws_url, ws_url]},
                        "anchor_info": {"room_id": 4639581, "uname": "主播", "uface": "", "uid": 0}}
        elif code == 0 and path == "/v2/app/heartbeat":
            code = 7003 if self.expired or payload != {"game_id": self.game_id} else 0
        elif code == 0 and path == "/v2/app/end":
            self.ended.append(payload)
        self.requests.append((path, payload, code))
        messages = {0: "0", 4002: "签名异常", 7003: "心跳过期", 7007: "身份码错误"}
        return JSONResponse({"code": code, "message": messages.get(code, "error"), "request_id": "1534992646149816320",
                             "data": data})

    async def sub(self, websocket: WebSocket) -> None:
        await websocket.accept()
        op, body = read_packet(await websocket.receive_bytes())
        if op != 7 or body.decode() != self.auth_body or self.refuse_auth:
            await websocket.send_bytes(packet(8, b'{"code":-101}', ver=1))
            await websocket.close()
            return
        self.auths += 1
        frames = self.script[self.auths - 1] if self.auths <= len(self.script) else []
        await websocket.send_bytes(packet(8, b'{"code":0}', ver=1))
        self.open.append(websocket)
        self.drop.clear()

        async def replies() -> None:
            while True:
                op, _ = read_packet(await websocket.receive_bytes())
                if op == 2 and not self.silent:
                    self.socket_heartbeats += 1
                    await websocket.send_bytes(packet(3, (4321).to_bytes(4, "big"), ver=1))

        reader = asyncio.create_task(replies())
        try:
            for frame in frames:
                await websocket.send_bytes(frame)
            drop = asyncio.create_task(self.drop.wait())
            await asyncio.wait([reader, drop], return_when=asyncio.FIRST_COMPLETED)
            drop.cancel()
        except WebSocketDisconnect:
            pass
        finally:
            reader.cancel()
            self.open.remove(websocket)
        if self.drop.is_set():
            await websocket.close(code=1011)


@pytest.fixture
async def platform(monkeypatch: pytest.MonkeyPatch):
    stand_in = Platform()
    app = Starlette(routes=[Route("/v2/app/{name}", stand_in.api, methods=["POST"]),
                            WebSocketRoute("/sub", stand_in.sub)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="websockets-sansio"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    stand_in.base_url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("CONTROLROOM_BILIBILI_API", stand_in.base_url)
    # Heartbeats and reconnects at test speed.
    monkeypatch.setattr(bilibili, "HEARTBEAT_S", 0.2)
    monkeypatch.setattr(bilibili, "APP_HEARTBEAT_S", 0.2)
    monkeypatch.setattr(bilibili, "SILENT_AFTER_S", 1.0)
    monkeypatch.setattr(bilibili, "RECONNECT_DELAYS_S", (0.05, 0.1, 0.2))
    yield stand_in
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    sock.close()




def context(collected: Collected, *, secret: str = f"{APP_ID}:{KEY_ID}:{KEY_SECRET}") -> ConnectorContext:
    return ConnectorContext(room="room-bili", external_id=CODE, secret=secret, clock=SystemClock(),
                            emit=collected.emit, report=collected.report)



NOW_S = int(time.time())


def dm(msg_id: str, text: str, who: str = "open-1", name: str = "小明") -> dict:
    return {"cmd": "LIVE_OPEN_PLATFORM_DM",
            "data": {"uname": name, "uid": 0, "open_id": who, "uface": "", "timestamp": NOW_S, "room_id": 4639581,
                     "msg": text, "msg_id": msg_id, "guard_level": 0, "fans_medal_wearing_status": False,
                     "fans_medal_name": "", "fans_medal_level": 0, "emoji_img_url": "", "dm_type": 0}}


GIFT = {"cmd": "LIVE_OPEN_PLATFORM_SEND_GIFT",
        "data": {"room_id": 4639581, "open_id": "open-2", "uname": "送礼人", "uface": "", "gift_id": 31036,
                 "gift_name": "小花花", "gift_num": 2, "price": 1000, "r_price": 1000, "paid": True,
                 "fans_medal_level": 0, "fans_medal_name": "", "fans_medal_wearing_status": False, "guard_level": 0,
                 "timestamp": NOW_S, "msg_id": "gift-1", "anchor_info": {"open_id": "anchor", "uname": "主播"},
                 "gift_icon": ""}}
LIKE = {"cmd": "LIVE_OPEN_PLATFORM_LIKE",
        "data": {"uname": "点赞人", "open_id": "open-3", "uface": "", "timestamp": NOW_S, "room_id": 4639581,
                 "like_text": "点赞了", "like_count": 7, "msg_id": "like-1"}}
LIVE_END = {"cmd": "LIVE_OPEN_PLATFORM_LIVE_END",
            "data": {"room_id": 4639581, "open_id": "anchor", "timestamp": NOW_S, "area_name": "日常",
                     "title": "好物分享", "msg_id": "end-1"}}
DEL = {"cmd": "LIVE_OPEN_PLATFORM_SUPER_CHAT_DEL", "data": {"room_id": 4639581, "message_ids": [1], "msg_id": "d"}}


def expected_first_connection() -> list[dict[str, Any]]:
    ts = NOW_S * 1000
    return [
        {"id": "bili-dm-1", "ts": ts, "source": "bilibili", "type": "comment",
         "user": {"id": "open-1", "name": "小明"}, "text": "这个多少钱"},
        {"id": "bili-gift-1", "ts": ts, "source": "bilibili", "type": "gift",
         "user": {"id": "open-2", "name": "送礼人"}, "gift": "小花花", "count": 2, "value_cents": 200},
        {"id": "bili-like-1", "ts": ts, "source": "bilibili", "type": "like",
         "user": {"id": "open-3", "name": "点赞人"}, "count": 7},
        {"id": "bili-end-1", "ts": ts, "source": "bilibili", "type": "stream", "status": "interrupted"},
    ]


async def test_events_flow_and_a_dropped_socket_comes_back(platform: Platform):
    platform.script = [
        [messages_frame(3, dm("dm-1", "这个多少钱"), GIFT),  # brotli
         b"\x00\x00\x00\x10 not a packet",  # skipped with a logged reason
         messages_frame(2, LIKE, DEL, {"cmd": "LIVE_OPEN_PLATFORM_LIKE", "data": "broken"}, LIVE_END)],  # zlib
        [messages_frame(2, dm("dm-2", "还有货吗", "open-9", "小红"))],
    ]
    collected = Collected()
    stop = asyncio.Event()
    task = asyncio.create_task(bilibili.run(context(collected), stop))
    try:
        await until(lambda: len(collected.events) >= 4, "events from the first connection")
        # One batch per received frame; the unknown cmd and the broken message give nothing.
        assert collected.batches == [expected_first_connection()[:2], expected_first_connection()[2:]]
        await until(lambda: platform.socket_heartbeats >= 3, "socket heartbeats (op 2)")
        await until(lambda: sum(1 for r in platform.requests if r[0] == "/v2/app/heartbeat") >= 2,
                    "app heartbeats")
        await until(lambda: collected.reports[-1] == ("ok", "connected, 6 messages"), "an ok report")

        platform.drop.set()  # the server drops the socket
        await until(lambda: platform.auths == 2, "a second auth")
        await until(lambda: len(collected.events) >= 5, "events after the reconnect")
        assert collected.events[4] == {"id": "bili-dm-2", "ts": NOW_S * 1000, "source": "bilibili",
                                       "type": "comment", "user": {"id": "open-9", "name": "小红"},
                                       "text": "还有货吗"}
        assert any(state == "failing" and detail.startswith("connection lost (closed by the server (1011))")
                   for state, detail in collected.reports)
        assert not task.done()
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)

    assert platform.starts == 1  # the reconnect kept the session
    assert platform.ended == [{"game_id": "game-1", "app_id": APP_ID}]
    assert all(code == 0 for _path, _payload, code in platform.requests)
    assert collected.reports[-1] == ("stopped", "stopped")
    assert len(collected.events) == 5


async def test_a_silent_socket_is_taken_as_dropped(platform: Platform):
    platform.script = [[messages_frame(3, dm("dm-1", "在吗"))], [messages_frame(2, dm("dm-2", "在的"))]]
    collected = Collected()
    stop = asyncio.Event()
    task = asyncio.create_task(bilibili.run(context(collected), stop))
    try:
        await until(lambda: len(collected.events) == 1, "the first event")
        platform.silent = True  # the connection stays open but nothing comes back
        await until(lambda: platform.auths == 2, "a second auth after the silence")
        platform.silent = False
        await until(lambda: len(collected.events) == 2, "events after the reconnect")
        assert ("failing", "connection lost (silent for 1 s); reconnecting in 0.05 s") in collected.reports
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert platform.starts == 1


INTERACTION_END = {"cmd": "LIVE_OPEN_PLATFORM_INTERACTION_END", "data": {"game_id": "game-1", "timestamp": NOW_S}}


@pytest.mark.parametrize("how", ["heartbeat-expired", "interaction-end"])
async def test_a_session_the_platform_ends_is_started_again(platform: Platform, how: str):
    first = [messages_frame(3, dm("dm-1", "第一场"))]
    if how == "interaction-end":  # the platform says it stopped pushing for this session
        first.append(messages_frame(2, INTERACTION_END))
    platform.script = [first, [messages_frame(2, dm("dm-2", "第二场"))]]
    collected = Collected()
    stop = asyncio.Event()
    task = asyncio.create_task(bilibili.run(context(collected), stop))
    try:
        await until(lambda: len(collected.events) == 1, "the first session's event")
        if how == "heartbeat-expired":
            platform.expired = True  # the next app heartbeat is answered 7003 (心跳过期)
        await until(lambda: platform.starts == 2 and len(collected.events) == 2, "a second session")
        assert [e["text"] for e in collected.events] == ["第一场", "第二场"]
        assert {"game_id": "game-1", "app_id": APP_ID} in platform.ended
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert platform.ended[-1] == {"game_id": "game-2", "app_id": APP_ID}


async def test_a_wrong_key_secret_is_refused_with_a_clear_reason(platform: Platform):
    collected = Collected()
    with pytest.raises(bilibili.ApiRefused) as caught:
        await asyncio.wait_for(bilibili.run(context(collected, secret=f"{APP_ID}:{KEY_ID}:not-the-secret"),
                                            asyncio.Event()), 10)
    assert caught.value.code == 4002
    assert "refused the request signature" in str(caught.value)
    assert "access key secret" in str(caught.value)
    assert platform.requests == [("/v2/app/start", {"code": CODE, "app_id": APP_ID}, 4002)]
    assert platform.auths == 0 and collected.batches == []


async def test_a_refused_socket_auth_raises_and_ends_the_session(platform: Platform):
    platform.refuse_auth = True
    with pytest.raises(bilibili.AuthRefused, match=r"refused the session's auth \(code -101\)"):
        await asyncio.wait_for(bilibili.run(context(Collected()), asyncio.Event()), 10)
    assert platform.ended == [{"game_id": "game-1", "app_id": APP_ID}]


async def test_a_malformed_secret_says_the_format():
    with pytest.raises(ValueError, match="app_id:access_key_id:access_key_secret"):
        await bilibili.run(context(Collected(), secret="just-a-secret"), asyncio.Event())
