"""Bilibili live open platform (哔哩哔哩直播开放平台) connector: one room's 弹幕 socket.

The binding names the streamer by the 主播身份码 (`external_id`, from the streamer's
live centre) and carries the developer's app as its secret,
"app_id:access_key_id:access_key_secret". One run:

1. POST /v2/app/start (signed, see bilibili_protocol) → a game_id, the socket's
   auth_body and its wss_link[];
2. opens a socket to the first link, sends auth (op 7), waits for the auth reply (op 8,
   code 0), then sends a heartbeat (op 2) every HEARTBEAT_S while POSTing
   /v2/app/heartbeat every APP_HEARTBEAT_S (the platform drops a session without one
   for 60 s);
3. turns every received frame's messages into canonical events, emitted as one batch
   per frame;
4. on `stop`, closes the socket and POSTs /v2/app/end (otherwise the room stays taken
   until the heartbeat runs out).

A socket that drops (closed, reset, or silent: no frame, not even a heartbeat reply,
for SILENT_AFTER_S) is opened again on the next link after 1, 2, 4, 8, 16 s
(RECONNECT_DELAYS_S; back to 1 s once a socket was authenticated), with the same
session; after
MAX_CONNECT_FAILURES attempts in a row that never got an auth reply, `run` raises and
the runner starts it again from /v2/app/start. A session the platform ends (heartbeat
answered with 7003 "心跳过期", or an INTERACTION_END message) is ended and started
again after RECONNECT_DELAYS_S[0]. A refusal of the API (wrong key, signature, 身份码…) or of the socket's
auth raises, with the platform's reason in plain words. A frame or message that cannot
be read is skipped with a logged reason; the connection goes on.

The API's base URL is API_BASE unless the environment sets CONTROLROOM_BILIBILI_API
(read at each request: tests point it at a loopback platform).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from controlroom.connectors.base import ConnectorContext, ConnectorError, wait_or_stop
from controlroom.connectors.bilibili_protocol import (
    CMD_INTERACTION_END,
    OP_AUTH,
    OP_AUTH_REPLY,
    OP_HEARTBEAT,
    OP_MESSAGE,
    SECRET_FORMAT,
    Packet,
    ProtocolError,
    auth_reply_code,
    classify,
    decode_json,
    pack,
    parse_secret,
    sign_headers,
    unpack,
)
from controlroom.i18n import N_

log = structlog.get_logger(__name__)

KIND = "bilibili"

API_BASE = "https://live-open.biliapi.com"
API_ENV = "CONTROLROOM_BILIBILI_API"

# Module constants so a test can shorten them (read at each use).
HEARTBEAT_S = 20.0  # op 2 on the socket (the platform asks for one every 20-30 s)
APP_HEARTBEAT_S = 20.0  # POST /v2/app/heartbeat (the session dies after 60 s without)
HTTP_TIMEOUT_S = 10.0
AUTH_TIMEOUT_S = 10.0  # from sending auth to its reply
# A socket that has said nothing (not even a heartbeat reply, op 3) for this long is
# taken as dropped: two heartbeats and a margin.
SILENT_AFTER_S = 2 * HEARTBEAT_S + 5.0
RECONNECT_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
MAX_CONNECT_FAILURES = 6  # socket attempts in a row without an auth reply, then raise
REPORT_EVERY_S = 1.0  # at most one "ok" report a second while messages flow
END_TIMEOUT_S = 3.0  # the runner waits 5 s for a stopped connection
MAX_FRAME_BYTES = 4 * 1024 * 1024


def api_base() -> str:
    return (os.environ.get(API_ENV) or API_BASE).rstrip("/")


# --- errors --------------------------------------------------------------------------

class BilibiliError(ConnectorError):
    """A failure of the Bilibili session, with its reason for tech staff."""


class ApiRefused(BilibiliError):
    """The HTTP API answered with an error code (or not at all)."""

    def __init__(self, detail: str, *, code: int | None = None, **figures: Any) -> None:
        self.code = code
        super().__init__(detail, code=code, **figures)


class AuthRefused(BilibiliError):
    """The message server refused the session's auth_body."""


class SessionLost(Exception):
    """The platform ended this session: start a new one."""


class _Dropped(Exception):
    """The socket could not be opened, dropped or fell silent (the reason in words)."""


