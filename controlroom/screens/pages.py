"""The screen pages: the rooms overview, a room's control room and tech desk, the host
screen (signed in, or by its secret link) and the page that hands out that link. Thin:
load the room's view, render the page; the websocket does the rest."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import orjson
import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from controlroom.auth import service
from controlroom.auth.deps import Admin, Dashboard, HostByLink, HostScreen, Messenger, Now, SignedIn, StreamHealth, Svc
from controlroom.auth.permissions import Role
from controlroom.auth.revocation import announce, host_links_changed
from controlroom.auth.service import Principal
from controlroom.audit.service import record
from controlroom.bus import keys
from controlroom.bus.client import known_rooms
from controlroom.db.health import database_unavailable
from controlroom.db.session import run_in_transaction
from controlroom.live.archive import archived_series
from controlroom.metrics.view import merge_series
from controlroom.rooms.service import InvalidRoomSlug, get_or_create_room, room_by_slug
from controlroom.screens.panels import CONTROL_ROOM, HOST, TECH, unplaced_panels
from controlroom.services import Services
from controlroom.shows.models import Show
from controlroom.shows.schedule import current_show
from controlroom.web.answers import ROOM_API, json_object
from controlroom.web.pages import client_ip, render_page

router = APIRouter()
# Charts of a room without a started show reach back this far.
SHOW_CHART_SPAN = timedelta(hours=12)


def _not_found(request: Request, what: str) -> Response:
    return render_page(request, "pages/not_found.html", status_code=404, what=what)


@router.get("/", include_in_schema=False)
async def index(principal: SignedIn) -> Response:
    # A host has one screen; everyone else starts from their rooms.
    return RedirectResponse("/host" if principal.role == Role.HOST else "/rooms", status_code=303)


# --- rooms ---------------------------------------------------------------------------------


@router.get("/rooms", response_class=HTMLResponse, include_in_schema=False)
async def rooms_page(request: Request, services: Svc, principal: Dashboard) -> Response:
    return render_page(request, "pages/rooms.html", rooms=await _visible_rooms(services, principal), error=None)


async def _visible_rooms(services: Services, principal: Principal) -> list[dict]:
    """Every room this user may see, with its headline numbers: an agency watches many."""
    rooms = []
    for slug in await known_rooms(services.redis):
        if principal.can_see_room(slug):
            view = await services.room_view(slug)
            rooms.append({"slug": slug, "name": await services.bus.room_name(slug) or slug, "v": view})
    return rooms


@router.post("/rooms", include_in_schema=False)
async def add_room(
    request: Request, services: Svc, principal: Admin, now: Now,
    slug: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
) -> Response:
    slug, name = slug.strip(), name.strip()

    def create(session: Session) -> None:
        room = get_or_create_room(session, slug=slug, name=name or slug, timezone=services.settings.timezone)
        record(session, actor=principal.name, user_id=principal.user_id, action="room.add", now=now, room=room,
               ip=client_ip(request), detail={"name": room.name})

    try:
        await run_in_transaction(services.sessions, create)
    except InvalidRoomSlug as error:
        rooms = await _visible_rooms(services, principal)
        return render_page(request, "pages/rooms.html", status_code=422, rooms=rooms, error=str(error))
    await services.projections.republish_room(slug)
    return RedirectResponse(f"/rooms/{slug}", status_code=303)


@router.get("/rooms/{room}", response_class=HTMLResponse, include_in_schema=False)
async def room_page(room: str, request: Request, services: Svc, principal: Dashboard, now: Now) -> Response:
    name = await services.bus.room_name(room)
    if name is None:
        return _not_found(request, room)
    view = await services.room_view(room)

    def show_minutes(session: Session) -> dict[str, list]:
        """The current show's archived minutes (the last 12 hours when it has none)."""
        show = current_show(session, room, now)
        since = show.planned_start if show is not None and show.planned_start <= now else now - SHOW_CHART_SPAN
        return archived_series(session, room_slug=room, since=since)

    try:
        archived = await run_in_transaction(services.sessions, show_minutes)
    except Exception as exc:
        if not database_unavailable(exc):
            raise
        services.database.failed(exc)
        archived = {"x": []}  # SQL is away: the charts show what Redis holds, the rest comes back with SQL
    view.series = merge_series(archived, view.series)
    return render_page(request, "pages/room.html", room=room, room_name=name, v=view, oob=False,
                       more_panels=unplaced_panels(CONTROL_ROOM))


@router.get("/rooms/{room}/tech", response_class=HTMLResponse, include_in_schema=False)
async def tech_screen(room: str, request: Request, services: Svc, principal: StreamHealth) -> Response:
    """The tech desk: the stream's health and the alerts, escalations loudest."""
    name = await services.bus.room_name(room)
    if name is None or not principal.can_see_room(room):
        return _not_found(request, room)
    view = await services.room_view(room)
    dead = await services.redis.xlen(keys.dead_letters(room))
    return render_page(request, "pages/tech.html", room=room, room_name=name, v=view, oob=False, dead_letters=dead,
                       more_panels=unplaced_panels(TECH))


