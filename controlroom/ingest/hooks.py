"""Platform pushes: Douyin live-room data (`POST /hooks/douyin`) and Douyin shop orders
(`POST /hooks/doudian`). The adapter verifies the signature with the secret of the
room the push is bound to and translates it into canonical events, which go into the
room's stream like any other (same dedup, same dead letters, same backpressure).

Answered from Redis alone, well inside the platform's 2-second limit. A push for a
platform room bound to none of ours is answered 2xx when its signature is one of ours,
and kept aside for tech staff (`/feeds/unbound`), never dropped.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from controlroom.auth.deps import Admin, StreamHealth, Svc
from controlroom.bus import keys
from controlroom.bus.client import BacklogFull, UnknownRoom
from controlroom.db.session import run_in_transaction
from controlroom.live.changes import audited_room_change
from controlroom.ingest.adapters import doudian, douyin  # noqa: F401 - each registers its adapter
from controlroom.ingest.adapters.base import (
    ADAPTERS,
    PushRejected,
    SignatureRejected,
    Translated,
)
from controlroom.ingest.api import RETRY_AFTER_S, BodyError, _read_limited
from controlroom.ingest.bindings import (
    BINDINGS,
    PLATFORMS,
    BindingError,
    bind,
    masked,
    room_bindings,
    unbind,
)
from controlroom.ingest.parse import MAX_FUTURE_MS
from controlroom.observability import EVENTS_DUPLICATE, EVENTS_INGESTED, EVENTS_REJECTED
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.web.pages import client_ip, render_page

router = APIRouter()
UNBOUND_MAXLEN = 10_000
MAX_PUSH_BYTES = 2 * 1024 * 1024


def _unauthorized(message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=401)


async def _receive(platform: str, request: Request, services: Services) -> tuple[Translated | None, str | None]:
    """The verified push's (translation, room); (None, None) when it was kept aside for
    an unbound room. Refusals are raised as _Refused with their response."""
    adapter = ADAPTERS[platform]
    body = await _read_limited(request, MAX_PUSH_BYTES)
    headers = {name.lower(): value for name, value in request.headers.items()}
    try:
        translated = adapter.translate(headers, body, now_ms=services.clock.now_ms())
    except PushRejected as error:
        # Not the platform's format: still verify first, so strangers learn nothing.
        translated, rejection = None, str(error)
    else:
        rejection = None
    external = translated.external_room if translated else headers.get("x-roomid")
    raw_binding = await services.redis.hget(keys.bindings(platform), external) if external else None
    now_s = services.clock.now_ms() / 1000
    if raw_binding is not None:
        binding = orjson.loads(raw_binding)
        try:
            adapter.verify(headers, body, binding["secret"], now_s=now_s)
        except SignatureRejected as error:
            raise _Refused(_unauthorized(str(error))) from None
        if rejection:
            raise _Refused(JSONResponse({"detail": rejection}, status_code=400))
        return translated, binding["room"]
    # Bound to none of our rooms: keep it if it is signed with one of our secrets.
    secrets = {orjson.loads(v)["secret"] for v in (await services.redis.hvals(keys.bindings(platform)))}
    problems = []
    for secret in secrets:
        try:
            adapter.verify(headers, body, secret, now_s=now_s)
        except SignatureRejected as error:
            problems.append(str(error))
            continue
        await services.redis.xadd(keys.unbound(platform), {
            "external": external or "", "headers": orjson.dumps(headers), "body": body,
            "reason": rejection or f"{platform} room {external!r} is bound to no room here",
        }, maxlen=UNBOUND_MAXLEN, approximate=True)
        return None, None
    raise _Refused(_unauthorized(problems[0] if problems else f"no {platform} binding: nothing can verify this push"))


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


async def _store(services: Services, room: str, translated: Translated) -> Response | None:
    """Into the room's stream; a response only when it could not be stored."""
    # The same rule as the generic API: a clock far ahead would freeze the screens.
    limit = services.clock.now_ms() + MAX_FUTURE_MS
    future = [e for e in translated.events if e["ts"] > limit]
    events = [(event["id"], orjson.dumps(event)) for event in translated.events if event["ts"] <= limit]
    dead = [(raw.encode() if isinstance(raw, str) else raw, reason.encode()) for raw, reason in translated.rejected]
    dead += [(orjson.dumps(e), f"ts {e['ts']} is more than 5 minutes in the future".encode()) for e in future]
    try:
        outcome = await services.bus.ingest(room, events, dead, key_hash=keys.PUSH_KEY)
    except BacklogFull:
        return JSONResponse({"detail": f"room {room!r} is behind; retry"}, status_code=503,
                            headers={"Retry-After": RETRY_AFTER_S})
    except UnknownRoom:
        return JSONResponse({"detail": "the bound room is gone"}, status_code=503, headers={"Retry-After": RETRY_AFTER_S})
    EVENTS_INGESTED.labels(room=room).inc(outcome.accepted)
    EVENTS_DUPLICATE.labels(room=room).inc(len(outcome.duplicate_indexes))
    EVENTS_REJECTED.labels(room=room).inc(len(dead))
    return None


