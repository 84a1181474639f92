"""Playbooks: started from the tech screen or from an alert, steps ticked, notes, abort
and complete — each audited and pushed to every screen of the room; definitions edited
as YAML by admins."""

from __future__ import annotations

from typing import Annotated, Any, Callable

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from controlroom.audit.service import record
from controlroom.auth.deps import Admin, Dashboard, PathNumber, Runner, Starter, Svc
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.live.changes import audited_room_change
from controlroom.playbooks import service
from controlroom.playbooks.encoder import perform_due
from controlroom.playbooks.models import PlaybookRow, PlaybookRunRow
from controlroom.playbooks.runner import RunRefused
from controlroom.rooms.models import Room
from controlroom.bus.notices import post_notices
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.shows.service import HOST_MESSAGES
from controlroom.web.answers import ROOM_API, json_list
from controlroom.web.pages import client_ip, refusal_text, render_page

router = APIRouter()


async def _act(request: Request, services: Services, principal: Principal, room: str, action: str,
               change: Callable[[Session, Room], dict[str, Any]]) -> Response:
    try:
        # Every screen: the run (tech, control room), its cues (host), the linked alert
        # (a run started from an alert stops its re-notifying).
        await audited_room_change(services.projections, principal, room=room, action=action, change=change,
                                  client_ip=client_ip(request), now=services.now(),
                                  publishes=(service.PLAYBOOKS.name, HOST_MESSAGES.name, "alerts"))
    except RunRefused as error:
        return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=409)
    except LookupError as error:
        return JSONResponse({"detail": str(error).strip("'\"")}, status_code=404)
    except StaleDataError:
        changed = RunRefused("the playbook changed meanwhile; look again")
        return JSONResponse({"detail": refusal_text(request, services, changed)}, status_code=409)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}/tech", status_code=303)


@router.post("/rooms/{room}/playbooks/{key}/start", include_in_schema=False)
async def start(room: str, key: str, request: Request, services: Svc, principal: Starter,
                alert_id: Annotated[str, Form()] = "") -> Response:
    started: list[dict] = []
    encoder_due: list[int] = []
    run_ids: list[int] = []

    def change(session: Session, room_row: Room) -> dict:
        alert = int(alert_id) if alert_id.strip().isdigit() else None
        run = service.start_run(session, room=room_row, key=key, by=principal.name, now=services.now(), alert_id=alert,
                                encoder_due=encoder_due)
        run_ids[:] = [run.id]
        definition = run.definition
        started[:] = [{"room": room, "alert_id": alert, "event": "playbook_started", "level": definition["level"],
                       "rule": key, "name": definition["name"], "name_en": definition.get("name_en") or "",
                       "value": None, "playbook": key, "advice": principal.name, "at": services.clock.now_ms()}]
        return {"playbook": key, "run": run.id, "alert": alert}

    answer = await _act(request, services, principal, room, "playbook.start", change)
    if answer.status_code < 400 and started:
        await post_notices(services.redis, started)  # the team's chats hear of it too
        perform_due(services, room, run_ids[0], encoder_due, by=principal.name)
    return answer


@router.post("/rooms/{room}/playbook-runs/{run_id}/steps/{number}/done", include_in_schema=False)
async def tick(room: str, run_id: PathNumber, number: PathNumber, request: Request, services: Svc, principal: Runner) -> Response:
    encoder_due: list[int] = []

    def change(session: Session, room_row: Room) -> dict:
        late = service.tick_step(session, room=room_row, run_id=run_id, number=number, by=principal.name,
                                 now=services.now(), encoder_due=encoder_due)
        return {"run": run_id, "step": number, "late": late}

    answer = await _act(request, services, principal, room, "playbook.step", change)
    if answer.status_code < 400:
        perform_due(services, room, run_id, encoder_due, by=principal.name)
    return answer