@router.get("/api/rooms/{room}/state", tags=["rooms"], summary="The room's live numbers, as the screens show them",
            responses={**json_object("The room's live view: numbers, and each projection by name"), **ROOM_API})
async def room_state(room: str, services: Svc, principal: Dashboard) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    return Response(orjson.dumps(await services.room_view(room)), media_type="application/json")


# --- the host screen and its link ----------------------------------------------------------


@router.get("/host", include_in_schema=False)
async def host_home(request: Request, services: Svc, principal: HostScreen, now: Now) -> Response:
    """A host who signed in with a password: the current show of their room."""
    slugs = sorted(principal.room_slugs or [])
    context = await run_in_transaction(
        services.sessions,
        lambda s: next(({"show_title": sh.title, "room_name": sh.room.name, "room": slug}
                        for slug in slugs if (sh := current_show(s, slug, now))), None),
    )
    if context is None:
        return _not_found(request, "show")
    return render_page(request, "pages/host.html", ws_path=f"/ws/rooms/{context['room']}/host",
                       ack_base="/host/messages", more_panels=unplaced_panels(HOST), **context)


@router.get("/host/{token}", include_in_schema=False)
async def host_screen(request: Request, token: str, services: Svc, principal: HostByLink, now: Now) -> Response:
    """The host screen from its link: the room's current show, whichever show the link
    was made for (the title and the rehearsal badge then follow the pushes)."""
    def context(session: Session) -> dict[str, Any]:
        room = next(iter(principal.room_slugs or []))
        show = current_show(session, room, now) or session.get(Show, principal.show_id)
        return {"show_title": show.title, "room_name": show.room.name, "room": show.room.slug}

    try:
        shown = await run_in_transaction(services.sessions, context)
    except Exception as exc:
        if not database_unavailable(exc) or not principal.room_slugs:
            raise
        # SQL is away: the link was confirmed lately, and the show's title is in Redis.
        room = next(iter(principal.room_slugs))
        view = await services.room_view(room)
        shown = {"show_title": (view.show or {}).get("title", ""), "room_name": await services.bus.room_name(room) or room,
                 "room": room}
    return render_page(request, "pages/host.html", ws_path=f"/ws/host/{token}", ack_base=f"/host/{token}/messages",
                       more_panels=unplaced_panels(HOST), **shown)


def _qr_data_uri(url: str) -> str:
    # A data: URI image, so the CSP needs no exception (img-src allows data:).
    return segno.make(url, error="m").svg_data_uri(scale=6, dark="#000", light="#fff")


def _public_base(request: Request, services: Services) -> str:
    """How other devices reach this server: CONTROLROOM_PUBLIC_URL when set (a tablet on
    the same network cannot open the 127.0.0.1 the controller's browser used)."""
    return (services.settings.public_url or str(request.base_url)).rstrip("/")


@router.get("/rooms/{room}/host-link", include_in_schema=False)
async def host_link_page(request: Request, room: str, services: Svc, principal: Messenger, now: Now) -> Response:
    def load(session: Session) -> dict[str, Any] | None:
        found = room_by_slug(session, room)
        if found is None:
            return None
        show = current_show(session, room, now)
        # The link that works now: the room's, whichever show it was made for.
        link = service.current_host_link(session, room=found)
        url = (_public_base(request, services) + "/host/" + services.signer.host_link_token(link.id, link.nonce)
               if link else None)
        return {"room": room, "room_name": found.name, "show": show, "link": link, "url": url,
                "link_show_title": link.show.title if link else None,
                "qr": _qr_data_uri(url) if url else None}

    context = await run_in_transaction(services.sessions, load)
    if context is None:
        return _not_found(request, room)
    return render_page(request, "pages/host_link.html", **context)


@router.post("/rooms/{room}/host-link", include_in_schema=False)
async def rotate_host_link(request: Request, room: str, services: Svc, principal: Messenger, now: Now,
                           action: Annotated[str, Form()] = "create") -> Response:
    if action not in ("create", "revoke"):
        return render_page(request, "pages/forbidden.html", status_code=422, message=f"unknown action {action[:40]!r}")

    def change(session: Session) -> bool:
        show = current_show(session, room, now)
        if show is None:
            return False
        if action == "revoke":
            service.revoke_host_links(session, room=show.room, now=now)
        else:
            service.create_host_link(session, show=show, created_by=principal.name, now=now)
        record(session, actor=principal.name, user_id=principal.user_id, action=f"host_link.{action}",
               now=now, room=show.room, ip=client_ip(request), detail={"show": show.title})
        return True

    if not await run_in_transaction(services.sessions, change):
        return _not_found(request, room)
    # Every earlier link of the room stops working: tablets still open on one go dark now.
    await announce(services.redis, host_links_changed(room))
    return RedirectResponse(f"/rooms/{room}/host-link", status_code=303)
