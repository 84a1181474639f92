"""Messages to the host screen: sent by people who may message the host, kept in SQL,
projected to Redis for the screens."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from controlroom.i18n.refusal import Refusal
from controlroom.live.projections import declare
from controlroom.rooms.models import Room
from controlroom.shows.schedule import current_show
from controlroom.shows.models import HostMessage

MAX_MESSAGE = 300
# The host screen shows the latest few messages of the last quarter hour.
SHOWN_MESSAGES = 5
SHOWN_FOR = timedelta(minutes=15)


class MessageRefused(Refusal):
    """Why a message to the host screen is not sent (said in the reader's language)."""


def send_host_message(
    session: Session, *, room: Room, text: str, source: str, by: str, now: datetime, urgent: bool = False
) -> HostMessage:
    text = text.strip()
    if not text:
        raise MessageRefused("text: the message is empty")
    if len(text) > MAX_MESSAGE:
        raise MessageRefused("text: at most %(max)s characters, got %(length)s", max=MAX_MESSAGE, length=len(text))
    show = current_show(session, room.slug, now)
    message = HostMessage(room_id=room.id, show_id=show.id if show else None, text=text, source=source,
                          urgent=urgent, sent_by=by, sent_at=now)
    session.add(message)
    session.flush()
    return message


def host_messages_projection(session: Session, *, room_id: int, now: datetime) -> list[dict[str, Any]]:
    # Recent ones, and urgent ones the host has not acknowledged however old.
    messages = session.scalars(
        select(HostMessage).where(
            HostMessage.room_id == room_id,
            or_(HostMessage.sent_at >= now - SHOWN_FOR, and_(HostMessage.urgent, HostMessage.acked_at.is_(None))),
        )
        .order_by(HostMessage.sent_at.desc(), HostMessage.id.desc()).limit(SHOWN_MESSAGES)
    )
    return [
        {"id": m.id, "text": m.text, "source": m.source, "sent_by": m.sent_by, "urgent": m.urgent,
         "sent_at": int(m.sent_at.timestamp() * 1000),
         "acked_at": int(m.acked_at.timestamp() * 1000) if m.acked_at else None, "acked_by": m.acked_by}
        for m in messages
    ]


HOST_MESSAGES = declare(
    "host-messages", default=[],
    build=lambda session, room, now: host_messages_projection(session, room_id=room.id, now=now),
)