# The refusals of the public error code table that tech staff can act on.
REFUSALS = {
    4001: N_("Bilibili does not know this access key id (code %(code)s): check the binding secret, "
             "\"app_id:access_key_id:access_key_secret\""),
    4002: N_("Bilibili refused the request signature (code %(code)s): check the access key secret in the "
             "binding secret, \"app_id:access_key_id:access_key_secret\""),
    4003: N_("Bilibili refused the request as expired (code %(code)s): check this server's clock"),
    7001: N_("Bilibili is still closing this room's previous session (code %(code)s); retrying"),
    7002: N_("this Bilibili room already has an open session (code %(code)s): another connection, or one "
             "that was not ended and closes within a minute"),
    7007: N_("Bilibili does not recognise the streamer's identity code (主播身份码) of this binding "
             "(code %(code)s)"),
    8002: N_("this Bilibili app id has no access (code %(code)s): check the app id in the binding secret"),
}
REFUSED = N_("Bilibili refused %(path)s with code %(code)s: %(message)s")
NO_ANSWER = N_("Bilibili answered %(path)s with HTTP %(status)s and no result code")
UNREACHABLE = N_("could not reach Bilibili at %(url)s: %(error)s")
MISSING_FIELD = N_("Bilibili's answer to %(path)s lacks %(field)s")
AUTH_REFUSED = N_("the Bilibili message server refused the session's auth (code %(code)s)")
NO_SOCKET = N_("could not hold a Bilibili message socket (%(attempts)s attempts in a row): %(reason)s")
NO_IDENTITY_CODE = N_("the Bilibili binding needs the streamer's identity code (主播身份码) as its external id")

# Health reports.
STARTING = N_("starting the Bilibili session")
CONNECTING = N_("connecting to the Bilibili message server")
CONNECTED = N_("connected, %(count)s messages")
RECONNECTING = N_("connection lost (%(reason)s); reconnecting in %(delay)s s")
SESSION_ENDED = N_("Bilibili ended the session; starting a new one")
STOPPED = N_("stopped")


# --- HTTP API ------------------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    game_id: str
    auth_body: str
    links: list[str]
    room_id: Any = None


class OpenLiveApi:
    def __init__(self, http: httpx.AsyncClient, ctx: ConnectorContext, app_id: int, key_id: str,
                 key_secret: str) -> None:
        self.http = http
        self.ctx = ctx
        self.app_id = app_id
        self.key_id = key_id
        self.key_secret = key_secret

    async def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        url = api_base() + path
        body = orjson.dumps(payload)
        headers = sign_headers(body, self.key_id, self.key_secret, now_s=self.ctx.clock.now_ms() / 1000,
                               nonce=secrets.token_hex(16))
        try:
            response = await self.http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiRefused(UNREACHABLE, url=url, error=str(exc) or type(exc).__name__) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code = answer.get("code") if isinstance(answer, dict) else None
        if not isinstance(code, int) or isinstance(code, bool):
            raise ApiRefused(NO_ANSWER, path=path, status=response.status_code)
        if code != 0:
            assert isinstance(answer, dict)
            log.warning("bilibili.api_refused", room=self.ctx.room, path=path, code=code,
                        message=answer.get("message"), request_id=answer.get("request_id"))
            if code in REFUSALS:
                raise ApiRefused(REFUSALS[code], code=code)
            raise ApiRefused(REFUSED, code=code, path=path, message=str(answer.get("message") or "no message"))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def start(self, code: str) -> Session:
        path = "/v2/app/start"
        data = await self.post(path, {"code": code, "app_id": self.app_id})
        game = data.get("game_info") if isinstance(data.get("game_info"), dict) else {}
        socket = data.get("websocket_info")
        if not isinstance(socket, dict):
            raise ApiRefused(MISSING_FIELD, path=path, field="data.websocket_info")
        auth_body = socket.get("auth_body")
        if not isinstance(auth_body, str) or not auth_body:
            raise ApiRefused(MISSING_FIELD, path=path, field="data.websocket_info.auth_body")
        links = [link for link in socket.get("wss_link") or [] if isinstance(link, str) and link]
        if not links:
            raise ApiRefused(MISSING_FIELD, path=path, field="data.websocket_info.wss_link")
        anchor = data.get("anchor_info") if isinstance(data.get("anchor_info"), dict) else {}
        # game_id is "" for apps that are not interactive games: no heartbeat, no end.
        game_id = game.get("game_id")
        return Session(game_id=game_id if isinstance(game_id, str) else "", auth_body=auth_body, links=links,
                       room_id=anchor.get("room_id"))

    async def heartbeat(self, game_id: str) -> None:
        await self.post("/v2/app/heartbeat", {"game_id": game_id})

    async def end(self, game_id: str) -> None:
        await self.post("/v2/app/end", {"game_id": game_id, "app_id": self.app_id})


