"""The lexicon page: categories, their terms (add, remove, import, export), the
allow-list. Every change is audited and published to the workers at once."""

from __future__ import annotations

from typing import Annotated, Any, Callable
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from controlroom.auth.deps import Driver, Editor, PathNumber, Svc
from controlroom.audit.service import record
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.moderation import service
from controlroom.moderation.compliance import check_script
from controlroom.moderation.lexicon import is_number_term
from controlroom.moderation.live import PUBLISHED
from controlroom.metrics.questions import question_groups
from controlroom.moderation.service import LexiconError
from controlroom.services import Services
from controlroom.web.pages import client_ip, render_page

router = APIRouter()
MAX_SCRIPT = 20_000
MAX_UPLOAD = 2 * 1024 * 1024


async def _overview(request: Request, services: Services, *, error: str | None = None, status_code: int = 200,
                    notice: str | None = None) -> Response:
    def read(session: Session) -> dict[str, Any]:
        return {
            "categories": [(c.key, c.name, c.name_en, c.builtin, len(c.terms)) for c in service.categories(session)],
            "allow": [(p.id, p.text, p.created_by) for p in service.allow_phrases(session)],
        }

    data = await run_in_transaction(services.sessions, read)
    return render_page(request, "pages/lexicon.html", status_code=status_code, error=error, notice=notice, **data)


async def _category_page(request: Request, services: Services, key: str, *, error: str | None = None,
                         status_code: int = 200, notice: str | None = None) -> Response:
    def read(session: Session) -> dict[str, Any] | None:
        category = service.category_by_key(session, key)
        if category is None:
            return None
        return {
            "category": (category.key, category.name, category.name_en),
            "terms": [(t.id, t.text, t.severity, t.suggestion, t.created_by,
                       t.whole_word if t.whole_word is not None else is_number_term(t.text))
                      for t in category.terms],
        }

    data = await run_in_transaction(services.sessions, read)
    if data is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=key)
    return render_page(request, "pages/lexicon_category.html", status_code=status_code, error=error, notice=notice, **data)


async def _change(
    request: Request, services: Services, principal: Principal, action: str,
    change: Callable[[Session], dict[str, Any]],
) -> str:
    """Run a change with its audit row, then publish the lexicon; returns the notice."""
    now = services.now()

    def work(session: Session) -> dict[str, Any]:
        detail = change(session)
        record(session, actor=principal.name, user_id=principal.user_id, action=action, now=now,
               ip=client_ip(request), detail=detail)
        return detail

    detail = await run_in_transaction(services.sessions, work)
    await services.projections.publish(None, *service.LEXICON_PROJECTIONS)
    return detail.get("notice", "")


@router.get("/lexicon", response_class=HTMLResponse, include_in_schema=False)
async def lexicon_page(request: Request, services: Svc, principal: Editor) -> Response:
    return await _overview(request, services)


@router.post("/lexicon/categories", include_in_schema=False)
async def add_category(
    request: Request, services: Svc, principal: Editor, key: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "", name_en: Annotated[str, Form()] = "",
) -> Response:
    def change(session: Session) -> dict:
        category = service.add_category(session, key=key, name=name, name_en=name_en, by=principal.name)
        return {"category": category.key, "name": category.name}

    try:
        await _change(request, services, principal, "lexicon.category.add", change)
    except LexiconError as error:
        return await _overview(request, services, error=str(error), status_code=422)
    return RedirectResponse(f"/lexicon/{key.strip()}", status_code=303)


@router.post("/lexicon/allow", include_in_schema=False)
async def add_allow(request: Request, services: Svc, principal: Editor, text: Annotated[str, Form()] = "") -> Response:
    def change(session: Session) -> dict:
        return {"allow": service.add_allow(session, text=text, by=principal.name).text}

    try:
        await _change(request, services, principal, "lexicon.allow.add", change)
    except LexiconError as error:
        return await _overview(request, services, error=str(error), status_code=422)
    return RedirectResponse("/lexicon", status_code=303)


@router.post("/lexicon/allow/{phrase_id}/delete", include_in_schema=False)
async def remove_allow(phrase_id: PathNumber, request: Request, services: Svc, principal: Editor) -> Response:
    def change(session: Session) -> dict:
        return {"allow": service.remove_allow(session, phrase_id=phrase_id).text}

    try:
        await _change(request, services, principal, "lexicon.allow.remove", change)
    except LookupError as error:
        return await _overview(request, services, error=str(error).strip("'\""), status_code=404)
    return RedirectResponse("/lexicon", status_code=303)


@router.get("/lexicon/check", response_class=HTMLResponse, include_in_schema=False)
async def script_check_page(request: Request, principal: Driver) -> Response:
    return render_page(request, "pages/script_check.html", text="", hits=[], marks=[])


@router.post("/lexicon/check", response_class=HTMLResponse, include_in_schema=False)
async def script_check(request: Request, services: Svc, principal: Driver,
                       text: Annotated[str, Form()] = "") -> Response:
    """Talk points against the absolute-term category: each hit with the rule it breaks
    and what to say instead. htmx asks as the text is typed."""
    if len(text) > MAX_SCRIPT:
        return PlainTextResponse(f"text: at most {MAX_SCRIPT} characters", status_code=413)
    matcher, suggestions = await PUBLISHED.get(services.redis)
    hits = check_script(text, matcher, suggestions)
    template = "partials/_script_check.html" if request.headers.get("hx-request") else "pages/script_check.html"
    return render_page(request, template, text=text, hits=hits, marks=[(h.start, h.end, "absolute") for h in hits])