@router.post("/rooms/{room}/playbook-runs/{run_id}/notes", include_in_schema=False)
async def note(room: str, run_id: PathNumber, request: Request, services: Svc, principal: Runner,
               text: Annotated[str, Form()] = "") -> Response:
    def change(session: Session, room_row: Room) -> dict:
        service.add_note(session, room=room_row, run_id=run_id, text=text, by=principal.name, now=services.now())
        return {"run": run_id, "note": text.strip()}

    return await _act(request, services, principal, room, "playbook.note", change)


@router.post("/rooms/{room}/playbook-runs/{run_id}/close", include_in_schema=False)
async def close(room: str, run_id: PathNumber, request: Request, services: Svc, principal: Runner,
                status: Annotated[str, Form()] = "") -> Response:
    def change(session: Session, room_row: Room) -> dict:
        late = service.close_run(session, room=room_row, run_id=run_id, status=status, by=principal.name, now=services.now())
        return {"run": run_id, "status": status, "late_steps": late}

    return await _act(request, services, principal, room, "playbook.close", change)


@router.get("/api/rooms/{room}/playbook-runs", tags=["playbooks"], summary="The room's playbook runs with timelines",
            responses={**json_list("Newest first, each with its steps and timeline"), **ROOM_API})
async def run_timelines(room: str, services: Svc, principal: Dashboard, limit: int = 50) -> Response:
    def read(session: Session) -> list[dict] | None:
        room_row = room_by_slug(session, room)
        if room_row is None:
            return None
        runs = session.scalars(select(PlaybookRunRow).where(PlaybookRunRow.room_id == room_row.id)
                               .options(selectinload(PlaybookRunRow.events))
                               .order_by(PlaybookRunRow.id.desc()).limit(max(1, min(limit, 500))))
        return [
            {"id": r.id, "playbook": r.playbook_key, "status": r.status, "alert": r.alert_id,
             "started_at": r.started_at.isoformat(), "started_by": r.started_by,
             "ended_at": r.ended_at.isoformat() if r.ended_at else None,
             "late_steps": sum(1 for e in r.events if e.kind == "step_done" and e.late),
             "timeline": [{"at": e.at.isoformat(), "kind": e.kind, "step": e.step, "text": e.text, "late": e.late,
                           "by": e.actor} for e in r.events]}
            for r in runs
        ]

    rows = await run_in_transaction(services.sessions, read)
    if rows is None:
        return JSONResponse({"detail": f"room {room!r} not found"}, status_code=404)
    return Response(orjson.dumps(rows), media_type="application/json")


# --- definitions -----------------------------------------------------------------------------


def _items(session: Session) -> list[tuple]:
    rows = session.scalars(select(PlaybookRow).order_by(PlaybookRow.id))
    return [(row.key, service.playbook_yaml(d), d) for row in rows
            for d in [service.PlaybookDefinition.model_validate(row.definition)]]


@router.get("/playbooks", response_class=HTMLResponse, include_in_schema=False)
async def playbooks_page(request: Request, services: Svc, principal: Admin) -> Response:
    items = await run_in_transaction(services.sessions, _items)
    return render_page(request, "pages/playbooks.html", items=items, errors={}, texts={})


@router.post("/playbooks/{key}", include_in_schema=False)
async def save_playbook(key: str, request: Request, services: Svc, principal: Admin,
                        text: Annotated[str, Form()] = "") -> Response:
    now = services.now()

    def save(session: Session) -> None:
        definition = service.save_playbook(session, key=None if key == "new" else key, text=text, by=principal.name)
        record(session, actor=principal.name, user_id=principal.user_id, action="playbook.edit", now=now,
               ip=client_ip(request), detail={"playbook": definition.key})

    try:
        await run_in_transaction(services.sessions, save)
    except service.PlaybookInvalid as error:
        items = await run_in_transaction(services.sessions, _items)
        return render_page(request, "pages/playbooks.html", status_code=422, items=items,
                           errors={key: str(error).splitlines()}, texts={key: text})
    await services.projections.publish(None, service.CATALOGUE.name)
    return RedirectResponse(f"/playbooks#playbook-{key}", status_code=303)
