"""The control room pages and their websocket. Thin: load, render, hand to the hub."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Form, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.status import WS_1008_POLICY_VIOLATION

from controlroom.auth.deps import Requires, WsRequires
from controlroom.auth.permissions import Permission, Role
from controlroom.auth.service import Principal, record, still_valid
from controlroom.bus import keys
from controlroom.bus.hub import RESYNC
from controlroom.db.base import utcnow
from controlroom.db.session import run_in_transaction
from controlroom.metrics.archive import archived_series
from controlroom.metrics.view import merge_series
from controlroom.rooms.projection import publish_rooms
from controlroom.rooms.service import InvalidRoomSlug, get_or_create_room
from controlroom.shows.schedule import InvalidTarget, current_show, parse_targets, set_show_targets
from controlroom.i18n import pick_locale
from controlroom.services import Services, get_services, get_ws_services
from controlroom.web.pages import LANG_COOKIE, client_ip, render_page
from controlroom.web.panels import CONTROL_ROOM_PANELS, HOST_SCREEN_PANELS, TECH_SCREEN_PANELS, load_room_view

router = APIRouter()
# Charts of a room without a started show reach back this far.
SHOW_CHART_SPAN = timedelta(hours=12)

Svc = Annotated[Services, Depends(get_services)]
SignedIn = Annotated[Principal, Depends(Requires(None))]
Dashboard = Annotated[Principal, Depends(Requires(Permission.VIEW_DASHBOARD))]
StreamHealth = Annotated[Principal, Depends(Requires(Permission.VIEW_STREAM_HEALTH))]


async def room_view_of(services: Services, room: str) -> dict:
    return await load_room_view(services.redis, room, services.clock,
                                segment_warning_s=services.settings.segment_warning_s)


def _not_found(request: Request, room: str) -> Response:
    return render_page(request, "pages/not_found.html", status_code=404, what=room)


@router.get("/", include_in_schema=False)
async def index(principal: SignedIn) -> Response:
    # A host has one screen; everyone else starts from their rooms.
    return RedirectResponse("/host" if principal.role == Role.HOST else "/rooms", status_code=303)


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def rooms_page(request: Request, services: Svc, principal: Dashboard) -> Response:
    return render_page(request, "pages/rooms.html", rooms=await _visible_rooms(services, principal), error=None)


async def _visible_rooms(services: Services, principal: Principal) -> list[dict]:
    """Every room this user may see, with its headline numbers: an agency watches many."""
    slugs = sorted(m.decode() for m in await services.redis.smembers(keys.ROOMS))
    rooms = []
    for slug in slugs:
        if principal.can_see_room(slug):
            view = await room_view_of(services, slug)
            rooms.append({"slug": slug, "name": await services.bus.room_name(slug) or slug, "v": view})
    return rooms


@router.post("/rooms", include_in_schema=False)
async def add_room(
    request: Request,
    services: Svc,
    principal: Annotated[Principal, Depends(Requires(Permission.ADMINISTER))],
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
) -> Response:
    slug, name = slug.strip(), name.strip()
    now = utcnow()

    def create(session) -> None:
        room = get_or_create_room(session, slug=slug, name=name or slug, timezone=services.settings.timezone)
        record(session, actor=principal.name, user_id=principal.user_id, action="room.add", now=now, room=room,
               ip=client_ip(request), detail={"name": room.name})

    try:
        await run_in_transaction(services.sessions, create)
    except InvalidRoomSlug as error:
        rooms = await _visible_rooms(services, principal)
        return render_page(request, "pages/rooms.html", status_code=422, rooms=rooms, error=str(error))
    await services.bus.register_room(slug, name=name or slug)
    return RedirectResponse(f"/rooms/{slug}", status_code=303)


@router.post("/rooms/{room}/targets", include_in_schema=False)
async def set_targets(
    room: str,
    request: Request,
    services: Svc,
    principal: Annotated[Principal, Depends(Requires(Permission.DRIVE_SHOW))],
    interaction_rate: Annotated[str, Form()] = "",
    conversion_rate: Annotated[str, Form()] = "",
    like_rate: Annotated[str, Form()] = "",
    comments: Annotated[str, Form()] = "",
) -> Response:
    """The current show's targets. Rates are typed in percent."""
    now = utcnow()
    wanted: dict[str, str] = {
        "interaction_rate": interaction_rate, "conversion_rate": conversion_rate, "like_rate": like_rate,
        "comments": comments,
    }

    def save(session) -> dict:
        show = current_show(session, room)
        if show is None:
            raise InvalidTarget("show", "this room has no show yet")
        parsed = parse_targets(wanted)
        targets = set_show_targets(session, show=show, targets=parsed)
        record(session, actor=principal.name, user_id=principal.user_id, action="show.targets", now=now,
               room=show.room, ip=client_ip(request), detail={"show": show.title, "targets": targets})
        return targets

    error = None
    try:
        await run_in_transaction(services.sessions, save)
        await publish_rooms(services.bus, services.sessions, only=room)
    except InvalidTarget as exc:
        error = f"{exc.field}: {exc.message}"
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/rooms/{room}", status_code=303)
    view = await room_view_of(services, room)
    return render_page(request, "partials/_targets.html", status_code=422 if error else 200, room=room,
                       targets=view["targets"], error=error, saved=error is None)