# --- the connection ------------------------------------------------------------------

class _Link:
    def __init__(self, ctx: ConnectorContext, stop: asyncio.Event, api: OpenLiveApi, code: str) -> None:
        self.ctx = ctx
        self.stop = stop
        self.api = api
        self.code = code
        self.messages = 0
        self.events = 0
        self.skipped = 0
        self.ignored: dict[str, int] = {}
        self._last_report = 0.0
        self._authed = False

    async def run(self) -> None:
        while not self.stop.is_set():
            self.ctx.report("connecting", STARTING)
            session = await self.api.start(self.code)
            log.info("bilibili.session_started", room=self.ctx.room, bili_room=session.room_id,
                     game_id=session.game_id, links=len(session.links))
            try:
                again = await self._hold(session)
            finally:
                await self._end(session)
            if not again:
                break
            self.ctx.report("connecting", SESSION_ENDED)
            if await wait_or_stop(self.stop, RECONNECT_DELAYS_S[0]):
                break
        self.ctx.report("stopped", STOPPED)

    async def _end(self, session: Session) -> None:
        if not session.game_id:
            return
        try:
            await asyncio.shield(asyncio.wait_for(self.api.end(session.game_id), END_TIMEOUT_S))
            log.info("bilibili.session_ended", room=self.ctx.room, game_id=session.game_id)
        except (BilibiliError, TimeoutError) as exc:
            log.warning("bilibili.end_failed", room=self.ctx.room, game_id=session.game_id, error=str(exc))

    async def _hold(self, session: Session) -> bool:
        """Holds the session's socket until stop (False) or the platform ends the
        session (True: start a new one)."""
        ended = asyncio.Event()
        beats = asyncio.create_task(self._app_heartbeats(session, ended))
        failures = 0
        attempt = 0
        try:
            while not self.stop.is_set():
                if ended.is_set():
                    return True
                url = session.links[attempt % len(session.links)]
                attempt += 1
                self.ctx.report("connecting", CONNECTING)
                self._authed = False
                try:
                    await self._socket(url, session, ended)
                    reason = "closed"
                except SessionLost as exc:
                    log.info("bilibili.session_lost", room=self.ctx.room, reason=str(exc))
                    return not self.stop.is_set()
                except _Dropped as exc:
                    reason = str(exc)
                if self.stop.is_set():
                    return False
                if ended.is_set():
                    return True
                failures = 1 if self._authed else failures + 1
                if failures >= MAX_CONNECT_FAILURES:
                    raise BilibiliError(NO_SOCKET, attempts=failures, reason=reason)
                delay = RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S)) - 1]
                log.warning("bilibili.socket_lost", room=self.ctx.room, url=url, reason=reason, retry_in_s=delay)
                self.ctx.report("failing", RECONNECTING, reason=reason, delay=f"{delay:g}")
                if await wait_or_stop(self.stop, delay):
                    return False
            return False
        finally:
            beats.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beats

    async def _app_heartbeats(self, session: Session, ended: asyncio.Event) -> None:
        if not session.game_id:
            return
        while not await wait_or_stop(self.stop, APP_HEARTBEAT_S):
            try:
                await self.api.heartbeat(session.game_id)
            except ApiRefused as exc:
                log.warning("bilibili.heartbeat_failed", room=self.ctx.room, code=exc.code, error=str(exc))
                if exc.code == 7003:  # 心跳过期: the session is gone
                    ended.set()
                    return
            except Exception as exc:  # noqa: BLE001 - a missed heartbeat is tried again
                log.warning("bilibili.heartbeat_failed", room=self.ctx.room, error=str(exc) or type(exc).__name__)

    async def _socket(self, url: str, session: Session, ended: asyncio.Event) -> None:
        """One socket: returns when `stop` closed it; raises _Dropped when it drops,
        SessionLost when the platform ends the session, AuthRefused."""
        loop = asyncio.get_running_loop()
        try:
            ws = await connect(url, ping_interval=None, compression=None, open_timeout=HTTP_TIMEOUT_S,
                               close_timeout=1, max_size=MAX_FRAME_BYTES)
            await ws.send(pack(OP_AUTH, session.auth_body))
        except (OSError, WebSocketException, TimeoutError) as exc:
            raise _Dropped(_describe(exc)) from exc
        watcher = asyncio.create_task(self._close_on(ws, ended))
        beats: asyncio.Task[None] | None = None
        deadline = loop.time() + AUTH_TIMEOUT_S
        try:
            while True:
                wait = SILENT_AFTER_S if self._authed else deadline - loop.time()
                try:
                    frame = await asyncio.wait_for(ws.recv(), timeout=max(wait, 0.0))
                except TimeoutError:
                    raise _Dropped("no auth reply" if not self._authed else f"silent for {SILENT_AFTER_S:g} s") from None
                except (OSError, WebSocketException) as exc:
                    if self.stop.is_set():
                        return
                    if ended.is_set():
                        raise SessionLost("heartbeat expired") from None
                    raise _Dropped(_describe(exc)) from exc
                if isinstance(frame, str):
                    self._skip("a text frame")
                    continue
                try:
                    packets = unpack(frame)
                except ProtocolError as exc:
                    self._skip(f"frame: {exc}")
                    continue
                events: list[dict[str, Any]] = []
                session_over = False
                for packet in packets:
                    if packet.operation == OP_AUTH_REPLY:
                        code = auth_reply_code(packet)
                        if code != 0:
                            raise AuthRefused(AUTH_REFUSED, code=code)
                        if not self._authed:
                            self._authed = True
                            beats = asyncio.create_task(self._socket_heartbeats(ws))
                            log.info("bilibili.connected", room=self.ctx.room, url=url)
                            self._report(force=True)
                    elif packet.operation == OP_MESSAGE:
                        session_over |= self._message(packet, events)
                if events:
                    await self.ctx.emit(events)  # a failure here is the runner's to handle
                    self.events += len(events)
                if session_over:
                    raise SessionLost("the platform stopped pushing (INTERACTION_END)")
                if self._authed:
                    self._report()
        finally:
            for task in (watcher, beats):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            with contextlib.suppress(Exception):
                await ws.close()

    def _message(self, packet: Packet, events: list[dict[str, Any]]) -> bool:
        """Adds the message's events; True when it is the platform's end of the session."""
        try:
            message = decode_json(packet)
        except ProtocolError as exc:
            self._skip(str(exc))
            return False
        self.messages += 1
        outcome = classify(message, self.ctx.clock.now_ms())
        if outcome.ignored is not None:
            if outcome.ignored not in self.ignored:
                log.info("bilibili.cmd_ignored", room=self.ctx.room, cmd=outcome.ignored)
            self.ignored[outcome.ignored] = self.ignored.get(outcome.ignored, 0) + 1
            return outcome.ignored == CMD_INTERACTION_END
        if outcome.problem is not None:
            self._skip(outcome.problem)
        events.extend(outcome.events)
        return False

    def _skip(self, reason: str) -> None:
        self.skipped += 1
        log.warning("bilibili.message_skipped", room=self.ctx.room, reason=reason)

    def _report(self, *, force: bool = False) -> None:
        now = asyncio.get_running_loop().time()
        if not force and now - self._last_report < REPORT_EVERY_S:
            return
        self._last_report = now
        self.ctx.report("ok", CONNECTED, count=self.messages, events=self.events,
                        ignored=sum(self.ignored.values()), skipped=self.skipped)

    async def _socket_heartbeats(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await ws.send(pack(OP_HEARTBEAT, "{}"))
                await asyncio.sleep(HEARTBEAT_S)

    async def _close_on(self, ws: ClientConnection, ended: asyncio.Event) -> None:
        waits = [asyncio.create_task(self.stop.wait()), asyncio.create_task(ended.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in waits:
                task.cancel()
        await ws.close()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        return f"closed by the server ({exc.rcvd.code})" if exc.rcvd is not None else "connection dropped"
    return str(exc) or type(exc).__name__


async def run(ctx: ConnectorContext, stop: asyncio.Event) -> None:
    """Holds the binding's Bilibili socket until `stop` (see the module doc)."""
    app_id, key_id, key_secret = parse_secret(ctx.secret)
    code = (ctx.external_id or "").strip()
    if not code:
        raise BilibiliError(NO_IDENTITY_CODE)
    async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as http:
        await _Link(ctx, stop, OpenLiveApi(http, ctx, app_id, key_id, key_secret), code).run()


__all__ = ["API_BASE", "KIND", "SECRET_FORMAT", "ApiRefused", "AuthRefused", "BilibiliError", "run"]
