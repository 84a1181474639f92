"""Authentication and authorization at the edge: FastAPI dependencies for HTTP routes
and websockets. Every route declares what it needs with `Requires(...)`; the
permission-matrix test walks the app's routes and fails on any route that declares
nothing and is not in OPEN_PATHS.

Order matters: who is asking is settled before anything about the room, so an
anonymous request learns nothing, not even whether a room exists.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request, WebSocket, WebSocketException
from starlette.status import WS_1008_POLICY_VIOLATION

from controlroom.auth.permissions import Permission
from controlroom.auth.secrets import token_hash
from controlroom.auth.service import Principal, principal_for_host_link, principal_for_session
from controlroom.db.session import transaction
from controlroom.i18n.refusal import Refusal
from controlroom.services import Services, get_services

SESSION_COOKIE = "cr_session"


class NotAuthenticated(Exception):
    """401: no valid session (or host link)."""


class Forbidden(Refusal):
    """403: signed in, but this role or this room is not theirs (said in the reader's
    language by the app's handler)."""


def _principal_from_cookie(services: Services, cookie: str | None) -> Principal | None:
    token = services.signer.session_token(cookie) if cookie else None
    if token is None:
        return None

    def read() -> Principal | None:
        with transaction(services.sessions) as session:
            return principal_for_session(session, token=token, now=services.now())

    return services.principals.look_up(f"session:{token_hash(token)}", read)


def _principal_from_host_link(services: Services, token: str) -> Principal | None:
    def read() -> Principal | None:
        with transaction(services.sessions) as session:
            return principal_for_host_link(session, token=token, signer=services.signer)

    return services.principals.look_up(f"link:{token_hash(token)}", read)


def authorize(principal: Principal | None, permission: Permission | None, room: str | None) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    if permission is not None and not principal.allows(permission):
        raise Forbidden("The %(role)s role may not do this (%(permission)s)", role=principal.role.value,
                        permission=permission.value)
    if room is not None and not principal.can_see_room(room):
        # The same answer whether or not the room exists.
        raise Forbidden("You have no access to room %(room)s", room=room)
    return principal


class Requires:
    """`Depends(Requires(Permission.X))`: a signed-in user whose role has X, and, when
    the path names a {room}, who belongs to it. `Requires(None)`: any signed-in user."""

    def __init__(self, permission: Permission | None) -> None:
        self.permission = permission

    async def __call__(self, request: Request) -> Principal:
        services: Services = request.app.state.services
        principal = await asyncio.to_thread(_principal_from_cookie, services, request.cookies.get(SESSION_COOKIE))
        request.state.principal = principal
        return authorize(principal, self.permission, request.path_params.get("room"))


def same_origin(websocket: WebSocket) -> bool:
    """Browsers send cookies with a websocket opened by any site: refuse pages of other
    origins (cross-site websocket hijacking). Non-browser clients send no Origin."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


async def refuse_websocket(websocket: WebSocket, reason: str) -> WebSocketException:
    """Accept, so that the client sees a close frame with 1008 (policy violation) and the
    reason, rather than a bare failed handshake; the caller raises what this returns."""
    await websocket.accept()
    return WebSocketException(WS_1008_POLICY_VIOLATION, reason)


class WsRequires(Requires):
    """The same for a websocket: refused with close code 1008 (policy violation)."""

    async def __call__(self, websocket: WebSocket) -> Principal:  # type: ignore[override]
        if not same_origin(websocket):
            raise await refuse_websocket(websocket, "cross-origin websocket refused")
        services: Services = websocket.app.state.services
        principal = await asyncio.to_thread(_principal_from_cookie, services, websocket.cookies.get(SESSION_COOKIE))
        try:
            return authorize(principal, self.permission, websocket.path_params.get("room"))
        except NotAuthenticated:
            raise await refuse_websocket(websocket, "login required") from None
        except Forbidden as exc:
            raise await refuse_websocket(websocket, str(exc)) from None


class RequiresHostLink:
    """The host screen opened from its secret link: read-only, one show."""

    permission = Permission.VIEW_HOST_SCREEN

    async def __call__(self, request: Request) -> Principal:
        services: Services = request.app.state.services
        principal = await asyncio.to_thread(_principal_from_host_link, services, request.path_params["token"])
        if principal is None:
            raise NotAuthenticated()
        # The page lists what this screen may do (body[data-can]): its 收到 buttons show.
        request.state.principal = principal
        return principal


class WsRequiresHostLink(RequiresHostLink):
    async def __call__(self, websocket: WebSocket) -> Principal:  # type: ignore[override]
        services: Services = websocket.app.state.services
        principal = await asyncio.to_thread(_principal_from_host_link, services, websocket.path_params["token"])
        if principal is None:
            raise await refuse_websocket(websocket, "this host link is not valid (revoked or replaced)")
        return principal


class IngestKeyRejected(Exception):
    """401 for a feed: no key, or not one of this room's."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def sent_api_key(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if not key:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        key = value.strip() if scheme.lower() == "bearer" else None
    return key or None


class RequiresIngestKey:
    """A feed posting events: the room's ingest key, not a login. Returns the key's hash,
    which the ingest script checks again atomically with the write."""

    permission = None

    async def __call__(self, request: Request) -> str:
        services: Services = request.app.state.services
        room = request.path_params["room"]
        key = sent_api_key(request)
        if key is None:
            raise IngestKeyRejected("missing API key: send the room's ingest key in the X-Api-Key header")
        key_hash = token_hash(key)
        if not await services.bus.key_is_valid(room, key_hash):
            raise IngestKeyRejected(invalid_key_message(room))
        return key_hash


class WsRequiresIngestKey(RequiresIngestKey):
    """The ingest websocket: the key in X-Api-Key (or ?key= for clients that cannot set
    headers). Refused with close code 1008, like every websocket."""

    async def __call__(self, websocket: WebSocket) -> str:  # type: ignore[override]
        services: Services = websocket.app.state.services
        room = websocket.path_params["room"]
        key = websocket.headers.get("x-api-key") or websocket.query_params.get("key")
        if not key:
            raise await refuse_websocket(websocket, "missing API key")
        key_hash = token_hash(key)
        if not await services.bus.key_is_valid(room, key_hash):
            raise await refuse_websocket(websocket, invalid_key_message(room))
        return key_hash


def invalid_key_message(room: str) -> str:
    return f"the API key is not valid for room {room!r} (wrong, revoked, or for another room)"


# --- what every route's signature starts with ---------------------------------------------


def _now(request: Request) -> datetime:
    return get_services(request).now()


Svc = Annotated[Services, Depends(get_services)]
# A whole number in a path (a row id, a segment or step number): ids are 32-bit in the
# database, so a larger number is a 422 that says so, not a database error.
PathNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
# The injected clock's time: routes never read the wall clock, so a fake clock drives them.
Now = Annotated[datetime, Depends(_now)]
SignedIn = Annotated[Principal, Depends(Requires(None))]
Admin = Annotated[Principal, Depends(Requires(Permission.ADMINISTER))]
Dashboard = Annotated[Principal, Depends(Requires(Permission.VIEW_DASHBOARD))]
StreamHealth = Annotated[Principal, Depends(Requires(Permission.VIEW_STREAM_HEALTH))]
Driver = Annotated[Principal, Depends(Requires(Permission.DRIVE_SHOW))]
Messenger = Annotated[Principal, Depends(Requires(Permission.MESSAGE_HOST))]
HostScreen = Annotated[Principal, Depends(Requires(Permission.VIEW_HOST_SCREEN))]
HostAck = Annotated[Principal, Depends(Requires(Permission.ACK_HOST_MESSAGES))]
HostByLink = Annotated[Principal, Depends(RequiresHostLink())]
CanAck = Annotated[Principal, Depends(Requires(Permission.ACK_ALERTS))]
CanManage = Annotated[Principal, Depends(Requires(Permission.MANAGE_ALERTS))]
Starter = Annotated[Principal, Depends(Requires(Permission.START_PLAYBOOKS))]
Runner = Annotated[Principal, Depends(Requires(Permission.RUN_PLAYBOOKS))]
Editor = Annotated[Principal, Depends(Requires(Permission.EDIT_LEXICON))]
Reviewer = Annotated[Principal, Depends(Requires(Permission.VIEW_REVIEWS))]
Exporter = Annotated[Principal, Depends(Requires(Permission.EXPORT_AUDIENCE))]
