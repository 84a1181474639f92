"""Platform pushes: Douyin live-room data (`POST /hooks/douyin`), Kuaishou live-room
interaction data (`POST /hooks/kuaishou`) and Douyin shop orders (`POST /hooks/doudian`).
The adapter verifies the signature with the secret of the room the push is bound to and
translates it into canonical events, which go into the room's stream like any other
(same dedup, same dead letters, same backpressure).

Answered from Redis alone, well inside the platform's 2-second limit. A push for a
platform room bound to none of ours is answered 2xx when its signature is one of ours,
and kept aside for tech staff (`/feeds/unbound`), never dropped.

Replays: every verified push that is about to be stored (or kept aside) is remembered
by its adapter's replay fingerprint (signature, nonce, time stamp) with SET NX EX for
the adapter's `replay_ttl_s` (a little longer than the window its time stamp is
accepted in), so checking and remembering are one atomic step. A byte-identical replay
inside that window is answered 2xx with `"replay": true` (the platform must not retry
it), stores nothing and is counted in `controlroom_push_replays_total`. A push that
could not be stored (503) is forgotten again, so the platform's retry goes through.
msg_id deduplication in the stream stays as it is (a resent push with a new signature).

Items the platform marks as test messages are not counted: they go to the room's dead
letters with "skipped: platform test message" and are listed in the reply's `skipped`.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from controlroom.auth.deps import Admin, PathNumber, StreamHealth, Svc
from controlroom.bus import keys
from controlroom.bus.client import BacklogFull, UnknownRoom
from controlroom.db.session import run_in_transaction
from controlroom.ingest.adapters import doudian, douyin, kuaishou  # noqa: F401 - each registers its adapter
from controlroom.ingest.adapters.base import (
    ADAPTERS,
    Adapter,
    PushRejected,
    SignatureRejected,
    Translated,
)
from controlroom.ingest.api import RETRY_AFTER_S, BodyError, _read_limited
from controlroom.ingest.bindings import (
    BINDING_FORMATS,
    BINDINGS,
    PLATFORMS,
    PUSHED_PLATFORMS,
    BindingError,
    bind,
    masked,
    room_bindings,
    unbind,
)
from controlroom.ingest.parse import MAX_FUTURE_MS
from controlroom.live.changes import audited_room_change
from controlroom.observability import (
    EVENTS_DUPLICATE,
    EVENTS_INGESTED,
    EVENTS_REJECTED,
    PUSH_ITEMS_SKIPPED,
    PUSH_REPLAYS,
)
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.web.answers import ErrorDetail
from controlroom.web.pages import client_ip, render_page

router = APIRouter()
UNBOUND_MAXLEN = 10_000
MAX_PUSH_BYTES = 2 * 1024 * 1024
REPLAY_DETAIL = "a byte-identical replay of a push already received within its time window: nothing stored"


def _unauthorized(message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=401)


@dataclass(frozen=True)
class _Push:
    # None when the push was kept aside for an unbound room (nothing more to store).
    translated: Translated | None
    room: str | None
    # The key remembering this push against replays (forgotten if it cannot be stored).
    seen_key: str


def _fingerprint(adapter: Adapter, headers: dict[str, str]) -> str:
    return hashlib.sha256(f"{adapter.platform}\n{adapter.replay_fingerprint(headers)}".encode()).hexdigest()


async def _remember(services: Services, adapter: Adapter, key: str) -> None:
    """Remember a verified push; raise _Replayed if it already was (atomic: SET NX EX)."""
    first = await services.redis.set(key, services.clock.now_ms(), nx=True, ex=adapter.replay_ttl_s)
    if not first:
        PUSH_REPLAYS.labels(platform=adapter.platform).inc()
        raise _Replayed()


async def _forget(services: Services, key: str) -> None:
    """Best effort: the push was not stored, so the platform's retry must get through."""
    with contextlib.suppress(RedisError):
        await services.redis.delete(key)


async def _receive(platform: str, request: Request, services: Services, body: bytes | None = None) -> _Push:
    """The verified push, remembered against replays. Refusals are raised as _Refused
    with their response, a replay as _Replayed. `body`: the push when the route read it."""
    adapter = ADAPTERS[platform]
    if body is None:
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
        seen = keys.push_seen(binding["room"], platform, _fingerprint(adapter, headers))
        await _remember(services, adapter, seen)
        return _Push(translated, binding["room"], seen)
    # Bound to none of our rooms: keep it if it is signed with one of our secrets.
    secrets = {orjson.loads(v)["secret"] for v in (await services.redis.hvals(keys.bindings(platform)))}
    problems = []
    for secret in secrets:
        try:
            adapter.verify(headers, body, secret, now_s=now_s)
        except SignatureRejected as error:
            problems.append(str(error))
            continue
        seen = keys.unbound_push_seen(platform, _fingerprint(adapter, headers))
        await _remember(services, adapter, seen)
        try:
            await services.redis.xadd(keys.unbound(platform), {
                "external": external or "", "headers": orjson.dumps(headers), "body": body,
                "reason": rejection or f"{platform} room {external!r} is bound to no room here",
            }, maxlen=UNBOUND_MAXLEN, approximate=True)
        except BaseException:
            await _forget(services, seen)
            raise
        return _Push(None, None, seen)
    raise _Refused(_unauthorized(problems[0] if problems else f"no {platform} binding: nothing can verify this push"))


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


class _Replayed(Exception):
    """A byte-identical replay of a push already received: answered 2xx, not stored."""