@router.get("/lexicon/replies", response_class=HTMLResponse, include_in_schema=False)
async def replies_page(request: Request, services: Svc, principal: Editor) -> Response:
    return await _replies_page(request, services)


async def _replies_page(request: Request, services: Services, *, error: str | None = None,
                        status_code: int = 200) -> Response:
    replies = await run_in_transaction(services.sessions, service.quick_replies)
    return render_page(request, "pages/quick_replies.html", status_code=status_code, error=error,
                       groups=question_groups(), replies=replies)


@router.post("/lexicon/replies", include_in_schema=False)
async def add_reply(
    request: Request, services: Svc, principal: Editor, group: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
) -> Response:
    def change(session: Session) -> dict:
        reply = service.add_quick_reply(session, group=group, text=text, by=principal.name)
        return {"group": reply.group, "reply": reply.text}

    try:
        await _change(request, services, principal, "quick_reply.add", change)
    except LexiconError as error:
        return await _replies_page(request, services, error=str(error), status_code=422)
    return RedirectResponse("/lexicon/replies", status_code=303)


@router.post("/lexicon/replies/{reply_id}/delete", include_in_schema=False)
async def remove_reply(reply_id: PathNumber, request: Request, services: Svc, principal: Editor) -> Response:
    def change(session: Session) -> dict:
        reply = service.remove_quick_reply(session, reply_id=reply_id)
        return {"group": reply.group, "reply": reply.text}

    try:
        await _change(request, services, principal, "quick_reply.remove", change)
    except LookupError as error:
        return await _replies_page(request, services, error=str(error).strip("'\""), status_code=404)
    return RedirectResponse("/lexicon/replies", status_code=303)


@router.get("/lexicon/{key}", response_class=HTMLResponse, include_in_schema=False)
async def category_page(key: str, request: Request, services: Svc, principal: Editor) -> Response:
    return await _category_page(request, services, key, notice=request.query_params.get("imported"))


def _in_category(session: Session, key: str):
    category = service.category_by_key(session, key)
    if category is None:
        raise LookupError(f"no category {key!r}")
    return category


@router.post("/lexicon/{key}/terms", include_in_schema=False)
async def add_term(
    key: str, request: Request, services: Svc, principal: Editor, text: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "2", suggestion: Annotated[str, Form()] = "",
    whole_word: Annotated[str, Form()] = "",
) -> Response:
    def change(session: Session) -> dict:
        # Ticked: whole word only; unticked: the default (whole-word for digit terms).
        term = service.add_term(session, category=_in_category(session, key), text=text, severity=severity,
                                suggestion=suggestion, by=principal.name, whole_word=True if whole_word else None)
        return {"category": key, "term": term.text, "severity": term.severity}

    return await _category_change(request, services, principal, key, "lexicon.term.add", change)


@router.post("/lexicon/{key}/terms/{term_id}/delete", include_in_schema=False)
async def remove_term(key: str, term_id: PathNumber, request: Request, services: Svc, principal: Editor) -> Response:
    def change(session: Session) -> dict:
        term = service.remove_term(session, category=_in_category(session, key), term_id=term_id)
        return {"category": key, "term": term.text}

    return await _category_change(request, services, principal, key, "lexicon.term.remove", change)


@router.post("/lexicon/{key}/import", include_in_schema=False)
async def import_terms(
    key: str, request: Request, services: Svc, principal: Editor, file: UploadFile | None = None,
    text: Annotated[str, Form()] = "",
) -> Response:
    """A text file (or pasted text): one term per line, or term<TAB>severity<TAB>suggestion."""
    if file is not None and file.filename:
        raw = await file.read(MAX_UPLOAD + 1)
        if len(raw) > MAX_UPLOAD:
            return await _category_page(request, services, key, error=f"file: larger than {MAX_UPLOAD // 1024} KiB",
                                        status_code=413)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            return await _category_page(request, services, key, status_code=422,
                                        error=f"file: not UTF-8 text (byte {error.start})")

    def change(session: Session) -> dict:
        result = service.import_terms(session, category=_in_category(session, key), text=text, by=principal.name)
        return {"category": key, "added": result.added, "already": result.already,
                "notice": f"+{result.added} / ={result.already}"}

    return await _category_change(request, services, principal, key, "lexicon.import", change)


async def _category_change(request: Request, services: Services, principal: Principal, key: str, action: str,
                           change: Callable[[Session], dict]) -> Response:
    try:
        notice = await _change(request, services, principal, action, change)
    except LexiconError as error:
        return await _category_page(request, services, key, error=str(error), status_code=422)
    except LookupError as error:
        return render_page(request, "pages/not_found.html", status_code=404, what=str(error).strip("'\""))
    target = f"/lexicon/{key}" + (f"?imported={quote(notice)}" if notice else "")
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


@router.get("/lexicon/{key}/export", include_in_schema=False)
async def export_terms(key: str, services: Svc, principal: Editor) -> Response:
    text = await run_in_transaction(
        services.sessions, lambda s: service.export_terms(c) if (c := service.category_by_key(s, key)) else None
    )
    if text is None:
        return PlainTextResponse(f"no category {key!r}\n", status_code=404)
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="lexicon-{key}.txt"'})
