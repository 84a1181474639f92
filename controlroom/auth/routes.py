"""Login and logout, the admin pages (users, audit log, API keys), host links and the
host screen they open. Thin: parse the form, call the service, audit, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import segno
import structlog
from fastapi import APIRouter, Depends, Form, Request, WebSocket
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.auth import service
from controlroom.auth.deps import (
    SESSION_COOKIE,
    Requires,
    RequiresHostLink,
    WsRequiresHostLink,
)
from controlroom.auth.permissions import ROLE_NAMES_ZH, Permission, Role
from controlroom.auth.ratelimit import LoginLimiter
from controlroom.auth.service import AccountError, Principal
from controlroom.db.base import utcnow
from controlroom.db.session import run_in_transaction
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.rooms.projection import publish_rooms
from controlroom.rooms.service import room_by_slug
from controlroom.shows.schedule import current_show
from controlroom.services import Services, get_services
from controlroom.web.pages import client_ip, render_page
from controlroom.web.panels import HOST_SCREEN_PANELS
from controlroom.web.routes import stream_room

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)

Svc = Annotated[Services, Depends(get_services)]
Admin = Annotated[Principal, Depends(Requires(Permission.ADMINISTER))]
HostLinks = Annotated[Principal, Depends(Requires(Permission.MESSAGE_HOST))]
HostScreen = Annotated[Principal, Depends(Requires(Permission.VIEW_HOST_SCREEN))]
HostByLink = Annotated[Principal, Depends(RequiresHostLink())]


def _safe_next(value: str | None) -> str:
    # Only paths on this site: never an open redirect.
    if value and value.startswith("/") and not value.startswith("//"):
        return value
    return "/"


async def _in_transaction(services: Services, work) -> Any:
    return await run_in_transaction(services.sessions, work)


# --- login / logout ------------------------------------------------------------------------


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    return render_page(request, "pages/login.html", next=_safe_next(next), error=None, username="")


@router.post("/login")
async def login(
    request: Request,
    services: Svc,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    limiter = LoginLimiter(services.redis, attempts=services.settings.login_attempts,
                           window_s=services.settings.login_window_s)
    ip = client_ip(request)
    retry_after = await limiter.try_attempt(username=username, ip=ip)
    if retry_after:
        log.warning("login.rate_limited", username=username, ip=ip)
        return render_page(
            request, "pages/login.html", status_code=429, next=_safe_next(next), username=username,
            error=("too_many", retry_after),
        )
    now = utcnow()

    def attempt(session: Session) -> str | None:
        user = service.authenticate(session, username=username, password=password)
        if user is None:
            service.record(session, actor=username[:100] or "(empty)", action="login.failed", now=now, ip=ip)
            return None
        token = service.start_session(
            session, user=user, now=now, ttl=timedelta(hours=services.settings.session_hours),
            ip=ip, user_agent=request.headers.get("user-agent", ""),
        )
        service.record(session, actor=user.username, user_id=user.id, action="login", now=now, ip=ip)
        return token

    token = await _in_transaction(services, attempt)
    if token is None:
        log.warning("login.failed", username=username, ip=ip)
        return render_page(
            request, "pages/login.html", status_code=401, next=_safe_next(next), username=username,
            error=("wrong", 0),
        )
    await limiter.succeeded(username=username, ip=ip)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, services.signer.session_cookie(token), max_age=int(services.settings.session_hours * 3600),
        httponly=True, samesite="lax", secure=services.settings.secure_cookies, path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, services: Svc, principal: Annotated[Principal, Depends(Requires(None))]) -> Response:
    now = utcnow()

    def end(session: Session) -> None:
        if principal.session_id is not None:
            service.end_session(session, session_id=principal.session_id, now=now)
        service.record(session, actor=principal.name, user_id=principal.user_id, action="logout", now=now,
                       ip=client_ip(request))

    await _in_transaction(services, end)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- admin: users --------------------------------------------------------------------------


def _users_context(session: Session) -> dict[str, Any]:
    return {
        "users": service.all_users(session),
        "rooms": list(session.scalars(select(Room).order_by(Room.slug))),
        "roles": list(Role),
        "role_names": ROLE_NAMES_ZH,
    }


@router.get("/admin/users")
async def users_page(request: Request, services: Svc, principal: Admin) -> Response:
    context = await _in_transaction(services, _users_context)
    return render_page(request, "pages/admin_users.html", error=None, **context)


@router.post("/admin/users")
async def add_user(
    request: Request,
    services: Svc,
    principal: Admin,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    rooms: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    now = utcnow()

    def add(session: Session) -> None:
        user = service.create_user(
            session, username=username.strip(), password=password, role=role,
            display_name=display_name.strip(), room_slugs=rooms,
        )
        service.record(session, actor=principal.name, user_id=principal.user_id, action="user.add", now=now,
                       ip=client_ip(request), detail={"username": user.username, "role": role, "rooms": sorted(rooms)})

    try:
        await _in_transaction(services, add)
    except AccountError as error:
        return await _users_page_with_error(request, services, error)
    return RedirectResponse("/admin/users", status_code=303)


async def _users_page_with_error(request: Request, services: Services, error: AccountError) -> Response:
    # The failed change was rolled back as a whole: the page shows the state as it is.
    context = await _in_transaction(services, _users_context)
    return render_page(request, "pages/admin_users.html", status_code=422, error=error, **context)


@router.post("/admin/users/{user_id}")
async def update_user(
    request: Request,
    services: Svc,
    principal: Admin,
    user_id: int,
    role: Annotated[str, Form()] = "",
    rooms: Annotated[list[str], Form()] = [],  # noqa: B006
    disabled: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    revoke_sessions: Annotated[str, Form()] = "",
) -> Response:
    now = utcnow()

    def change(session: Session) -> None:
        user = service.get_user(session, user_id=user_id)
        if user is None:
            raise AccountError("user", f"no user with id {user_id}")
        changes = service.update_user(
            session, user=user, now=now, role=role or None, room_slugs=rooms,
            disabled=disabled == "on", password=password or None,
        )
        if revoke_sessions:
            changes["sessions_revoked"] = service.revoke_user_sessions(session, user_id=user.id, now=now)
        if changes:
            service.record(session, actor=principal.name, user_id=principal.user_id, action="user.update", now=now,
                           ip=client_ip(request), detail={"username": user.username, **changes})

    try:
        await _in_transaction(services, change)
    except AccountError as error:
        return await _users_page_with_error(request, services, error)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/audit")
async def audit_page(
    request: Request, services: Svc, principal: Admin, actor: str = "", room: str = "", action: str = ""
) -> Response:
    entries = await _in_transaction(
        services, lambda session: service.audit_entries(session, actor=actor, room_slug=room, action=action)
    )
    return render_page(request, "pages/admin_audit.html", entries=entries,
                       filters={"actor": actor, "room": room, "action": action})


# --- admin: ingest keys --------------------------------------------------------------------


@router.get("/rooms/{room}/api-keys")
async def api_keys_page(request: Request, room: str, services: Svc, principal: Admin) -> Response:
    def load(session: Session):
        found = room_by_slug(session, room)
        return (found.name, service.room_api_keys(session, room=found)) if found else None

    loaded = await _in_transaction(services, load)
    if loaded is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    room_name, api_keys = loaded
    return render_page(request, "pages/api_keys.html", room=room, room_name=room_name, api_keys=api_keys,
                       new_key=None, error=None)


@router.post("/rooms/{room}/api-keys")
async def create_api_key(
    request: Request, room: str, services: Svc, principal: Admin, name: Annotated[str, Form()] = ""
) -> Response:
    now = utcnow()

    def create(session: Session):
        found = room_by_slug(session, room)
        if found is None:
            return None
        try:
            row, key = service.create_api_key(session, room=found, name=name, created_by=principal.name)
        except AccountError as exc:
            return found.name, None, exc, service.room_api_keys(session, room=found)
        service.record(session, actor=principal.name, user_id=principal.user_id, action="api_key.create", now=now,
                       room=found, ip=client_ip(request), detail={"name": row.name, "prefix": row.prefix})
        return found.name, key, None, service.room_api_keys(session, room=found)

    created = await _in_transaction(services, create)
    if created is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    room_name, key, error, api_keys = created
    await _publish_keys(services, room)
    return render_page(request, "pages/api_keys.html", status_code=422 if error else 200, room=room,
                       room_name=room_name, api_keys=api_keys, new_key=key, error=error)


@router.post("/rooms/{room}/api-keys/{key_id}/revoke")
async def revoke_api_key(request: Request, room: str, key_id: int, services: Svc, principal: Admin) -> Response:
    now = utcnow()

    def revoke(session: Session) -> bool:
        found = room_by_slug(session, room)
        row = service.revoke_api_key(session, room=found, key_id=key_id, now=now) if found else None
        if row is None:
            return False
        service.record(session, actor=principal.name, user_id=principal.user_id, action="api_key.revoke", now=now,
                       room=found, ip=client_ip(request), detail={"name": row.name, "prefix": row.prefix})
        return True

    if not await _in_transaction(services, revoke):
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} / {key_id}")
    await _publish_keys(services, room)
    return RedirectResponse(f"/rooms/{room}/api-keys", status_code=303)


async def _publish_keys(services: Services, room: str) -> None:
    await publish_rooms(services.bus, services.sessions, only=room)


# --- host links and the host screen ------------------------------------------------------------


def _qr_data_uri(url: str) -> str:
    # A data: URI image, so the CSP needs no exception (img-src allows data:).
    return segno.make(url, error="m").svg_data_uri(scale=6, dark="#000", light="#fff")


def _host_link_context(request: Request, session: Session, room: str, signer) -> dict[str, Any] | None:
    found = room_by_slug(session, room)
    if found is None:
        return None
    show = current_show(session, room)
    link = service.current_host_link(session, show=show) if show else None
    url = str(request.base_url).rstrip("/") + "/host/" + signer.host_link_token(link.id, link.nonce) if link else None
    return {"room": room, "room_name": found.name, "show": show, "link": link, "url": url,
            "qr": _qr_data_uri(url) if url else None}


@router.get("/rooms/{room}/host-link")
async def host_link_page(request: Request, room: str, services: Svc, principal: HostLinks) -> Response:
    context = await _in_transaction(services, lambda s: _host_link_context(request, s, room, services.signer))
    if context is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    return render_page(request, "pages/host_link.html", **context)


@router.post("/rooms/{room}/host-link")
async def rotate_host_link(request: Request, room: str, services: Svc, principal: HostLinks,
                           action: Annotated[str, Form()] = "create") -> Response:
    if action not in ("create", "revoke"):
        return render_page(request, "pages/forbidden.html", status_code=422, message=f"unknown action {action[:40]!r}")
    now = utcnow()

    def change(session: Session) -> bool:
        show = current_show(session, room)
        if show is None:
            return False
        if action == "revoke":
            service.revoke_host_links(session, room=show.room, now=now)
        else:
            service.create_host_link(session, show=show, created_by=principal.name, now=now)
        service.record(session, actor=principal.name, user_id=principal.user_id, action=f"host_link.{action}",
                       now=now, room=show.room, ip=client_ip(request), detail={"show": show.title})
        return True

    if not await _in_transaction(services, change):
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    return RedirectResponse(f"/rooms/{room}/host-link", status_code=303)


def _host_screen_context(session: Session, show_id: int) -> dict[str, Any]:
    show = session.get(Show, show_id)
    return {"show_title": show.title, "room_name": show.room.name, "room": show.room.slug}


@router.get("/host")
async def host_home(request: Request, services: Svc, principal: HostScreen) -> Response:
    """A host who signed in with a password: the current show of their room."""
    slugs = sorted(principal.room_slugs or [])
    context = await _in_transaction(
        services, lambda s: next(({"show": sh, "room": slug} for slug in slugs if (sh := current_show(s, slug))), None)
    )
    if context is None:
        return render_page(request, "pages/not_found.html", status_code=404, what="show")
    return render_page(request, "pages/host.html", show_title=context["show"].title,
                       room_name=context["room"], room=context["room"], ws_path=f"/ws/rooms/{context['room']}/host",
                       ack_base="/host/messages")


@router.get("/host/{token}")
async def host_screen(request: Request, token: str, services: Svc, principal: HostByLink) -> Response:
    context = await _in_transaction(services, lambda s: _host_screen_context(s, principal.show_id))
    return render_page(request, "pages/host.html", ws_path=f"/ws/host/{token}", ack_base=f"/host/{token}/messages",
                       **context)


@router.websocket("/ws/host/{token}")
async def host_socket(
    websocket: WebSocket, token: str, principal: Annotated[Principal, Depends(WsRequiresHostLink())]
) -> None:
    """The host screen's live feed. It shows the room's numbers for now; the run-of-show
    and control messages join it with the cue engine."""
    await stream_room(websocket, next(iter(principal.room_slugs or [])), principal, panels=HOST_SCREEN_PANELS)
