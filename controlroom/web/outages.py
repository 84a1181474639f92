"""What a request gets while Redis or SQL is away: 503 with Retry-After and a sentence in
the reader's language saying what is down and that nothing of the request was stored;
never a 500 or a dropped connection."""

from __future__ import annotations

import contextlib

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from controlroom.db.health import DatabaseAway, database_unavailable
from controlroom.i18n import N_, pick_locale, translations
from controlroom.web.pages import LANG_COOKIE

log = structlog.get_logger(__name__)

RETRY_AFTER_S = 5
# A command that timed out may still run when a stalled Redis wakes up: "may not", and
# sending again is safe because repeated event ids are dropped.
REDIS_DOWN = N_("The event store (Redis) did not answer; this request may not have been stored. Send it again in a "
              "few seconds (repeated event ids are dropped).")
DATABASE_DOWN = N_("The database is unavailable; nothing from this request was stored. Retry in a few seconds.")


def _answer(request: Request, message: str) -> Response:
    services = getattr(request.app.state, "services", None)
    default = services.settings.default_locale if services is not None else "zh_CN"
    locale = pick_locale(query=request.query_params.get("lang"), cookie=request.cookies.get(LANG_COOKIE),
                         default=default)
    text = translations(locale).gettext(message)
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"detail": text}, status_code=503, headers=headers)
    return PlainTextResponse(f"503 {text}\n", status_code=503, headers=headers)


async def redis_unreachable(request: Request, exc: Exception) -> Response:
    log.warning("redis.unreachable", path=request.url.path, error=str(exc))
    services = getattr(request.app.state, "services", None)
    if services is not None:
        # The idle connections went to the Redis that failed (a restarted one has none of
        # them): dropped now, the next requests connect afresh instead of each finding a
        # dead socket in the pool.
        with contextlib.suppress(Exception):
            await services.redis.connection_pool.disconnect(inuse_connections=False)
    return _answer(request, REDIS_DOWN)


async def database_error(request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        raise exc
    log.warning("database.unavailable", path=request.url.path, error=str(exc).splitlines()[0][:300])
    return _answer(request, DATABASE_DOWN)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RedisConnectionError, redis_unreachable)
    app.add_exception_handler(RedisTimeoutError, redis_unreachable)
    app.add_exception_handler(PoolTimeoutError, database_error)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(DatabaseAway, database_error)
