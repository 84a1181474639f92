"""Recording an action in the audit log. Adds and flushes but never commits: the caller
owns the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from controlroom.audit.models import AuditEntry
from controlroom.rooms.models import Room


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    now: datetime,
    user_id: int | None = None,
    room: Room | None = None,
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    entry = AuditEntry(
        at=now, actor=actor, user_id=user_id, room_id=room.id if room else None, action=action,
        detail=detail or {}, ip=ip[:64],
    )
    session.add(entry)
    session.flush()
    return entry
