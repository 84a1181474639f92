"""A room's shows as people drive them: planning shows, the controller's run-of-show
actions, the show's targets, and messages to the host screen (a quick reply, a line
typed by the controller) with the host's acknowledgement. Thin: check, store, audit,
publish."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated
from zoneinfo import ZoneInfo

import orjson
import structlog
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from controlroom.audit.service import record
from controlroom.auth.deps import Driver, HostAck, HostByLink, Messenger, Now, PathNumber, Svc
from controlroom.auth.service import Principal
from controlroom.db.session import run_in_transaction
from controlroom.live.changes import audited_room_change
from controlroom.moderation.compliance import MAX_FLAGGED_LINE, check_script, correction_cue
from controlroom.moderation.live import PUBLISHED
from controlroom.rooms.models import Room
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services
from controlroom.shows.engine import ActionRefused
from controlroom.shows.models import HostMessage, Show
from controlroom.shows.runs import SHOW, act, room_show, save_script, start_show
from controlroom.shows.schedule import TARGETS, InvalidTarget, add_show, current_show, parse_targets, set_show_targets
from controlroom.shows.script import Script
from controlroom.shows.script_io import parse_duration
from controlroom.shows.service import HOST_MESSAGES, MessageRefused, send_host_message
from controlroom.shows.templates import TEMPLATES
from controlroom.web.pages import client_ip, refusal_text, render_page

log = structlog.get_logger(__name__)
router = APIRouter()
SOURCES = {"manual", "quick-reply"}
# Which show is current, where it stands and its targets move together.
SHOW_PROJECTIONS = (SHOW.name, TARGETS.name)


@router.post("/rooms/{room}/host-messages", include_in_schema=False)
async def message_host(
    room: str, request: Request, services: Svc, now: Now, principal: Messenger,
    text: Annotated[str, Form()] = "", source: Annotated[str, Form()] = "manual",
    urgent: Annotated[str, Form()] = "",
) -> Response:
    def send(session: Session, room_row: Room) -> dict:
        message = send_host_message(session, room=room_row, text=text, source=source if source in SOURCES else "manual",
                                    urgent=urgent in ("on", "true", "1"), by=principal.name, now=now)
        return {"message": message.id, "text": message.text, "source": message.source, "urgent": message.urgent}

    try:
        await audited_room_change(services.projections, principal, room=room, action="host.message", change=send,
                                  client_ip=client_ip(request), now=now, publishes=(HOST_MESSAGES.name,))
    except MessageRefused as error:
        return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=422)
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}", status_code=303)


@router.post("/rooms/{room}/compliance-flags", include_in_schema=False)
async def flag_line(
    room: str, request: Request, services: Svc, now: Now, principal: Messenger, line: Annotated[str, Form()] = "",
) -> Response:
    """SOP 15: staff flag a line said on air (typed, or a comment picked from the feed);
    the host gets an urgent correction cue with the neutral wording for each absolute
    term in it, which flashes until the host taps 收到."""
    line = line.strip()
    try:
        if not line:
            raise MessageRefused("line: type the line to correct, or pick a comment from the feed")
        if len(line) > MAX_FLAGGED_LINE:
            raise MessageRefused("line: at most %(max)s characters, got %(length)s", max=MAX_FLAGGED_LINE,
                                 length=len(line))
    except MessageRefused as error:
        return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=422)
    matcher, suggestions = await PUBLISHED.get(services.redis)
    hits = check_script(line, matcher, suggestions)
    cue = correction_cue(line, hits)

    def send(session: Session, room_row: Room) -> dict:
        message = send_host_message(session, room=room_row, text=cue, source="compliance", urgent=True,
                                    by=principal.name, now=now)
        return {"message": message.id, "line": line, "terms": [hit.term for hit in hits], "cue": cue}

    try:
        sent = await audited_room_change(services.projections, principal, room=room, action="host.compliance",
                                         change=send, client_ip=client_ip(request), now=now,
                                         publishes=(HOST_MESSAGES.name,))
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return JSONResponse(sent)


# --- the host acknowledges a message --------------------------------------------------------


@router.post("/host/messages/{message_id}/ack", include_in_schema=False)
async def ack_message(message_id: PathNumber, request: Request, services: Svc, now: Now, principal: HostAck) -> Response:
    """A host signed in with a password taps 收到."""
    return await _ack(request, services, principal, message_id, now)


@router.post("/host/{token}/messages/{message_id}/ack", include_in_schema=False)
async def ack_message_by_link(token: str, message_id: PathNumber, request: Request, services: Svc, now: Now,
                              principal: HostByLink) -> Response:
    """The host screen opened from its link taps 收到 (the only thing it can do)."""
    return await _ack(request, services, principal, message_id, now)


async def _ack(request: Request, services: Services, principal: Principal, message_id: int, now: datetime) -> Response:
    def ack(session: Session) -> str | None:
        message = session.get(HostMessage, message_id)
        room = session.get(Room, message.room_id) if message else None
        if message is None or room is None or not principal.can_see_room(room.slug):
            return None
        if message.acked_at is None:
            message.acked_at, message.acked_by = now, principal.name
            record(session, actor=principal.name, user_id=principal.user_id, action="host.message.ack", now=now,
                   room=room, ip=client_ip(request), detail={"message": message.id})
        return room.slug

    room = await run_in_transaction(services.sessions, ack)
    if room is None:
        return JSONResponse({"detail": f"no message {message_id} for this screen"}, status_code=404)
    await services.projections.publish(room, HOST_MESSAGES.name)
    return Response(status_code=204)


# --- the controller drives the show -----------------------------------------------------------


@router.post("/rooms/{room}/show/{action}", include_in_schema=False)
async def drive_show(room: str, action: str, request: Request, services: Svc, now: Now, principal: Driver) -> Response:
    """start, next, back, jump (segment), extend (seconds), skip, insert (title, kind,
    minutes), hold, resume, end, pull_interaction: pushed to every screen, audited."""
    form = await request.form()
    params = {name: str(value) for name, value in form.items() if name != "csrftoken"}

    seen: list[bytes] = []

    def change(session: Session, room_row: Room) -> dict:
        _, show = room_show(session, room, now)
        seen.append(_position(show))
        detail = act(session, show=show, action=action, now_ms=int(now.timestamp() * 1000), params=params)
        return {"show": show.title, **detail}

    for _attempt in range(CONCURRENT_RETRIES + 1):
        try:
            await audited_room_change(services.projections, principal, room=room, action=f"show.{action}",
                                      change=change, client_ip=client_ip(request), now=now, publishes=SHOW_PROJECTIONS)
            break
        except ActionRefused as error:
            return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=409)
        except LookupError as error:
            return JSONResponse({"detail": str(error)}, status_code=404)
        except StaleDataError:
            # Someone wrote the show meanwhile. A cue firing (the ticker) leaves the show
            # where it was, and the controller's action still means the same: apply it
            # again. If the show itself moved, the controller must look first.
            now_at = await run_in_transaction(services.sessions, lambda s: _position(room_show(s, room, now)[1]))
            if now_at != seen[-1]:
                return JSONResponse({"detail": refusal_text(request, services, MOVED_MEANWHILE)}, status_code=409)
    else:
        moving = ActionRefused("the show kept changing meanwhile; try again")
        return JSONResponse({"detail": refusal_text(request, services, moving)}, status_code=409)
    if action == "end":
        await services.show_ended(room, now)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}", status_code=303)


CONCURRENT_RETRIES = 2
MOVED_MEANWHILE = ActionRefused("the show moved meanwhile (someone else acted); look and try again")


def _position(show: Show) -> bytes:
    """Where the show stands, as a controller's action depends on it: its run without
    the cues fired (which is all the cue ticker changes)."""
    return orjson.dumps({key: value for key, value in (show.run or {}).items() if key != "fired"},
                        option=orjson.OPT_SORT_KEYS)


@router.post("/rooms/{room}/shows/{show_id}/start", include_in_schema=False)
async def start_planned_show(room: str, show_id: PathNumber, request: Request, services: Svc, now: Now,
                             principal: Driver) -> Response:
    """Start a planned show now — early, or while the screens still follow an earlier
    one. Its planned start moves to now when it was later. Refused (409) while another
    show of the room is live."""

    def change(session: Session, room_row: Room) -> dict:
        show = session.get(Show, show_id)
        if show is None or show.room_id != room_row.id:
            raise LookupError(f"no show {show_id} in room {room!r}")
        detail = start_show(session, room=room_row, show=show, now_ms=int(now.timestamp() * 1000))
        return {"show": show.title, "show_id": show.id, **detail}

    try:
        await audited_room_change(services.projections, principal, room=room, action="show.start", change=change,
                                  client_ip=client_ip(request), now=now, publishes=SHOW_PROJECTIONS)
    except ActionRefused as error:
        if request.headers.get("hx-request"):
            return JSONResponse({"detail": refusal_text(request, services, error)}, status_code=409)
        return await _shows_page(request, services, room, now, error=refusal_text(request, services, error),
                                 status_code=409)
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    except StaleDataError:
        return JSONResponse({"detail": refusal_text(request, services, MOVED_MEANWHILE)}, status_code=409)
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": f"/rooms/{room}"})
    return RedirectResponse(f"/rooms/{room}", status_code=303)


# --- a room's shows -------------------------------------------------------------------------


@router.get("/rooms/{room}/shows", include_in_schema=False)
async def shows_page(room: str, request: Request, services: Svc, principal: Driver, now: Now) -> Response:
    return await _shows_page(request, services, room, now)


async def _shows_page(request: Request, services: Services, room: str, now: datetime, *, error: str | None = None,
                      status_code: int = 200) -> Response:
    def read(session: Session) -> dict | None:
        room_row = room_by_slug(session, room)
        if room_row is None:
            return None
        current = current_show(session, room, now)
        return {
            "room_row": room_row, "current_id": current.id if current else None,
            "live_id": next((s.id for s in room_row.shows if s.status == "live"), None),
            "shows": [(s.id, s.title, s.planned_start, s.status, s.planned_total_s, s.rehearsal)
                      for s in reversed(room_row.shows)],
        }

    data = await run_in_transaction(services.sessions, read)
    if data is None:
        return render_page(request, "pages/not_found.html", status_code=404, what=room)
    return render_page(request, "pages/shows.html", status_code=status_code, room=room, error=error,
                       templates=TEMPLATES, **data)


@router.post("/rooms/{room}/shows", include_in_schema=False)
async def create_show(
    room: str, request: Request, services: Svc, now: Now, principal: Driver, title: Annotated[str, Form()] = "",
    planned_start: Annotated[str, Form()] = "", slot: Annotated[str, Form()] = "",
    template: Annotated[str, Form()] = "", rehearsal: Annotated[str, Form()] = "",
) -> Response:
    """A show planned in the room's time zone (stored in UTC), optionally from a template;
    a rehearsal (彩排) runs like a show and is kept apart from real ones."""

    def create(session: Session) -> None:
        room_row = room_by_slug(session, room)
        if room_row is None:
            raise LookupError(f"room {room!r} not found")
        if not title.strip():
            raise ActionRefused("title: the show needs a title")
        try:
            local = datetime.fromisoformat(planned_start.strip())
        except ValueError:
            raise ActionRefused("planned_start: “%(value)s” is not a date and time (YYYY-MM-DDTHH:MM)",
                                value=planned_start) from None
        start = (local if local.tzinfo else local.replace(tzinfo=ZoneInfo(room_row.timezone))).astimezone(timezone.utc)
        try:
            total = parse_duration(slot) if slot.strip() else None
        except ValueError:
            raise ActionRefused("slot: “%(value)s” is not a duration (mm:ss)", value=slot.strip()) from None
        if template and template not in TEMPLATES:
            raise ActionRefused("template: there is no template “%(template)s”", template=template)
        show = add_show(session, room=room_row, title=title.strip()[:200], planned_start=start)
        show.rehearsal = rehearsal == "on"
        script = TEMPLATES[template][2]() if template else Script()
        save_script(session, show, Script(script.segments, planned_total_s=total))
        record(session, actor=principal.name, user_id=principal.user_id, action="show.create", now=now,
               room=room_row, ip=client_ip(request),
               detail={"show": show.title, "planned_start": start.isoformat(), "template": template or None,
                       "rehearsal": show.rehearsal})

    try:
        await run_in_transaction(services.sessions, create)
    except ActionRefused as error:
        return await _shows_page(request, services, room, now, error=refusal_text(request, services, error),
                                 status_code=422)
    except LookupError as error:
        return render_page(request, "pages/not_found.html", status_code=404, what=str(error))
    await services.projections.publish(room, *SHOW_PROJECTIONS)
    return RedirectResponse(f"/rooms/{room}/shows", status_code=303)


# --- the current show's targets --------------------------------------------------------------


@router.post("/rooms/{room}/targets", include_in_schema=False)
async def set_targets(
    room: str, request: Request, services: Svc, now: Now, principal: Driver,
    interaction_rate: Annotated[str, Form()] = "", conversion_rate: Annotated[str, Form()] = "",
    like_rate: Annotated[str, Form()] = "", comments: Annotated[str, Form()] = "",
) -> Response:
    """The current show's targets. Rates are typed in percent."""
    wanted: dict[str, str] = {
        "interaction_rate": interaction_rate, "conversion_rate": conversion_rate, "like_rate": like_rate,
        "comments": comments,
    }

    def save(session: Session) -> dict:
        show = current_show(session, room, now)
        if show is None:
            raise InvalidTarget("show", "this room has no show yet")
        parsed = parse_targets(wanted)
        targets = set_show_targets(session, show=show, targets=parsed)
        record(session, actor=principal.name, user_id=principal.user_id, action="show.targets", now=now,
               room=show.room, ip=client_ip(request), detail={"show": show.title, "targets": targets})
        return targets

    error = None
    try:
        await run_in_transaction(services.sessions, save)
        await services.projections.publish(room, TARGETS.name)
    except InvalidTarget as exc:
        error = f"{exc.field}: {exc.message}"
    if not request.headers.get("hx-request"):
        return RedirectResponse(f"/rooms/{room}", status_code=303)
    view = await services.room_view(room)
    return render_page(request, "partials/_targets.html", status_code=422 if error else 200,
                       room=room, targets=view.targets, error=error, saved=error is None)