async def _store(services: Services, room: str, translated: Translated) -> Response | None:
    """Into the room's stream; a response only when it could not be stored."""
    # The same rule as the generic API: a clock far ahead would freeze the screens.
    limit = services.clock.now_ms() + MAX_FUTURE_MS
    future = [e for e in translated.events if e["ts"] > limit]
    events = [(event["id"], orjson.dumps(event)) for event in translated.events if event["ts"] <= limit]
    dead = [(raw.encode() if isinstance(raw, str) else raw, reason.encode()) for raw, reason in translated.rejected]
    dead += [(orjson.dumps(e), f"ts {e['ts']} is more than 5 minutes in the future".encode()) for e in future]
    rejected = len(dead)
    # Test messages: not counted, but kept where tech staff look for what was left out.
    dead += [(raw.encode() if isinstance(raw, str) else raw, reason.encode()) for raw, reason in translated.skipped]
    try:
        outcome = await services.bus.ingest(room, events, dead, key_hash=keys.PUSH_KEY,
                                            sources={e["source"] for e in translated.events if e.get("source")})
    except BacklogFull:
        return JSONResponse({"detail": f"room {room!r} is behind; retry"}, status_code=503,
                            headers={"Retry-After": RETRY_AFTER_S})
    except UnknownRoom:
        return JSONResponse({"detail": "the bound room is gone"}, status_code=503, headers={"Retry-After": RETRY_AFTER_S})
    EVENTS_INGESTED.labels(room=room).inc(outcome.accepted)
    EVENTS_DUPLICATE.labels(room=room).inc(len(outcome.duplicate_indexes))
    EVENTS_REJECTED.labels(room=room).inc(rejected)
    return None


async def _handle(platform: str, request: Request, services: Services,
                  reply: Callable[[dict[str, Any]], Response], body: bytes | None = None) -> Response:
    """`reply(extra)` is the platform's success answer, with `extra` fields (a replay,
    skipped test messages) when there is something to report. `body`: the push, when the
    route read it already (to answer with what it carries)."""
    try:
        push = await _receive(platform, request, services, body)
    except _Refused as refused:
        return refused.response
    except _Replayed:
        return reply({"replay": True, "detail": REPLAY_DETAIL})
    except BodyError as error:
        return JSONResponse({"detail": error.message}, status_code=error.status)
    extra: dict[str, Any] = {}
    if push.translated is not None and push.room is not None:
        stored = False
        try:
            failed = await _store(services, push.room, push.translated)
            stored = failed is None
        finally:
            if not stored:
                await _forget(services, push.seen_key)
        if failed is not None:
            return failed
        if push.translated.skipped:
            PUSH_ITEMS_SKIPPED.labels(platform=platform).inc(len(push.translated.skipped))
            extra["skipped"] = [reason for _, reason in push.translated.skipped]
    return reply(extra)


def _douyin_reply(extra: dict[str, Any]) -> Response:
    return JSONResponse({"err_no": 0, "err_msg": "success", **extra})


def _doudian_reply(extra: dict[str, Any]) -> Response:
    # Exactly the bytes the platform expects, unless there is something to report
    # (then the same code and msg, with the report beside them).
    if not extra:
        return Response(doudian.reply(), media_type="application/json")
    return Response(orjson.dumps({"code": 0, "msg": "success", **extra}), media_type="application/json")


PUSH_ANSWERS = {
    200: {"description": "Received (stored, kept aside for an unbound room, or a replay: nothing stored)",
          "content": {"application/json": {"schema": {"type": "object"}}}},
    400: {"model": ErrorDetail, "description": "The push cannot be read"},
    401: {"model": ErrorDetail, "description": "The signature is missing, stale or not one of ours"},
    413: {"model": ErrorDetail, "description": "The push is over the size limit"},
    503: {"model": ErrorDetail, "description": "The room is behind or the event store is unreachable: retry"},
}


@router.post("/hooks/douyin", tags=["platform pushes"], summary="Douyin live-room data push", responses=PUSH_ANSWERS)
async def douyin_push(request: Request, services: Svc) -> Response:
    return await _handle("douyin", request, services, _douyin_reply)


@router.post("/hooks/kuaishou", tags=["platform pushes"], summary="Kuaishou (快手) live-room interaction push",
             responses=PUSH_ANSWERS)
async def kuaishou_push(request: Request, services: Svc) -> Response:
    # Read here: Kuaishou's answer echoes the push's message_id ({"result": 1, "message_id": …};
    # any other result is retried, 3 times 5 s apart).
    try:
        body = await _read_limited(request, MAX_PUSH_BYTES)
    except BodyError as error:
        return JSONResponse({"detail": error.message}, status_code=error.status)
    return await _handle("kuaishou", request, services,
                         lambda extra: Response(kuaishou.reply(body, extra), media_type="application/json"), body)


@router.post("/hooks/doudian", tags=["platform pushes"], summary="Douyin shop (抖店) order push", responses=PUSH_ANSWERS)
async def doudian_push(request: Request, services: Svc) -> Response:
    return await _handle("doudian", request, services, _doudian_reply)


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
                       bindings=rows, platforms=PLATFORMS, formats=BINDING_FORMATS, error=error,
                       hook_urls={p: f"{base}/hooks/{p}" for p in PUSHED_PLATFORMS})


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
async def remove_binding(room: str, binding_id: PathNumber, request: Request, services: Svc, principal: Admin) -> Response:
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
    for platform in PUSHED_PLATFORMS:
        for entry_id, fields in await services.redis.xrevrange(keys.unbound(platform), count=200):
            entries.append({
                "platform": platform, "at": int(entry_id.decode().split("-")[0]),
                "external": fields.get(b"external", b"").decode(), "reason": fields.get(b"reason", b"").decode(),
                "body": fields.get(b"body", b"").decode(errors="replace")[:500],
            })
    entries.sort(key=lambda e: -e["at"])
    return render_page(request, "pages/unbound.html", entries=entries)
