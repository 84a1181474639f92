"""Security headers on every response: no inline script or style is needed by the app."""

from __future__ import annotations

from asgi_csrf import asgi_csrf
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from controlroom.i18n import DEFAULT_LOCALE, pick_locale, translations
from controlroom.i18n.refusal import Refusal
from controlroom.web.pages import LANG_COOKIE

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + _HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf_exempt(scope: Scope) -> bool:
    """Ingest and platform webhooks authenticate with keys or signatures, not cookies:
    a forged cross-site request carries nothing that would let it in."""
    path = scope["path"]
    return (path.startswith("/api/rooms/") and path.endswith("/events")) or path.startswith("/hooks/")


class CsrfProtection:
    """asgi-csrf (signed double-submit token) on every unsafe request, login included.
    Pages send the token as a form field; htmx requests as the x-csrftoken header, set
    once on <body hx-headers>."""

    def __init__(self, app: ASGIApp, *, signing_secret: str, cookie_secure: bool) -> None:
        self.app = asgi_csrf(
            app,
            signing_secret=signing_secret,
            always_protect={"/login"},
            skip_if_scope=_csrf_exempt,
            cookie_secure=cookie_secure,
            send_csrf_failed=_refuse,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS") and not _csrf_exempt(scope):
            headers = dict(scope["headers"])
            # asgi-csrf 0.11 cannot read the token from a multipart body with the current
            # python-multipart (it fails with a 500): uploads carry it as a header.
            if headers.get(b"content-type", b"").startswith(b"multipart/") and b"x-csrftoken" not in headers:
                await _refuse(scope, send, "multipart without x-csrftoken")
                return
        await self.app(scope, receive, send)


CSRF_REFUSED = Refusal("The form's security token (CSRF) is missing or out of date. Reload the page and try again.")


def _locale(scope: Scope) -> str:
    """The reader's language, as pages pick it (?lang=, then the lang cookie)."""
    request = Request(scope)
    services = getattr(getattr(scope.get("app"), "state", None), "services", None)
    return pick_locale(query=request.query_params.get("lang"), cookie=request.cookies.get(LANG_COOKIE),
                       default=services.settings.default_locale if services is not None else DEFAULT_LOCALE)


async def _refuse(scope: Scope, send: Send, message_id: object) -> None:
    body = f"403: {CSRF_REFUSED.translated(translations(_locale(scope)).gettext)}\n"
    await send({
        "type": "http.response.start",
        "status": 403,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), *_HEADERS],
    })
    await send({"type": "http.response.body", "body": body.encode()})
