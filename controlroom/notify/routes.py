"""The notifications page: admins set up each room's chat robots and webhooks (the
address and secret are never shown again in full) and send a test message; admins and
tech staff read each channel's delivery log."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from controlroom.audit.service import record
from controlroom.auth.deps import Admin, PathNumber, StreamHealth, Svc
from controlroom.db.session import run_in_transaction
from controlroom.notify.dispatcher import channels_of, log_delivery, send
from controlroom.notify.models import EVENTS, LEVELS
from controlroom.notify.robots import KIND_NAMES, KINDS
from controlroom.notify.secrets import Sealer
from controlroom.notify.service import ChannelRefused, channels_page, create_channel, delete_channel, set_enabled
from controlroom.rooms.models import Room
from controlroom.services import Services
from controlroom.web.pages import client_ip, refusal_text, render_page, request_locale

router = APIRouter()


async def _page(request: Request, services: Services, *, error: str | None = None, status_code: int = 200,
                form: dict | None = None) -> Response:
    principal = request.state.principal

    def read(session) -> dict:
        rooms = session.query(Room.slug, Room.name).order_by(Room.name).all()
        visible = [(slug, name) for slug, name in rooms if principal.can_see_room(slug)]
        return {"channels": channels_page(session, room_slugs=principal.room_slugs), "rooms": visible}

    data = await run_in_transaction(services.sessions, read)
    return render_page(request, "pages/notifications.html", status_code=status_code, error=error, form=form or {},
                       kinds=[(kind, KIND_NAMES[kind]) for kind in KINDS], levels=LEVELS, events=EVENTS, **data)


@router.get("/notifications", response_class=HTMLResponse, include_in_schema=False)
async def notifications(request: Request, services: Svc, principal: StreamHealth) -> Response:
    return await _page(request, services)


@router.post("/notifications", include_in_schema=False)
async def add_channel(
    request: Request, services: Svc, principal: Admin, room: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "", url: Annotated[str, Form()] = "",
    secret: Annotated[str, Form()] = "", levels: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI's form list
    events: Annotated[list[str], Form()] = [],  # noqa: B006
) -> Response:
    sealer = Sealer(services.settings.secret_key)

    def work(session) -> None:
        channel = create_channel(session, sealer, room=room, kind=kind, name=name, url=url, secret=secret,
                                 levels=levels, events=events, by=principal.name, now=services.now())
        record(session, actor=principal.name, user_id=principal.user_id, action="notify.channel_added",
               now=services.now(), room=None, ip=client_ip(request),
               detail={"channel": channel.id, "room": room, "kind": kind, "name": channel.name})

    try:
        await run_in_transaction(services.sessions, work)
        _reload(services)
    except ChannelRefused as refusal:
        return await _page(request, services, error=refusal_text(request, services, refusal), status_code=422,
                           form={"room": room, "kind": kind, "name": name, "levels": levels, "events": events})
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{channel_id}/{action}", include_in_schema=False)
async def change_channel(channel_id: PathNumber, action: str, request: Request, services: Svc,
                         principal: Admin) -> Response:
    if action == "test":
        return await _test(channel_id, request, services)
    if action not in ("enable", "disable", "delete"):
        return PlainTextResponse(f"action: enable, disable, delete or test, not {action[:20]!r}", status_code=404)

    def work(session) -> None:
        if action == "delete":
            delete_channel(session, channel_id)
        else:
            set_enabled(session, channel_id, action == "enable")
        record(session, actor=principal.name, user_id=principal.user_id, action=f"notify.channel_{action}",
               now=services.now(), room=None, ip=client_ip(request), detail={"channel": channel_id})

    try:
        await run_in_transaction(services.sessions, work)
    except LookupError as error:
        return PlainTextResponse(str(error), status_code=404)
    _reload(services)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Refresh": "true"})
    return RedirectResponse("/notifications", status_code=303)


def _reload(services: Services) -> None:
    """This process's dispatcher reads the channels again at once (the others within
    their next refresh)."""
    if services.notifier is not None:
        services.notifier.reload_channels()


async def _test(channel_id: int, request: Request, services: Services) -> Response:
    """A test message to the channel now, logged like any delivery; the answer says how
    the platform took it."""
    sealer = Sealer(services.settings.secret_key)
    channels = await run_in_transaction(services.sessions, lambda s: channels_of(s, sealer))
    channel = next((c for c in channels if c["id"] == channel_id), None)
    if channel is None:
        return PlainTextResponse(f"no channel {channel_id}", status_code=404)
    notice = {"room": channel["room"], "event": "test", "level": "blue", "name": channel["name"],
              "name_en": channel["name"], "rule": "test"}
    now = services.now()
    async with httpx.AsyncClient() as http:
        ok, title, detail = await send(http, channel, [notice], link=lambda _notice: "", now_ms=services.clock.now_ms(),
                                       locale=request_locale(request, services))
    await run_in_transaction(services.sessions, lambda s: log_delivery(
        s, channel_id=channel_id, status="sent" if ok else "failed", attempt=1, notices=1, title=title, detail=detail,
        now=now))
    if not ok:
        refused = ChannelRefused("the platform did not take the test message: %(detail)s", detail=detail)
        return PlainTextResponse(refusal_text(request, services, refused), status_code=409)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse("/notifications", status_code=303)
