"""Every screen's websocket: the control room, the tech desk, and the host screen (by
session and by secret link). Each pushes its screen's panels: a snapshot, then changes,
until the client goes away, stops reading, or its session or link stops being valid.

A screen that does not take a frame within `client_send_timeout_s` is disconnected and
its TCP connection reset: a client that stopped reading holds a socket and its buffers
for as long as it stays connected, and nothing it could still read would reach it."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from starlette.status import WS_1008_POLICY_VIOLATION

from controlroom.auth.deps import WsRequires, WsRequiresHostLink
from controlroom.auth.permissions import Permission
from controlroom.auth.service import Principal, still_valid
from controlroom.db.session import run_in_transaction
from controlroom.i18n import pick_locale
from controlroom.screens.hub import RESYNC, Client, Hub
from controlroom.screens.panels import CONTROL_ROOM, HOST, TECH, screen_panels
from controlroom.screens.revocations import Revocations
from controlroom.services import Services, get_ws_services
from controlroom.db.health import database_unavailable
from controlroom.web.pages import LANG_COOKIE

log = structlog.get_logger(__name__)
router = APIRouter()

# The ASGI extension our server (controlroom/runtime/serving.py) puts in a websocket's
# scope: {"reset": callable} drops the connection at once, whatever is still buffered.
RESET_EXTENSION = "controlroom.websocket.reset"
# Under another server (tests in process): how long the close frame may take.
CLOSE_GRACE_S = 1.0


@router.websocket("/ws/rooms/{room}")
async def room_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_DASHBOARD))]
) -> None:
    await stream_room(websocket, room, principal, screen=CONTROL_ROOM)


@router.websocket("/ws/rooms/{room}/host")
async def room_host_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_HOST_SCREEN))]
) -> None:
    """The host screen of a host who signed in with a password."""
    await stream_room(websocket, room, principal, screen=HOST)


@router.websocket("/ws/rooms/{room}/tech")
async def room_tech_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_STREAM_HEALTH))]
) -> None:
    await stream_room(websocket, room, principal, screen=TECH)


@router.websocket("/ws/host/{token}")
async def host_socket(
    websocket: WebSocket, token: str, principal: Annotated[Principal, Depends(WsRequiresHostLink())]
) -> None:
    """The host screen opened with its secret link: the room of the link's show."""
    await stream_room(websocket, next(iter(principal.room_slugs or [])), principal, screen=HOST)


def hub_of(websocket: WebSocket) -> Hub:
    return websocket.app.state.hub


async def stream_room(websocket: WebSocket, room: str, principal: Principal, *, screen: str) -> None:
    """The caller has already decided the client may see the room."""
    services = get_ws_services(websocket)
    if await services.bus.room_name(room) is None:
        await websocket.close(code=WS_1008_POLICY_VIOLATION)
        return
    locale = pick_locale(
        query=websocket.query_params.get("lang"),
        cookie=websocket.cookies.get(LANG_COOKIE),
        default=services.settings.default_locale,
    )
    await websocket.accept()
    hub = hub_of(websocket)
    client = hub.connect(room, locale, screen_panels(screen))
    revocations: Revocations = websocket.app.state.revocations
    revoked = revocations.watch(principal)
    settings = services.settings
    receiver = asyncio.create_task(_discard_incoming(websocket))
    # Frames go out from a task of their own that only waits on the client's queue: a
    # frame costs one queue read and one send, with a thousand screens on the room.
    sender = asyncio.create_task(_send_frames(websocket, hub, client, room, settings.client_send_timeout_s))
    revoked_wait: asyncio.Future | None = None
    try:
        while True:
            revoked_wait = revoked_wait or asyncio.ensure_future(revoked.wait())
            done, _ = await asyncio.wait({sender, receiver, revoked_wait}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done or sender in done:
                return
            # Announced (a logout, a changed user, a replaced link) or found by the
            # process's periodic re-check: the record decides. While it cannot (the
            # database away) the screen stays, and the re-check asks again later.
            revoked.clear()
            revoked_wait = None
            if await _still_valid_or_unknown(services, principal) is False:
                await _stop(sender)
                await _close_in_time(websocket, room, "session ended", settings.client_send_timeout_s)
                return
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        if revoked_wait is not None:
            revoked_wait.cancel()
        revocations.forget(revoked)
        hub.disconnect(client)
        await _stop(sender)
        await _stop(receiver)


async def _send_frames(websocket: WebSocket, hub: Hub, client: Client, room: str, timeout_s: float) -> None:
    """The snapshot, then every frame the hub offers the client, in order (a snapshot
    again after the client fell behind); a client that takes nothing for `timeout_s` is
    dropped. Ends when the connection does."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        frame = await hub.snapshot(client)
        while await _sent_in_time(websocket, frame, timeout_s):
            frame = await client.next_frame()
            if frame is RESYNC:
                frame = await hub.snapshot(client)
        await _drop_stalled(websocket, room, timeout_s)


async def _stop(task: asyncio.Task) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task


async def _sent_in_time(websocket: WebSocket, frame: str, timeout_s: float) -> bool:
    """Send, unless the client takes nothing for `timeout_s`: the server's send waits
    while the connection's buffers are full, that is while the client is not reading."""
    try:
        async with asyncio.timeout(timeout_s):  # a timer, not a task per frame
            await websocket.send_text(frame)
    except TimeoutError:
        return False
    return True


async def _close_in_time(websocket: WebSocket, room: str, reason: str, timeout_s: float) -> None:
    """Close with 1008; the close frame waits for the client like any frame."""
    try:
        await asyncio.wait_for(websocket.close(code=WS_1008_POLICY_VIOLATION, reason=reason), timeout_s)
    except asyncio.TimeoutError:
        await _drop_stalled(websocket, room, timeout_s)


async def _drop_stalled(websocket: WebSocket, room: str, timeout_s: float) -> None:
    """A client that stopped reading will not read a close frame either, and a close
    would wait for buffers that never drain: reset the connection. Under a server that
    offers no reset, close with a bound and let the server end the connection."""
    client = websocket.client
    log.info("screen.stalled", room=room, client=f"{client.host}:{client.port}" if client else None,
             detail=f"took no frame within {timeout_s:g} s: disconnected")
    reset = websocket.scope.get("extensions", {}).get(RESET_EXTENSION, {}).get("reset")
    if reset is not None:
        reset()
        return
    with contextlib.suppress(asyncio.TimeoutError, WebSocketDisconnect, RuntimeError, OSError):
        await asyncio.wait_for(websocket.close(code=WS_1008_POLICY_VIOLATION, reason="too slow"), CLOSE_GRACE_S)


async def _still_valid_or_unknown(services: Services, principal: Principal) -> bool | None:
    """The record decides; None while the database is away and cannot. The screen then
    stays (a whole control room going dark because SQL blinked is worse than a
    revocation taking one more round) and is re-checked next round."""
    try:
        valid = await run_in_transaction(
            services.sessions, lambda s: still_valid(s, principal=principal, now=services.now())
        )
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        services.database.failed(exc)  # logged once per outage; the watch sees it end
        return None
    return valid


async def _discard_incoming(websocket: WebSocket) -> None:
    """Screens only listen; reading is how a closed connection is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
