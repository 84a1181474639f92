"""Rendering a full page: language, who is signed in (for the navigation) and the CSRF
token go into every page the same way."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from controlroom.i18n import pick_locale, translations
from controlroom.i18n.refusal import Refusal
from controlroom.services import Services

LANG_COOKIE = "lang"


def request_locale(request: Request, services: Services) -> str:
    return pick_locale(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        default=services.settings.default_locale,
    )


def refusal_text(request: Request, services: Services, error: Refusal) -> str:
    """Why an action was refused, in the reader's language."""
    return error.translated(translations(request_locale(request, services)).gettext)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def csrf_token(request: Request) -> str:
    """The token that asgi-csrf checks on every unsafe request (form field or header)."""
    get_token = request.scope.get("csrftoken")
    return get_token() if get_token else ""


def render_page(request: Request, template: str, *, status_code: int = 200, **context: Any) -> Response:
    services: Services = request.app.state.services
    locale = request_locale(request, services)
    context.setdefault("principal", getattr(request.state, "principal", None))
    html = services.renderer.render(
        template, locale=locale, csrf_token=csrf_token(request), path=request.url.path, **context
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang"):
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
