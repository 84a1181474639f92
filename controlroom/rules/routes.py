"""The rules page: the list, and one form to edit or create a rule (htmx swaps the form
with its errors next to the fields; without htmx it is a plain form)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from controlroom.audit.service import record
from controlroom.auth.deps import Admin, Svc
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.rules.forms import condition_fields, form_values, parse_form
from controlroom.rules.schemas import CONDITION_KINDS
from controlroom.rules.service import RuleInvalid, all_rules, rule_by_key, save_rule
from controlroom.services import Services
from controlroom.rules.signals import METRICS
from controlroom.web.pages import client_ip, render_page

router = APIRouter()

NEW_RULE: dict[str, Any] = {
    "key": "", "name": "", "name_en": "", "level": "yellow", "group": "general", "for_s": 0, "clear_for_s": 30,
    "renotify_s": 120, "escalate_after_s": None, "labels": {}, "advice": "", "playbook": None, "cue": None,
    "inhibits": [], "only_live": True, "enabled": True,
}


@router.get("/rules", response_class=HTMLResponse, include_in_schema=False)
async def rules_page(request: Request, services: Svc, principal: Admin) -> Response:
    rules = await run_in_transaction(services.sessions, lambda s: [(r.key, r.definition, r.builtin, r.updated_by) for r in all_rules(s)])
    return render_page(request, "pages/rules.html", rules=rules)


def _form_page(request: Request, *, original_key: str | None, values: dict[str, str], kind: str,
               condition: dict[str, Any], errors: dict[str, str], status_code: int = 200) -> Response:
    template = "partials/_rule_form.html" if request.headers.get("hx-request") else "pages/rule_edit.html"
    return render_page(
        request, template, status_code=status_code, original_key=original_key, values=values, kind=kind,
        kinds=list(CONDITION_KINDS), fields=condition_fields(kind, condition), errors=errors, metrics=METRICS,
    )


def _switched_kind(request: Request, original_key: str | None) -> Response | None:
    """The form asked again with another condition kind (the kind select changed): keep
    what was typed, show that kind's fields with their defaults."""
    kind = request.query_params.get("condition.kind")
    if kind not in CONDITION_KINDS:
        return None
    values = {name: value for name, value in request.query_params.items() if not name.startswith("condition.")}
    return _form_page(request, original_key=original_key, values=values, kind=kind, condition={}, errors={})


@router.get("/rules/new", response_class=HTMLResponse, include_in_schema=False)
async def new_rule(request: Request, principal: Admin) -> Response:
    return _switched_kind(request, None) or _form_page(
        request, original_key=None, values=form_values(NEW_RULE), kind="threshold", condition={}, errors={}
    )


@router.get("/rules/{key}", response_class=HTMLResponse, include_in_schema=False)
async def edit_rule(key: str, request: Request, services: Svc, principal: Admin) -> Response:
    definition = await run_in_transaction(services.sessions, lambda s: (r.definition if (r := rule_by_key(s, key)) else None))
    if definition is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=key)
    condition = definition["condition"]
    return _switched_kind(request, key) or _form_page(
        request, original_key=key, values=form_values(definition), kind=condition["kind"], condition=condition,
        errors={},
    )


@router.post("/rules", include_in_schema=False)
async def create_rule(request: Request, services: Svc, principal: Admin) -> Response:
    return await _save(request, services, principal, original_key=None)


@router.post("/rules/{key}", include_in_schema=False)
async def update_rule(key: str, request: Request, services: Svc, principal: Admin) -> Response:
    return await _save(request, services, principal, original_key=key)


async def _save(request: Request, services: Services, principal: Principal, *, original_key: str | None) -> Response:
    form = await request.form()
    now = services.now()

    def save(session: Session) -> str:
        data = parse_form(form)
        rule = save_rule(session, data=data, by=principal.name, original_key=original_key)
        record(session, actor=principal.name, user_id=principal.user_id, now=now, ip=client_ip(request),
               action="rule.update" if original_key else "rule.create",
               detail={"rule": rule.key, "definition": rule.definition})
        return rule.key

    try:
        key = await run_in_transaction(services.sessions, save)
    except RuleInvalid as error:
        kind = str(form.get("condition.kind", "threshold"))
        kind = kind if kind in CONDITION_KINDS else "threshold"
        values = {name: str(value) for name, value in form.items() if not name.startswith("condition.")}
        condition = {name.removeprefix("condition."): value for name, value in form.items() if name.startswith("condition.")}
        return _form_page(request, original_key=original_key, values=values, kind=kind, condition=condition,
                          errors=error.errors, status_code=422)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": f"/rules?saved={key}"})
    return RedirectResponse(f"/rules?saved={key}", status_code=303)