async def _handle(platform: str, request: Request, services: Services, success: Response) -> Response:
    try:
        translated, room = await _receive(platform, request, services)
    except _Refused as refused:
        return refused.response
    except BodyError as error:
        return JSONResponse({"detail": error.message}, status_code=error.status)
    if translated is not None and room is not None:
        failed = await _store(services, room, translated)
        if failed is not None:
            return failed
    return success


@router.post("/hooks/douyin", tags=["platform pushes"], summary="Douyin live-room data push")
async def douyin_push(request: Request, services: Svc) -> Response:
    return await _handle("douyin", request, services, JSONResponse({"err_no": 0, "err_msg": "success"}))


@router.post("/hooks/doudian", tags=["platform pushes"], summary="Douyin shop (抖店) order push")
async def doudian_push(request: Request, services: Svc) -> Response:
    return await _handle("doudian", request, services,
                         Response(b'{"code":0,"msg":"success"}', media_type="application/json"))


# --- bindings (room settings) and what arrived unbound ----------------------------------------

@router.get("/rooms/{room}/bindings", response_class=HTMLResponse, include_in_schema=False)
async def bindings_page(room: str, request: Request, services: Svc, principal: Admin) -> Response:
    return await _bindings_page(request, services, room)


async def _bindings_page(request: Request, services: Services, room: str, *, error: str | None = None,
                         status_code: int = 200) -> Response:
    def read(session: Session):
        room_row = room_by_slug(session, room)
        if room_row is None:
            return None
        return room_row.name, [(b.id, b.platform, b.external_id, masked(b.secret), b.created_by)
                               for b in room_bindings(session, room_row)]

    data = await run_in_transaction(services.sessions, read)
    if data is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    name, rows = data
    base = str(request.base_url).rstrip("/")
    return render_page(request, "pages/bindings.html", status_code=status_code, room=room, room_name=name,
                       bindings=rows, platforms=PLATFORMS, error=error, hook_urls={p: f"{base}/hooks/{p}" for p in PLATFORMS})


@router.post("/rooms/{room}/bindings", include_in_schema=False)
async def add_binding(room: str, request: Request, services: Svc, principal: Admin,
                      platform: Annotated[str, Form()] = "", external_id: Annotated[str, Form()] = "",
                      secret: Annotated[str, Form()] = "") -> Response:
    def change(session: Session, room_row: Room) -> dict:
        binding = bind(session, room=room_row, platform=platform, external_id=external_id, secret=secret,
                       by=principal.name)
        return {"platform": binding.platform, "external_id": binding.external_id, "secret": masked(binding.secret)}

    try:
        await audited_room_change(services.projections, principal, room=room, action="binding.set", change=change,
                                  client_ip=client_ip(request), now=services.now())
    except BindingError as error:
        return await _bindings_page(request, services, room, error=str(error), status_code=422)
    except LookupError:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    await services.projections.publish(None, BINDINGS.name)
    return RedirectResponse(f"/rooms/{room}/bindings", status_code=303)


@router.post("/rooms/{room}/bindings/{binding_id}/delete", include_in_schema=False)
async def remove_binding(room: str, binding_id: int, request: Request, services: Svc, principal: Admin) -> Response:
    def change(session: Session, room_row: Room) -> dict:
        binding = unbind(session, room=room_row, binding_id=binding_id)
        return {"platform": binding.platform, "external_id": binding.external_id}

    try:
        await audited_room_change(services.projections, principal, room=room, action="binding.remove",
                                  change=change, client_ip=client_ip(request), now=services.now())
    except LookupError as error:
        return render_page(request, "pages/not_found.html", status_code=404, what=str(error))
    await services.projections.publish(None, BINDINGS.name)
    return RedirectResponse(f"/rooms/{room}/bindings", status_code=303)


@router.get("/feeds/unbound", response_class=HTMLResponse, include_in_schema=False)
async def unbound_page(request: Request, services: Svc, principal: StreamHealth) -> Response:
    """Pushes for platform rooms bound to none of ours: kept so tech staff can bind the
    room (and replay them) instead of losing them."""
    entries = []
    for platform in PLATFORMS:
        for entry_id, fields in await services.redis.xrevrange(keys.unbound(platform), count=200):
            entries.append({
                "platform": platform, "at": int(entry_id.decode().split("-")[0]),
                "external": fields.get(b"external", b"").decode(), "reason": fields.get(b"reason", b"").decode(),
                "body": fields.get(b"body", b"").decode(errors="replace")[:500],
            })
    entries.sort(key=lambda e: -e["at"])
    return render_page(request, "pages/unbound.html", entries=entries)
