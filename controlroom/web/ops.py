"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import asyncio
import ipaddress
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from controlroom.bus import keys
from controlroom.bus.client import known_rooms, parse_id
from controlroom.observability import STREAM_BACKLOG, STREAM_LAG_SECONDS
from controlroom.services import Services, get_services

router = APIRouter(tags=["operations"])


class RequiresMetricsAccess:
    """Prometheus scrapes from the same machine, or anywhere with the metrics token."""

    permission = None

    async def __call__(self, request: Request) -> None:
        services = get_services(request)
        client = request.client.host if request.client else ""
        try:
            if ipaddress.ip_address(client).is_loopback:
                return
        except ValueError:
            pass
        token = services.settings.metrics_token
        given = request.headers.get("authorization", "")
        if token and secrets.compare_digest(given, f"Bearer {token}"):
            return
        raise HTTPException(status_code=401, detail="login required")


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Redis and the database answer", responses={
    200: {"description": "Ready: {ready: true, checks}", "content": {"application/json": {"schema": {"type": "object"}}}},
    503: {"description": "Not ready: {ready: false, checks} says which part is down",
          "content": {"application/json": {"schema": {"type": "object"}}}},
})
async def readyz(services: Annotated[Services, Depends(get_services)]) -> Response:
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(services.redis.ping(), timeout=2)
        checks["redis"] = "ok"
    except (RedisError, asyncio.TimeoutError, OSError) as exc:
        checks["redis"] = f"unreachable: {exc}"
    try:
        await asyncio.to_thread(_ping_database, services)
        checks["database"] = "ok"
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {exc.__class__.__name__}"
    if services.settings.run_worker:
        task = services.worker_task
        checks["worker"] = "ok" if task is not None and not task.done() else "stopped"
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


def _ping_database(services: Services) -> None:
    with services.engine.connect() as connection:
        connection.execute(text("SELECT 1"))


@router.get("/metrics", summary="Prometheus metrics", include_in_schema=False,
            dependencies=[Depends(RequiresMetricsAccess())])
async def metrics(services: Annotated[Services, Depends(get_services)]) -> Response:
    try:
        await _measure_streams(services)
    except RedisError:
        pass  # the counters are still worth having; readiness reports Redis
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _measure_streams(services: Services) -> None:
    """Lag and backlog come from Redis at scrape time, so a stalled or dead worker
    shows as growing numbers rather than its last good value."""
    client = services.redis
    rooms = await known_rooms(client)
    pipe = client.pipeline(transaction=False)
    for room in rooms:
        pipe.get(keys.backlog(room))
        pipe.xrevrange(keys.stream(room), count=1)
        pipe.hget(keys.checkpoint(room), "last_id")
    replies = await pipe.execute()
    for i, room in enumerate(rooms):
        backlog, newest, applied = replies[3 * i : 3 * i + 3]
        waiting = int(backlog or 0)
        STREAM_BACKLOG.labels(room=room).set(waiting)
        newest_ms = parse_id(newest[0][0])[0] if newest else 0
        applied_ms = parse_id(applied)[0] if applied else 0
        STREAM_LAG_SECONDS.labels(room=room).set(max(0, newest_ms - applied_ms) / 1000 if waiting else 0.0)
