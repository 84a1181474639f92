"""POST /api/rooms/{room}/events: the generic ingest route (public contract); the ingest
websocket; the dead letters tech staff read."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.status import WS_1003_UNSUPPORTED_DATA, WS_1008_POLICY_VIOLATION

from controlroom.auth.deps import (
    IngestKeyRejected,
    RequiresIngestKey,
    StreamHealth,
    Svc,
    WsRequiresIngestKey,
    invalid_key_message,
)
from controlroom.bus import keys
from controlroom.bus.client import BacklogFull, InvalidApiKey, UnknownRoom
from controlroom.ingest.parse import BodyError, is_ndjson, parse_body
from controlroom.web.answers import ROOM_API, ErrorDetail, json_list
from controlroom.observability import EVENTS_DUPLICATE, EVENTS_INGESTED, EVENTS_REJECTED
from controlroom.services import Services, get_services, get_ws_services

router = APIRouter(tags=["ingest"])

RETRY_AFTER_S = "5"  # seconds; the same as the app-wide answer when Redis is down


class RejectedItem(BaseModel):
    index: int
    id: str | None
    field: str
    reason: str


class IngestResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    duplicate_indexes: list[int]
    rejections: list[RejectedItem]



@router.post(
    "/api/rooms/{room}/events",
    response_model=IngestResult,
    summary="Ingest canonical events",
    description=(
        "Authenticated with the room's ingest key in the X-Api-Key header "
        "(or Authorization: Bearer). A JSON array (Content-Type application/json) or NDJSON (application/x-ndjson) of "
        "canonical events, at most 5,000 events / 4 MiB. Valid events are stored; invalid "
        "ones are reported with index, field and reason and kept in the room's dead-letter "
        "stream; repeats of an id already seen in the room are counted and dropped. "
        "200 when anything was accepted or nothing was invalid, 422 when every item was invalid."
    ),
    responses={
        400: {"model": ErrorDetail, "description": "The body is not JSON / NDJSON"},
        401: {"model": ErrorDetail, "description": "Missing API key, or not valid for this room"},
        404: {"model": ErrorDetail, "description": "Unknown room"},
        413: {"model": ErrorDetail, "description": "Body or event count over the limit"},
        422: {"model": IngestResult, "description": "Every item was invalid"},
        503: {"model": ErrorDetail, "description": "Event store unreachable or room backlog full; nothing stored, retry"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}},
                "application/x-ndjson": {"schema": {"$ref": "#/components/schemas/Event"}},
            },
        }
    },
)
async def ingest_events(
    room: str,
    request: Request,
    services: Annotated[Services, Depends(get_services)],
    key_hash: Annotated[str, Depends(RequiresIngestKey())],
):
    try:
        body = await _read_limited(request, services.settings.max_body_bytes)
    except BodyError as exc:
        return JSONResponse({"detail": exc.message}, status_code=exc.status)
    status, result, headers = await accept_batch(
        services, room, body, ndjson=is_ndjson(request.headers.get("content-type")), key_hash=key_hash
    )
    return JSONResponse(result, status_code=status, headers=headers)


async def accept_batch(
    services: Services, room: str, body: bytes, *, ndjson: bool, key_hash: str
) -> tuple[int, dict, dict[str, str]]:
    """Validate and store one batch: (status, result or error detail, headers). Shared
    by the HTTP route and the websocket, so both answer the same way."""
    settings = services.settings
    try:
        batch = parse_body(body, ndjson=ndjson, max_events=settings.max_events_per_request,
                           now_ms=services.clock.now_ms())
    except BodyError as exc:
        if exc.status == 400 and body.strip():
            # Unreadable as a whole: kept (its start) for tech staff like any refused item.
            await _dead_letter_body(services, room, body, exc.message, key_hash)
        return exc.status, {"detail": exc.message}, {}
    try:
        outcome = await services.bus.ingest(
            room, [(eid, payload) for _, eid, payload in batch.valid], batch.dead, key_hash=key_hash,
            sources=batch.sources,
        )
    except InvalidApiKey:
        raise IngestKeyRejected(invalid_key_message(room)) from None  # revoked while we read the body
    except UnknownRoom:
        return 404, {"detail": f"room {room!r} not found"}, {}
    except BacklogFull:
        return 503, {
            "detail": f"room {room!r} has {settings.max_backlog} events waiting to be applied; "
            "nothing from this request was stored, retry later"
        }, {"Retry-After": RETRY_AFTER_S}
    duplicate_indexes = [batch.valid[i][0] for i in outcome.duplicate_indexes]
    rejected_items = len(batch.dead)
    EVENTS_INGESTED.labels(room=room).inc(outcome.accepted)
    EVENTS_DUPLICATE.labels(room=room).inc(len(duplicate_indexes))
    EVENTS_REJECTED.labels(room=room).inc(rejected_items)
    result = IngestResult(
        accepted=outcome.accepted,
        duplicates=len(duplicate_indexes),
        rejected=rejected_items,
        duplicate_indexes=duplicate_indexes,
        rejections=[RejectedItem(**r.as_dict()) for r in batch.rejections],
    )
    all_invalid = rejected_items > 0 and rejected_items == batch.total
    return (422 if all_invalid else 200), result.model_dump(), {}


DEAD_BODY_BYTES = 64 * 1024


async def _dead_letter_body(services: Services, room: str, body: bytes, reason: str, key_hash: str) -> None:
    kept = body[:DEAD_BODY_BYTES]
    if len(body) > DEAD_BODY_BYTES:
        reason += f" (the first {DEAD_BODY_BYTES} of {len(body)} bytes are kept)"
    try:
        await services.bus.ingest(room, [], [(kept, f"(body): {reason}".encode())], key_hash=key_hash)
    except (InvalidApiKey, UnknownRoom, BacklogFull):
        pass  # the answer says what is wrong with the body; nothing else to keep
    EVENTS_REJECTED.labels(room=room).inc()


async def _read_limited(request: Request, limit: int) -> bytes:
    too_large = f"body too large: the limit is {limit} bytes ({limit // (1024 * 1024)} MiB); split the batch"
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyError(413, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


@router.websocket("/ws/ingest/{room}")
async def ingest_socket(
    websocket: WebSocket, room: str, services: Annotated[Services, Depends(get_ws_services)],
    key_hash: Annotated[str, Depends(WsRequiresIngestKey())],
) -> None:
    """For scripts that stream events continuously: each text message is a batch (a JSON
    array, or NDJSON) and is answered with what the HTTP route would answer, plus its
    status. The key is checked again with every batch, so revoking it stops the stream."""
    await websocket.accept()
    try:
        while True:
            received = await websocket.receive()
            if received["type"] == "websocket.disconnect":
                return
            if received.get("text") is None:
                await websocket.close(code=WS_1003_UNSUPPORTED_DATA,
                                      reason="binary frames are not accepted: send each batch as a text frame of JSON")
                return
            message = received["text"]
            body = message.encode()
            if len(body) > services.settings.max_body_bytes:
                await websocket.send_json({"status": 413, "detail": "message too large; split the batch"})
                continue
            stripped = message.lstrip()
            try:
                status, result, _ = await accept_batch(services, room, body, ndjson=not stripped.startswith("["),
                                                       key_hash=key_hash)
            except IngestKeyRejected as exc:
                await websocket.close(code=WS_1008_POLICY_VIOLATION, reason=exc.message[:120])
                return
            await websocket.send_json({"status": status, **result})
    except WebSocketDisconnect:
        return


@router.get("/api/rooms/{room}/dead-letters", summary="Recently refused items with their reasons",
            responses={**json_list("Newest first: [{id, raw, reason}]"), **ROOM_API})
async def dead_letters(room: str, services: Svc, principal: StreamHealth, limit: int = 100) -> Response:
    if await services.bus.room_name(room) is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    entries = await services.redis.xrevrange(keys.dead_letters(room), count=max(1, min(limit, 1000)))
    items = [
        {"id": entry_id.decode(), "raw": fields[b"raw"].decode(errors="replace"), "reason": fields[b"reason"].decode()}
        for entry_id, fields in entries
    ]
    return Response(orjson.dumps(items), media_type="application/json")
