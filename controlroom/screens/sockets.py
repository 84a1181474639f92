"""Every screen's websocket: the control room, the tech desk, and the host screen (by
session and by secret link). Each pushes its screen's panels: a snapshot, then changes,
until the client goes away or its session or link stops being valid."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

from fastapi import APIRouter, Depends, WebSocket, WebSocketDisconnect
from starlette.status import WS_1008_POLICY_VIOLATION

from controlroom.auth.deps import WsRequires, WsRequiresHostLink
from controlroom.auth.permissions import Permission
from controlroom.auth.service import Principal, still_valid
from controlroom.db.session import run_in_transaction
from controlroom.i18n import pick_locale
from controlroom.screens.hub import RESYNC, Hub
from controlroom.screens.panels import CONTROL_ROOM, HOST, TECH, screen_panels
from controlroom.screens.revocations import Revocations
from controlroom.services import get_ws_services
from controlroom.web.pages import LANG_COOKIE

router = APIRouter()


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
    receiver = asyncio.create_task(_discard_incoming(websocket))
    next_frame: asyncio.Future | None = None
    revoked_wait: asyncio.Future | None = None
    try:
        await websocket.send_text(await hub.snapshot(client))
        while True:
            next_frame = next_frame or asyncio.ensure_future(client.next_frame())
            revoked_wait = revoked_wait or asyncio.ensure_future(revoked.wait())
            done, _ = await asyncio.wait(
                {next_frame, receiver, revoked_wait}, timeout=services.settings.auth_recheck_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if receiver in done:
                return
            if revoked_wait in done or not done:
                # Announced (a logout, a changed user, a replaced link) or the periodic
                # safety net: the record decides.
                if revoked_wait.done():
                    revoked.clear()
                    revoked_wait = None
                if not await run_in_transaction(
                    services.sessions, lambda s: still_valid(s, principal=principal, now=services.now())
                ):
                    await websocket.close(code=WS_1008_POLICY_VIOLATION, reason="session ended")
                    return
            if next_frame not in done:
                continue
            frame, next_frame = next_frame.result(), None
            if frame is RESYNC:
                frame = await hub.snapshot(client)
            await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        for waiting in (next_frame, revoked_wait):
            if waiting is not None:
                waiting.cancel()
        revocations.forget(revoked)
        hub.disconnect(client)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _discard_incoming(websocket: WebSocket) -> None:
    """Screens only listen; reading is how a closed connection is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
