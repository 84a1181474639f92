"""The ASGI applications: create_app() wires the routes, middleware and error pages of
the main server; create_ingest_app() the feed side alone, for the ingest process. Their
lifespans (controlroom/runtime/lifespan.py) start and stop everything else."""

from __future__ import annotations

import asyncio

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.openapi.utils import get_openapi
from fastapi.staticfiles import StaticFiles
from redis.exceptions import RedisError

from controlroom import __version__
from controlroom.alerts import routes as alert_routes
from controlroom.auth import routes as auth_routes
from controlroom.auth.deps import Forbidden, IngestKeyRejected, NotAuthenticated, SignedIn
from controlroom.auth.permissions import ROLE_NAMES_ZH, Role
from controlroom.clock import Clock, SystemClock
from controlroom.events import event_adapter
from controlroom.i18n import translations
from controlroom.i18n.refusal import Refusal
from controlroom.ingest import api as ingest_api
from controlroom.ingest import hooks
from controlroom.moderation import routes as lexicon_routes
from controlroom.paths import STATIC_DIR
from controlroom.playbooks import routes as playbook_routes
from controlroom.notify import routes as notify_routes
from controlroom.reports import routes as review_routes
from controlroom.rules import routes as rule_routes
from controlroom.runtime.lifespan import ingest_lifespan, serving_lifespan
from controlroom.screens import pages, sockets, wall
from controlroom.settings import Settings, get_settings
from controlroom.shows import routes as show_routes
from controlroom.shows import prompter, script_routes
from controlroom.web import ops, outages
from controlroom.web.pages import render_page, request_locale
from controlroom.web.security import CsrfProtection, SecurityHeaders

log = structlog.get_logger(__name__)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    app = FastAPI(
        title="controlroom",
        version=__version__,
        description="Real-time control room for live-commerce shows.",
        lifespan=serving_lifespan(settings, clock),
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
    outages.install(app)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(IngestKeyRejected, _ingest_key_rejected)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(ops.router)
    app.include_router(ingest_api.router)
    app.include_router(hooks.router)
    app.include_router(pages.router)
    app.include_router(wall.router)
    app.include_router(sockets.router)
    app.include_router(auth_routes.router)
    app.include_router(alert_routes.router)
    app.include_router(rule_routes.router)
    app.include_router(lexicon_routes.router)
    app.include_router(show_routes.router)
    app.include_router(prompter.router)
    app.include_router(script_routes.router)
    app.include_router(playbook_routes.router)
    app.include_router(review_routes.router)
    app.include_router(notify_routes.router)

    @app.get("/openapi.json", include_in_schema=False)
    async def openapi_schema(principal: SignedIn) -> JSONResponse:
        return JSONResponse(_openapi_with_events(app))

    return app


# What the ingest process serves: what feeds send to, and what watches it. No page, no
# screen, nothing that needs a login (or SQL).
FEED_PATHS = frozenset({
    "/api/rooms/{room}/events", "/ws/ingest/{room}", "/hooks/douyin", "/hooks/doudian", "/healthz", "/metrics",
})


def create_ingest_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The feed side alone (`controlroom ingest`, started beside `serve`): the same
    route handlers as the main server, so both answer a feed the same way, but in a
    process where no fan-out can make a feed wait."""
    settings = settings or get_settings()
    clock = clock or SystemClock()
    app = FastAPI(title="controlroom ingest", version=__version__, lifespan=ingest_lifespan(settings, clock),
                  docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(SecurityHeaders)
    outages.install(app)
    app.add_exception_handler(IngestKeyRejected, _ingest_key_rejected)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    feed_routes = [route for router in (ops.router, ingest_api.router, hooks.router) for route in router.routes
                   if getattr(route, "path", None) in FEED_PATHS]
    missing = FEED_PATHS - {route.path for route in feed_routes}
    if missing:
        raise RuntimeError(f"feed routes not found (renamed?): {sorted(missing)}")
    app.router.routes.extend(feed_routes)
    app.add_api_route("/readyz", _ingest_ready, methods=["GET"], summary="Redis answers")
    return app


async def _ingest_ready(request: Request) -> Response:
    """Readiness of an ingest process: it needs Redis and nothing else."""
    services = request.app.state.services
    try:
        await asyncio.wait_for(services.redis.ping(), timeout=2)
    except (RedisError, asyncio.TimeoutError, OSError) as exc:
        return JSONResponse({"ready": False, "checks": {"redis": f"unreachable: {exc}"}}, status_code=503)
    return JSONResponse({"ready": True, "checks": {"redis": "ok"}})


async def _not_authenticated(request: Request, exc: Exception) -> Response:
    """401. A page asks for a login (and comes back after it); the API says so in JSON."""
    if _wants_json(request):
        return JSONResponse({"detail": "login required"}, status_code=401)
    # Back to the page after the login; a refused form post goes back to the start page.
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "") if request.method == "GET" else "/"
    return render_page(request, "pages/login.html", status_code=401, next=target, error=None, username="")


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """422 with one readable sentence: which parameter, and what is wrong with it."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = "; ".join(f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in errors) or "invalid request"
    return JSONResponse({"detail": detail}, status_code=422)


async def _ingest_key_rejected(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, IngestKeyRejected) else "API key rejected"
    return JSONResponse({"detail": message}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


async def _forbidden(request: Request, exc: Exception) -> Response:
    message = _forbidden_message(request, exc)
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=403)
    return render_page(request, "pages/forbidden.html", status_code=403, message=message)


def _forbidden_message(request: Request, exc: Exception) -> str:
    """Why a signed-in person is refused (403), in their language."""
    locale = request_locale(request, request.app.state.services)
    gettext = translations(locale).gettext
    if not isinstance(exc, Refusal):
        return gettext("Not allowed")
    role = exc.params.get("role")
    if locale == "zh_CN" and role in {r.value for r in Role}:
        # The role by the name the reader knows it by.
        return gettext(exc.message) % {**exc.params, "role": ROLE_NAMES_ZH[Role(role)]}
    return exc.translated(gettext)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in {"/openapi.json", "/metrics"}


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
