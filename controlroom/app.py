"""The ASGI application: create_app() and the lifespan that starts and stops everything."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import asynccontextmanager
from typing import Annotated, AsyncIterator

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles

from controlroom import __version__
from controlroom.alerts import routes as alert_routes
from controlroom.auth import routes as auth_routes
from controlroom.auth.deps import Forbidden, IngestKeyRejected, NotAuthenticated, Requires
from controlroom.auth.secrets import Signer
from controlroom.auth.service import Principal
from controlroom.bus.client import Bus, connect
from controlroom.bus.embedded import resolve_redis_url
from controlroom.bus.hub import Hub
from controlroom.clock import Clock, SystemClock
from controlroom.db.session import make_engine, run_in_transaction, session_factory, upgrade
from controlroom.events import event_adapter
from controlroom.ingest import api as ingest_api
from controlroom.ingest import hooks
from controlroom.ingest.bindings import publish_bindings
from controlroom.metrics.archive import archive_minutes
from controlroom.observability import configure_logging
from controlroom.periodic import every
from controlroom.processing import run_processing
from controlroom.paths import STATIC_DIR
from controlroom.reports.recording import prune_recordings
from controlroom.rooms.projection import publish_rooms
from controlroom.moderation import routes as lexicon_routes
from controlroom.moderation.service import install_default_lexicon, publish_lexicon
from controlroom.playbooks import routes as playbook_routes
from controlroom.reports import routes as review_routes
from controlroom.playbooks.service import install_default_playbooks, publish_definitions, publish_playbooks
from controlroom.rules import routes as rule_routes
from controlroom.shows import routes as show_routes
from controlroom.shows import script_routes
from controlroom.shows.runs import publish_show
from controlroom.rules.service import install_default_rules
from controlroom.services import Services
from controlroom.settings import Settings, get_settings
from controlroom.web import ops, routes
from controlroom.web.panels import load_room_view, render_panels
from controlroom.web.render import Renderer
from controlroom.web.pages import render_page
from controlroom.web.security import CsrfProtection, SecurityHeaders

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(json=settings.log_json, level=settings.log_level)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        redis_url, embedded = await asyncio.to_thread(resolve_redis_url, settings.redis_url, settings.data_dir)
        engine = make_engine(settings.sqlalchemy_url)
        sessions = session_factory(engine)
        if settings.auto_migrate:
            await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
        client = connect(redis_url)
        bus = Bus.from_settings(client, settings)
        await run_in_transaction(sessions, install_default_rules)
        await run_in_transaction(sessions, install_default_lexicon)
        await run_in_transaction(sessions, install_default_playbooks)

        async def publish_projections() -> None:
            await publish_rooms(bus, sessions)
            await publish_lexicon(client, sessions)
            await publish_definitions(client, sessions)
            await publish_bindings(client, sessions)
            for room in await bus.rooms():
                await publish_show(client, sessions, room=room)
                await publish_playbooks(client, sessions, room=room)

        await publish_projections()
        # A Redis that restarted empty (no persistence) or was flushed gets its rooms (and
        # lexicon) back within 30 s, instead of every room answering 401/404 until the
        # next deploy.
        republisher = asyncio.create_task(
            every(30, publish_projections, name="rooms.republish"), name="rooms-republisher"
        )
        archiver = asyncio.create_task(
            every(15, lambda: archive_minutes(client, sessions), name="minutes.archive"), name="minutes-archiver"
        )

        pruner = asyncio.create_task(
            every(3600, lambda: asyncio.to_thread(prune_recordings, settings.data_dir,
                                                  retention_days=settings.recording_retention_days),
                  name="recordings.prune"),
            name="recordings-pruner",
        )

        renderer = Renderer(tz=settings.tz)

        async def load_view(room: str) -> dict:
            return await load_room_view(client, room, clock, segment_warning_s=settings.segment_warning_s)

        hub = Hub(
            client,
            load_view=load_view,
            render_panels=lambda view, locale, since: render_panels(renderer, view, locale, oob=True, since=since),
            max_hz=settings.panel_max_hz,
            queue_frames=settings.client_queue_frames,
            idle_refresh_s=settings.panel_idle_refresh_s,
        )
        await hub.start()
        stop_worker = asyncio.Event()
        worker_task = None
        if settings.run_worker:
            worker_task = asyncio.create_task(
                run_processing(client, sessions, settings, clock, stop_worker), name="worker"
            )
        app.state.services = Services(
            settings=settings, redis=client, bus=bus, hub=hub, renderer=renderer,
            engine=engine, sessions=sessions, clock=clock, signer=Signer(settings.secret_key),
            worker_task=worker_task,
        )
        log.info("controlroom.started", redis=redis_url, database=engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            republisher.cancel()
            archiver.cancel()
            pruner.cancel()
            stop_worker.set()
            if worker_task is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(worker_task, timeout=10)
            await hub.stop()
            await client.aclose()
            engine.dispose()
            if embedded is not None:
                await asyncio.to_thread(embedded.stop)
            log.info("controlroom.stopped")

    app = FastAPI(
        title="controlroom",
        version=__version__,
        description="Real-time control room for live-commerce shows.",
        lifespan=lifespan,
        # FastAPI's docs pages load their scripts from a CDN; the schema is served at
        # /openapi.json below, to signed-in users only.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(
        CsrfProtection,
        signing_secret=settings.secret_key,
        cookie_secure=settings.secure_cookies,
    )
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(RedisConnectionError, _redis_unreachable)
    app.add_exception_handler(RedisTimeoutError, _redis_unreachable)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(IngestKeyRejected, _ingest_key_rejected)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(ops.router)
    app.include_router(ingest_api.router)
    app.include_router(hooks.router)
    app.include_router(routes.router)
    app.include_router(auth_routes.router)
    app.include_router(alert_routes.router)
    app.include_router(rule_routes.router)
    app.include_router(lexicon_routes.router)
    app.include_router(show_routes.router)
    app.include_router(script_routes.router)
    app.include_router(playbook_routes.router)
    app.include_router(review_routes.router)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_schema(principal: Annotated[Principal, Depends(Requires(None))]) -> JSONResponse:
        return JSONResponse(_openapi_with_events(app))

    return app


async def _not_authenticated(request: Request, exc: Exception) -> Response:
    """401. A page asks for a login (and comes back after it); the API says so in JSON."""
    if _wants_json(request):
        return JSONResponse({"detail": "login required"}, status_code=401)
    # Back to the page after the login; a refused form post goes back to the start page.
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "") if request.method == "GET" else "/"
    return render_page(request, "pages/login.html", status_code=401, next=target, error=None, username="")


async def _ingest_key_rejected(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, IngestKeyRejected) else "API key rejected"
    return JSONResponse({"detail": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, Forbidden) else "forbidden"
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=403)
    return render_page(request, "pages/forbidden.html", status_code=403, message=message)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in {"/openapi.json", "/metrics"}


async def _redis_unreachable(request: Request, exc: Exception) -> Response:
    """Any page or API call that needs Redis while it is down: say so, and when to retry."""
    log.warning("redis.unreachable", path=request.url.path, error=str(exc))
    message = "the event store (Redis) is unreachable; nothing from this request was stored, retry later"
    headers = {"Retry-After": "5"}
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message}, status_code=503, headers=headers)
    return PlainTextResponse(f"503 {message}\n", status_code=503, headers=headers)


def _openapi_with_events(app: FastAPI) -> dict:
    """The ingest route reads its body itself (per-item errors, NDJSON); publish the
    canonical event schema it accepts all the same."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    event_schema = event_adapter.json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(event_schema.pop("$defs", {}))
    components["Event"] = event_schema
    app.openapi_schema = schema
    return schema
