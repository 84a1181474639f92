"""Messages to the host screen (a quick reply pushed from the hot questions, a line
typed by the controller). Thin: check, store, audit, push."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from controlroom.auth.deps import Requires
from controlroom.auth.permissions import Permission
from controlroom.auth.service import Principal, record
from controlroom.db.base import utcnow
from controlroom.db.session import run_in_transaction
from controlroom.rooms.service import room_by_slug
from controlroom.services import Services, get_services
from controlroom.shows.service import MessageRefused, publish_host_messages, send_host_message
from controlroom.web.pages import client_ip

router = APIRouter()
Svc = Annotated[Services, Depends(get_services)]
Messenger = Annotated[Principal, Depends(Requires(Permission.MESSAGE_HOST))]
SOURCES = {"manual", "quick-reply"}


@router.post("/rooms/{room}/host-messages", include_in_schema=False)
async def message_host(
    room: str, request: Request, services: Svc, principal: Messenger,
    text: Annotated[str, Form()] = "", source: Annotated[str, Form()] = "manual",
) -> Response:
    now = utcnow()

    def send(session: Session) -> None:
        room_row = room_by_slug(session, room)
        if room_row is None:
            raise LookupError(f"room {room!r} not found")
        message = send_host_message(session, room=room_row, text=text, source=source if source in SOURCES else "manual",
                                    by=principal.name, now=now)
        record(session, actor=principal.name, user_id=principal.user_id, action="host.message", now=now,
               room=room_row, ip=client_ip(request), detail={"message": message.id, "text": message.text,
                                                             "source": message.source})

    try:
        await run_in_transaction(services.sessions, send)
    except MessageRefused as error:
        return JSONResponse({"detail": str(error)}, status_code=422)
    except LookupError as error:
        return JSONResponse({"detail": str(error)}, status_code=404)
    await publish_host_messages(services.redis, services.sessions, room=room)
    if request.headers.get("hx-request"):
        return Response(status_code=204)
    return RedirectResponse(f"/rooms/{room}", status_code=303)