@router.get("/rooms/{room}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(room: str, request: Request, services: Svc, principal: Dashboard) -> Response:
    name = await services.bus.room_name(room)
    if name is None:
        return _not_found(request, room)
    view = await room_view_of(services, room)
    view["series"] = merge_series(await run_in_transaction(services.sessions, lambda s: _show_minutes(s, room)), view["series"])
    return render_page(request, "pages/room.html", room=room, room_name=name, v=view, oob=False)


def _show_minutes(session, room: str) -> dict[str, list]:
    """The current show's archived minutes (the last 12 hours when it has none)."""
    show = current_show(session, room)
    since = show.planned_start if show is not None and show.planned_start <= utcnow() else utcnow() - SHOW_CHART_SPAN
    return archived_series(session, room_slug=room, since=since)


@router.get("/rooms/{room}/tech", response_class=HTMLResponse, include_in_schema=False)
async def tech_screen(room: str, request: Request, services: Svc, principal: StreamHealth) -> Response:
    """The tech desk: the stream's health and the alerts, escalations loudest."""
    name = await services.bus.room_name(room)
    if name is None or not principal.can_see_room(room):
        return _not_found(request, room)
    view = await room_view_of(services, room)
    dead = await services.redis.xlen(keys.dead_letters(room))
    return render_page(request, "pages/tech.html", room=room, room_name=name, v=view, oob=False, dead_letters=dead)


@router.get("/api/rooms/{room}/state", tags=["rooms"], summary="The room's live numbers, as the screens show them")
async def room_state(room: str, services: Svc, principal: Dashboard) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    view = await room_view_of(services, room)
    return Response(orjson.dumps(view), media_type="application/json")


@router.get("/api/rooms/{room}/dead-letters", tags=["ingest"], summary="Recently refused items with their reasons")
async def dead_letters(room: str, services: Svc, principal: StreamHealth, limit: int = 100) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    entries = await services.redis.xrevrange(keys.dead_letters(room), count=max(1, min(limit, 1000)))
    items = [
        {"id": entry_id.decode(), "raw": fields[b"raw"].decode(errors="replace"), "reason": fields[b"reason"].decode()}
        for entry_id, fields in entries
    ]
    return Response(orjson.dumps(items), media_type="application/json")


@router.websocket("/ws/rooms/{room}")
async def room_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_DASHBOARD))]
) -> None:
    await stream_room(websocket, room, principal, panels=CONTROL_ROOM_PANELS)


@router.websocket("/ws/rooms/{room}/host")
async def room_host_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_HOST_SCREEN))]
) -> None:
    """The host screen of a host who signed in with a password."""
    await stream_room(websocket, room, principal, panels=HOST_SCREEN_PANELS)


@router.websocket("/ws/rooms/{room}/tech")
async def room_tech_socket(
    websocket: WebSocket, room: str, principal: Annotated[Principal, Depends(WsRequires(Permission.VIEW_STREAM_HEALTH))]
) -> None:
    await stream_room(websocket, room, principal, panels=TECH_SCREEN_PANELS)


async def stream_room(
    websocket: WebSocket, room: str, principal: Principal, panels: frozenset[str] | None = None
) -> None:
    """Push the room's panels (all, or those named): a snapshot, then changes, until the
    client goes away or its session or link stops being valid. The caller has already
    decided the client may see the room."""
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
    client = hub.connect(room, locale, panels)
    receiver = asyncio.create_task(_discard_incoming(websocket))
    next_frame: asyncio.Future | None = None
    try:
        await websocket.send_text(await hub.snapshot(client))
        while True:
            next_frame = next_frame or asyncio.ensure_future(client.next_frame())
            done, _ = await asyncio.wait(
                {next_frame, receiver}, timeout=services.settings.auth_recheck_s, return_when=asyncio.FIRST_COMPLETED
            )
            if receiver in done:
                return
            if not done:
                if not await run_in_transaction(
                    services.sessions, lambda s: still_valid(s, principal=principal, now=utcnow())
                ):
                    await websocket.close(code=WS_1008_POLICY_VIOLATION, reason="session ended")
                    return
                continue
            frame, next_frame = next_frame.result(), None
            if frame is RESYNC:
                frame = await hub.snapshot(client)
            await websocket.send_text(frame)
    except (WebSocketDisconnect, RuntimeError):
        return
    finally:
        if next_frame is not None:
            next_frame.cancel()
        hub.disconnect(client)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


async def _discard_incoming(websocket: WebSocket) -> None:
    """Screens only listen; reading is how a closed connection is noticed."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()
