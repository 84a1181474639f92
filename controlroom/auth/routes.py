"""Login and logout, and the admin pages (users, audit log, ingest keys). Thin: parse
the form, call the service, audit, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.auth import service
from controlroom.auth.deps import Admin, Now, PathNumber, SESSION_COOKIE, SignedIn, Svc
from controlroom.auth.permissions import ROLE_NAMES_ZH, Role
from controlroom.auth.projection import ROOM
from controlroom.auth.ratelimit import LoginLimiter
from controlroom.auth.revocation import announce, session_ended, user_changed
from controlroom.auth.service import AccountError
from controlroom.db.session import run_in_transaction
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.web.pages import client_ip, render_page

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


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
    services: Svc, now: Now,
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

    def attempt(session: Session) -> str | None:
        user = service.authenticate(session, username=username, password=password)
        if user is None:
            record(session, actor=username[:100] or "(empty)", action="login.failed", now=now, ip=ip)
            return None
        token = service.start_session(
            session, user=user, now=now, ttl=timedelta(hours=services.settings.session_hours),
            ip=ip, user_agent=request.headers.get("user-agent", ""),
        )
        record(session, actor=user.username, user_id=user.id, action="login", now=now, ip=ip)
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
async def logout(request: Request, services: Svc, now: Now, principal: SignedIn) -> Response:
    def end(session: Session) -> None:
        if principal.session_id is not None:
            service.end_session(session, session_id=principal.session_id, now=now)
        record(session, actor=principal.name, user_id=principal.user_id, action="logout", now=now,
                       ip=client_ip(request))

    await _in_transaction(services, end)
    if principal.session_id is not None:
        await announce(services.redis, session_ended(principal.session_id))
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
    services: Svc, now: Now,
    principal: Admin,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    rooms: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
) -> Response:
    def add(session: Session) -> None:
        user = service.create_user(
            session, username=username.strip(), password=password, role=role,
            display_name=display_name.strip(), room_slugs=rooms,
        )
        record(session, actor=principal.name, user_id=principal.user_id, action="user.add", now=now,
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
    services: Svc, now: Now,
    principal: Admin,
    user_id: PathNumber,
    role: Annotated[str, Form()] = "",
    rooms: Annotated[list[str], Form()] = [],  # noqa: B006
    disabled: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    revoke_sessions: Annotated[str, Form()] = "",
) -> Response:
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
            record(session, actor=principal.name, user_id=principal.user_id, action="user.update", now=now,
                           ip=client_ip(request), detail={"username": user.username, **changes})

    try:
        await _in_transaction(services, change)
    except AccountError as error:
        return await _users_page_with_error(request, services, error)
    await announce(services.redis, user_changed(user_id))
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
    request: Request, room: str, services: Svc, now: Now, principal: Admin, name: Annotated[str, Form()] = ""
) -> Response:
    def create(session: Session):
        found = room_by_slug(session, room)
        if found is None:
            return None
        try:
            row, key = service.create_api_key(session, room=found, name=name, created_by=principal.name)
        except AccountError as exc:
            return found.name, None, exc, service.room_api_keys(session, room=found)
        record(session, actor=principal.name, user_id=principal.user_id, action="api_key.create", now=now,
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
async def revoke_api_key(request: Request, room: str, key_id: PathNumber, services: Svc, now: Now, principal: Admin) -> Response:
    def revoke(session: Session) -> bool:
        found = room_by_slug(session, room)
        row = service.revoke_api_key(session, room=found, key_id=key_id, now=now) if found else None
        if row is None:
            return False
        record(session, actor=principal.name, user_id=principal.user_id, action="api_key.revoke", now=now,
                       room=found, ip=client_ip(request), detail={"name": row.name, "prefix": row.prefix})
        return True

    if not await _in_transaction(services, revoke):
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} / {key_id}")
    await _publish_keys(services, room)
    return RedirectResponse(f"/rooms/{room}/api-keys", status_code=303)


async def _publish_keys(services: Services, room: str) -> None:
    await services.projections.publish(room, ROOM.name)
