"""The control room pages and their websocket. Thin: load, render, hand to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.status import WS_1008_POLICY_VIOLATION

from controlroom.bus import keys
from controlroom.bus.hub import RESYNC
from controlroom.i18n import pick_locale
from controlroom.services import Services, get_services, get_ws_services
from controlroom.web.panels import load_room_view

router = APIRouter()

Svc = Annotated[Services, Depends(get_services)]
LANG_COOKIE = "lang"


def _locale(request: Request, services: Services) -> str:
    return pick_locale(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        default=services.settings.default_locale,
    )


def _page(request: Request, services: Services, template: str, status_code: int = 200, **context: Any) -> Response:
    locale = _locale(request, services)
    html = services.renderer.render(template, locale=locale, **context)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang"):
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


def _not_found(request: Request, services: Services, room: str) -> Response:
    return _page(request, services, "pages/not_found.html", status_code=404, what=room)


@router.get("/", include_in_schema=False)
async def index() -> Response:
    return RedirectResponse("/rooms", status_code=303)


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def rooms_page(request: Request, services: Svc) -> Response:
    slugs = sorted(m.decode() for m in await services.redis.smembers(keys.ROOMS))
    rooms = [{"slug": slug, "name": await services.bus.room_name(slug) or slug} for slug in slugs]
    return _page(request, services, "pages/rooms.html", rooms=rooms)


@router.get("/rooms/{room}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(room: str, request: Request, services: Svc) -> Response:
    name = await services.bus.room_name(room)
    if name is None:
        return _not_found(request, services, room)
    view = await load_room_view(services.redis, room, services.clock)
    return _page(request, services, "pages/room.html", room=room, room_name=name, v=view, oob=False)


@router.get("/api/rooms/{room}/state", tags=["rooms"], summary="The room's live numbers, as the screens show them")
async def room_state(room: str, services: Svc) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    view = await load_room_view(services.redis, room, services.clock)
    return Response(orjson.dumps(view), media_type="application/json")


@router.get("/api/rooms/{room}/dead-letters", tags=["ingest"], summary="Recently refused items with their reasons")
async def dead_letters(room: str, services: Svc, limit: int = 100) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    entries = await services.redis.xrevrange(keys.dead_letters(room), count=max(1, min(limit, 1000)))
    items = [
        {"id": entry_id.decode(), "raw": fields[b"raw"].decode(errors="replace"), "reason": fields[b"reason"].decode()}
        for entry_id, fields in entries
    ]
    return Response(orjson.dumps(items), media_type="application/json")


@router.websocket("/ws/rooms/{room}")
async def room_socket(websocket: WebSocket, room: str) -> None:
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
    hub = services.hub
    client = hub.connect(room, locale)
    receiver = asyncio.create_task(_discard_incoming(websocket))
    try:
        await websocket.send_text(await hub.snapshot(room, locale))
        while True:
            next_frame = asyncio.ensure_future(client.next_frame())
            done, _ = await asyncio.wait({next_frame, receiver}, return_when=asyncio.FIRST_COMPLETED)
            if receiver in done:
                next_frame.cancel()
                return
            frame = next_frame.result()
            if frame is RESYNC:
                frame = await hub.snapshot(room, locale)
            await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        hub.disconnect(client)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _discard_incoming(websocket: WebSocket) -> None:
    """Screens only listen; reading is how a closed connection is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
