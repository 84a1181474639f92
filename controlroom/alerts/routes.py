"""People acting on alerts: acknowledge, resolve, silence. Thin: check, change SQL,
write the audit row, publish the room's alerts so every screen updates at once."""

from __future__ import annotations

from typing import Annotated, Any, Callable

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from controlroom.alerts.models import Alert
from controlroom.alerts.service import (
    ALERTS,
    AlertActionRefused,
    act_on_alert,
    cancel_silence,
    create_silence,
)
from controlroom.auth.deps import CanAck, CanManage, Dashboard, PathNumber, Svc
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.live.changes import audited_room_change
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.web.answers import ROOM_API, json_list
from controlroom.web.pages import client_ip, refusal_text, render_page

router = APIRouter()


def _refused(status: int, message: str) -> Response:
    return JSONResponse({"detail": message}, status_code=status)


async def _act(
    request: Request, services: Services, principal: Principal, room: str, action: str,
    change: Callable[[Session, Room], dict[str, Any]],
) -> Response:
    """Run one change in a transaction with its audit row, then push the room's alerts."""
    try:
        await audited_room_change(services.projections, principal, room=room, action=action, change=change,
                                  client_ip=client_ip(request), now=services.now(), publishes=(ALERTS.name,))
    except LookupError as error:
        return _refused(404, str(error).strip("'\""))
    except AlertActionRefused as error:
        return _refused(409, refusal_text(request, services, error))
    except StaleDataError:
        changed = AlertActionRefused("the alert changed meanwhile (the engine or someone else moved it); look again")
        return _refused(409, refusal_text(request, services, changed))
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}", status_code=303)


@router.get("/rooms/{room}/alerts/{alert_id}", response_class=HTMLResponse, include_in_schema=False)
async def alert_page(room: str, alert_id: PathNumber, request: Request, services: Svc, principal: CanAck,
                     s: str = "") -> Response:
    """Where a chat message's link lands (after sign-in): the alert, to acknowledge it.
    The link is signed for this alert; anything else is not found."""
    if not services.signer.alert_link_matches(s, room, alert_id):
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} #{alert_id}")

    def read(session: Session) -> dict | None:
        room_row = room_by_slug(session, room)
        alert = session.get(Alert, alert_id)
        if room_row is None or alert is None or alert.room_id != room_row.id:
            return None
        return {"id": alert.id, "name": alert.name, "name_en": alert.name_en, "level": alert.level,
                "state": alert.state, "fired_at": alert.fired_at, "acked_at": alert.acked_at, "acked_by": alert.acked_by,
                "value": alert.value, "advice": alert.advice, "playbook": alert.playbook, "room_name": room_row.name}

    alert = await run_in_transaction(services.sessions, read)
    if alert is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=f"{room} #{alert_id}")
    return render_page(request, "pages/alert.html", room=room, alert=alert)


@router.post("/rooms/{room}/alerts/{alert_id}/ack", include_in_schema=False)
async def acknowledge(room: str, alert_id: PathNumber, request: Request, services: Svc, principal: CanAck) -> Response:
    return await _move_alert(request, services, principal, room, alert_id, "acknowledge")


@router.post("/rooms/{room}/alerts/{alert_id}/resolve", include_in_schema=False)
async def resolve(room: str, alert_id: PathNumber, request: Request, services: Svc, principal: CanManage) -> Response:
    return await _move_alert(request, services, principal, room, alert_id, "resolve")


async def _move_alert(
    request: Request, services: Services, principal: Principal, room: str, alert_id: int, action: str
) -> Response:
    def change(session: Session, room_row: Room) -> dict:
        alert = act_on_alert(session, room=room_row, alert_id=alert_id, action=action, by=principal.name, now=services.now())
        return {"alert": alert.id, "rule": alert.rule_key, "level": alert.level}

    return await _act(request, services, principal, room, f"alert.{action}", change)


@router.post("/rooms/{room}/silences", include_in_schema=False)
async def silence(
    room: str, request: Request, services: Svc, principal: CanManage,
    minutes: Annotated[str, Form()] = "", rule_key: Annotated[str, Form()] = "",
    labels: Annotated[str, Form()] = "", comment: Annotated[str, Form()] = "",
) -> Response:
    """Mute alerts of a rule (or every rule) whose labels include `labels` (a=b,c=d)."""
    if not minutes.strip().isdigit():
        refused = AlertActionRefused("minutes: “%(value)s” is not a whole number", value=minutes)
        return _refused(422, refusal_text(request, services, refused))
    matchers = {}
    for part in filter(None, (p.strip() for p in labels.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            refused = AlertActionRefused("labels: “%(value)s” is not name=value", value=part)
            return _refused(422, refusal_text(request, services, refused))
        matchers[name.strip()] = value.strip()

    def change(session: Session, room_row: Room) -> dict:
        made = create_silence(
            session, room=room_row, rule_key=rule_key.strip() or None, labels=matchers, minutes=int(minutes),
            comment=comment.strip(), by=principal.name, now=services.now(),
        )
        return {"silence": made.id, "rule": made.rule_key, "labels": matchers, "minutes": int(minutes),
                "comment": made.comment}

    return await _act(request, services, principal, room, "alert.silence", change)


@router.post("/rooms/{room}/silences/{silence_id}/cancel", include_in_schema=False)
async def end_silence(room: str, silence_id: PathNumber, request: Request, services: Svc, principal: CanManage) -> Response:
    def change(session: Session, room_row: Room) -> dict:
        ended = cancel_silence(session, room=room_row, silence_id=silence_id, by=principal.name, now=services.now())
        return {"silence": ended.id}

    return await _act(request, services, principal, room, "alert.unsilence", change)


@router.get("/api/rooms/{room}/alerts", tags=["alerts"], summary="The room's alerts with every transition",
            responses={**json_list("Newest first, each with its transitions"), **ROOM_API})
async def alert_history(room: str, services: Svc, principal: Dashboard, limit: int = 100) -> Response:
    def read(session: Session) -> list[dict] | None:
        room_row = room_by_slug(session, room)
        if room_row is None or not principal.can_see_room(room):
            return None
        alerts = session.scalars(
            select(Alert).where(Alert.room_id == room_row.id).options(selectinload(Alert.transitions))
            .order_by(Alert.id.desc()).limit(max(1, min(limit, 1000)))
        )
        return [
            {
                "id": alert.id, "rule": alert.rule_key, "level": alert.level, "state": alert.state,
                "labels": alert.labels, "value": alert.value, "reference": alert.reference,
                "muted_reason": alert.muted_reason,
                "escalated_at": alert.escalated_at.isoformat() if alert.escalated_at else None,
                "transitions": [
                    {"at": t.at.isoformat(), "event": t.event, "from": t.from_state, "reason": t.reason,
                     "actor": t.actor}
                    for t in alert.transitions
                ],
            }
            for alert in alerts
        ]

    rows = await run_in_transaction(services.sessions, read)
    if rows is None:
        return _refused(404, f"room {room!r} not found")
    return Response(orjson.dumps(rows), media_type="application/json")
