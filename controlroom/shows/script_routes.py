"""The script editor (htmx) of a room's current show (`/rooms/{room}/script/…`) or of any
show of the room (`/rooms/{room}/shows/{id}/script/…`: the next show is prepared while
another is live): segments edited one by one, duplicated, deleted, reordered by drag and
drop; templates; YAML and CSV import and export; warnings for gaps, overlaps and
overruns; compliance hits in talk points. A live show keeps its past."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Callable

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from controlroom.auth.deps import Driver, PathNumber, Svc
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.live.changes import audited_room_change
from controlroom.moderation.compliance import check_script
from controlroom.moderation.live import PUBLISHED
from controlroom.services import Services
from controlroom.shows import editing
from controlroom.rooms.service import room_by_slug
from controlroom.shows.engine import ActionRefused, RunState, planned_starts
from controlroom.shows.models import Show
from controlroom.shows.runs import SHOW, load_script, room_show, save_script
from controlroom.shows.script import SEGMENT_KIND_NAMES, Script, script_warnings
from controlroom.shows.script_io import ScriptImportError, from_csv, from_yaml, parse_duration, to_csv, to_yaml
from controlroom.shows.templates import TEMPLATES
from controlroom.web.pages import client_ip, refusal_text, render_page

router = APIRouter()
MAX_UPLOAD = 1024 * 1024


def _show_id(request: Request) -> int | None:
    """The show named in the path (`/rooms/{room}/shows/{id}/script…`); None: the current one."""
    return request.path_params.get("show_id")


def _script_show(session: Session, room: str, show_id: int | None, now: datetime) -> Show:
    if show_id is None:
        return room_show(session, room, now)[1]
    room_row = room_by_slug(session, room)
    show = session.get(Show, show_id)
    if room_row is None or show is None or show.room_id != room_row.id:
        raise LookupError(f"no show {show_id} in room {room!r}")
    return show


def _base(room: str, show_id: int | None) -> str:
    return f"/rooms/{room}/script" if show_id is None else f"/rooms/{room}/shows/{show_id}/script"


async def _editor(request: Request, services: Services, room: str, *, errors: dict | None = None,
                  editing_index: int | None = None, form: dict | None = None, status_code: int = 200,
                  problems: list[str] | None = None) -> Response:
    show_id = _show_id(request)

    def read(session: Session) -> dict[str, Any]:
        show = _script_show(session, room, show_id, services.now())
        current = room_show(session, room, services.now())[1]
        return {"show": show, "script": load_script(session, show), "run": RunState.from_json(show.run),
                "is_current": current.id == show.id}

    try:
        data = await run_in_transaction(services.sessions, read)
    except ActionRefused as error:
        return render_page(request, "pages/not_found.html", status_code=404, what=refusal_text(request, services, error))
    except LookupError as error:
        return render_page(request, "pages/not_found.html", status_code=404, what=str(error))
    script: Script = data["script"]
    matcher, suggestions = await PUBLISHED.get(services.redis)
    starts = planned_starts(script)
    segments = [
        {
            "index": i, "segment": segment, "start_s": starts[i],
            "values": form if (form is not None and editing_index == i) else editing.segment_form_values(segment),
            "hits": check_script(segment.talk_points, matcher, suggestions),
        }
        for i, segment in enumerate(script.segments)
    ]
    return render_page(
        request, "pages/script.html", status_code=status_code, room=room, show=data["show"], script=script,
        run=data["run"], segments=segments, warnings=script_warnings(script), errors=errors or {},
        editing_index=editing_index, new_values=form if editing_index == -1 else None, problems=problems or [],
        first_movable=editing.first_movable(data["run"]), first_editable=editing.first_editable(data["run"]),
        templates=TEMPLATES, kinds=SEGMENT_KIND_NAMES, base=_base(room, show_id), is_current=data["is_current"],
        products=script.products, product_rows=editing.product_form_rows(script.products),
    )


async def _change(request: Request, services: Services, principal: Principal, room: str, action: str,
                  change: Callable[[Script, RunState], Script], detail: dict[str, Any]) -> None:
    show_id = _show_id(request)

    def work(session: Session, room_row) -> dict[str, Any]:
        show = _script_show(session, room, show_id, services.now())
        save_script(session, show, change(load_script(session, show), RunState.from_json(show.run)))
        return {"show": show.title, "show_id": show.id, **detail}

    await audited_room_change(services.projections, principal, room=room, action=f"script.{action}", change=work,
                              client_ip=client_ip(request), now=services.now(), publishes=(SHOW.name,))


def _done(request: Request, room: str) -> Response:
    base = _base(room, _show_id(request))
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": base})
    return RedirectResponse(base, status_code=303)


def _field_errors(error: ScriptImportError) -> dict[str, str]:
    return {(problem.column or "segment").split(".")[0].split("[")[0]: problem.message for problem in error.errors}


@router.get("/rooms/{room}/shows/{show_id:int}/script", response_class=HTMLResponse, include_in_schema=False)
@router.get("/rooms/{room}/script", response_class=HTMLResponse, include_in_schema=False)
async def script_page(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    return await _editor(request, services, room)


async def _segment_change(request: Request, services: Services, principal: Principal, room: str, index: int,
                          action: str, change: Callable[[Script, RunState, Any], Script]) -> Response:
    form = {name: str(value) for name, value in (await request.form()).items() if name != "csrftoken"}
    try:
        segment = editing.segment_from_form(form)
        await _change(request, services, principal, room, action, lambda s, r: change(s, r, segment),
                      {"segment": index + 1, "title": segment.title})
    except ScriptImportError as error:
        return await _editor(request, services, room, errors=_field_errors(error), editing_index=index, form=form,
                             status_code=422)
    except ActionRefused as error:
        return await _editor(request, services, room, problems=[refusal_text(request, services, error)], status_code=409)
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    return _done(request, room)


@router.post("/rooms/{room}/shows/{show_id:int}/script/segments", include_in_schema=False)
@router.post("/rooms/{room}/script/segments", include_in_schema=False)
async def add_segment(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    return await _segment_change(request, services, principal, room, -1, "add",
                                 lambda script, run, segment: editing.add_segment(script, run, segment))


@router.post("/rooms/{room}/shows/{show_id:int}/script/segments/{number}", include_in_schema=False)
@router.post("/rooms/{room}/script/segments/{number}", include_in_schema=False)
async def edit_segment(room: str, number: PathNumber, request: Request, services: Svc, principal: Driver) -> Response:
    return await _segment_change(request, services, principal, room, number - 1, "edit",
                                 lambda script, run, segment: editing.replace_segment(script, number - 1, segment, run))


async def _structural(request: Request, services: Services, principal: Principal, room: str, action: str,
                      change: Callable[[Script, RunState], Script], detail: dict) -> Response:
    try:
        await _change(request, services, principal, room, action, change, detail)
    except ActionRefused as error:
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=409)
        return await _editor(request, services, room, problems=[refusal_text(request, services, error)], status_code=409)
    except StaleDataError:
        moved = ActionRefused("the show moved meanwhile; try again")
        return JSONResponse({"detail": refusal_text(request, services, moved)}, status_code=409)
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    return _done(request, room)


@router.post("/rooms/{room}/shows/{show_id:int}/script/segments/{number}/duplicate", include_in_schema=False)
@router.post("/rooms/{room}/script/segments/{number}/duplicate", include_in_schema=False)
async def duplicate_segment(room: str, number: PathNumber, request: Request, services: Svc, principal: Driver) -> Response:
    return await _structural(request, services, principal, room, "duplicate",
                             lambda s, r: editing.duplicate_segment(s, r, number - 1), {"segment": number})


@router.post("/rooms/{room}/shows/{show_id:int}/script/segments/{number}/delete", include_in_schema=False)
@router.post("/rooms/{room}/script/segments/{number}/delete", include_in_schema=False)
async def delete_segment(room: str, number: PathNumber, request: Request, services: Svc, principal: Driver) -> Response:
    return await _structural(request, services, principal, room, "delete",
                             lambda s, r: editing.delete_segment(s, r, number - 1), {"segment": number})


@router.post("/rooms/{room}/shows/{show_id:int}/script/order", include_in_schema=False)
@router.post("/rooms/{room}/script/order", include_in_schema=False)
async def reorder(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    """order: the segment numbers (1-based) in their new order, comma separated."""
    raw = str((await request.form()).get("order", ""))
    try:
        order = [int(part) - 1 for part in raw.split(",") if part.strip()]
    except ValueError:
        refused = ActionRefused("order: “%(value)s” is not a list of segment numbers", value=raw)
        return JSONResponse({"detail": refusal_text(request, services, refused)}, status_code=422)
    return await _structural(request, services, principal, room, "reorder",
                             lambda s, r: editing.reorder(s, r, order), {"order": [i + 1 for i in order]})


@router.post("/rooms/{room}/shows/{show_id:int}/script/total", include_in_schema=False)
@router.post("/rooms/{room}/script/total", include_in_schema=False)
async def set_total(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    raw = str((await request.form()).get("total", "")).strip()
    try:
        total = parse_duration(raw) if raw else None
    except ValueError:
        refused = ActionRefused("total: “%(value)s” is not a duration (mm:ss)", value=raw)
        return await _editor(request, services, room, problems=[refusal_text(request, services, refused)],
                             status_code=422)
    return await _structural(request, services, principal, room, "total",
                             lambda s, r: replace(s, planned_total_s=total), {"total_s": total})


MAX_PRODUCT_ROWS = 200


@router.post("/rooms/{room}/shows/{show_id:int}/script/products", include_in_schema=False)
@router.post("/rooms/{room}/script/products", include_in_schema=False)
async def set_products(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    """The show's product list, the whole table at once (rows without a SKU dropped).
    Editable while the show runs: the stock typed is what the show started with."""
    form = await request.form()
    try:
        products = editing.products_from_form(form, min(MAX_PRODUCT_ROWS, int(form.get("rows", "0") or 0)))
    except (ScriptImportError, ValueError) as error:
        problems = str(error).splitlines() if isinstance(error, ScriptImportError) else [str(error)]
        return await _editor(request, services, room, problems=problems, status_code=422)
    return await _structural(request, services, principal, room, "products",
                             lambda s, r: replace(s, products=products), {"products": [p.sku for p in products]})


@router.post("/rooms/{room}/shows/{show_id:int}/script/template", include_in_schema=False)
@router.post("/rooms/{room}/script/template", include_in_schema=False)
async def apply_template(room: str, request: Request, services: Svc, principal: Driver) -> Response:
    key = str((await request.form()).get("template", ""))
    if key not in TEMPLATES:
        refused = ActionRefused("template: there is no template “%(template)s”", template=key)
        return await _editor(request, services, room, problems=[refusal_text(request, services, refused)],
                             status_code=422)
    return await _structural(
        request, services, principal, room, "template",
        lambda s, r: editing.replace_script(s, r, replace(s, segments=TEMPLATES[key][2]().segments)),
        {"template": key},
    )


@router.post("/rooms/{room}/shows/{show_id:int}/script/import", include_in_schema=False)
@router.post("/rooms/{room}/script/import", include_in_schema=False)
async def import_script(room: str, request: Request, services: Svc, principal: Driver,
                        file: UploadFile | None = None) -> Response:
    """A YAML or CSV file (by its name), sent by htmx with the CSRF token in a header."""
    if file is None or not file.filename:
        refused = ActionRefused("file: choose a .yaml or .csv file")
        return await _editor(request, services, room, problems=[refusal_text(request, services, refused)],
                             status_code=422)
    raw = await file.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        refused = ActionRefused("file: larger than 1 MB")
        return await _editor(request, services, room, problems=[refusal_text(request, services, refused)],
                             status_code=413)
    try:
        parsed = from_csv(raw) if file.filename.lower().endswith((".csv", ".tsv", ".txt")) else from_yaml(raw)
    except ScriptImportError as error:
        return await _editor(request, services, room, problems=str(error).splitlines(), status_code=422)
    return await _structural(
        request, services, principal, room, "import",
        # A CSV holds segments only: the show keeps its product list then.
        lambda s, r: editing.replace_script(s, r, Script(parsed.segments, parsed.planned_total_s or s.planned_total_s,
                                                         parsed.products or s.products)),
        {"file": file.filename, "segments": len(parsed.segments)},
    )


@router.get("/rooms/{room}/shows/{show_id:int}/script/export.{fmt}", include_in_schema=False)
@router.get("/rooms/{room}/script/export.{fmt}", include_in_schema=False)
async def export_script(room: str, fmt: str, request: Request, services: Svc, principal: Driver) -> Response:
    if fmt not in ("yaml", "csv"):
        return PlainTextResponse("export as .yaml or .csv\n", status_code=404)

    show_id = _show_id(request)

    def read(session: Session) -> tuple[str, Script]:
        show = _script_show(session, room, show_id, services.now())
        return show.title, load_script(session, show)

    try:
        title, script = await run_in_transaction(services.sessions, read)
    except ActionRefused as error:
        return PlainTextResponse(f"{refusal_text(request, services, error)}\n", status_code=404)
    except LookupError as error:
        return PlainTextResponse(f"{error}\n", status_code=404)
    body = to_yaml(script) if fmt == "yaml" else to_csv(script)
    media = "application/yaml; charset=utf-8" if fmt == "yaml" else "text/csv; charset=utf-8"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename=\"{room}-script.{fmt}\""})
