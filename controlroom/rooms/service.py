"""Rooms: SQL is the record; Redis holds the projection ingest and workers read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.bus.keys import ROOM_SLUG
from controlroom.rooms.models import Room, Show


class InvalidRoomSlug(ValueError):
    pass


def get_or_create_room(session: Session, *, slug: str, name: str, timezone: str) -> Room:
    if not ROOM_SLUG.match(slug):
        raise InvalidRoomSlug(
            f"room slug {slug!r} must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit"
        )
    room = session.scalar(select(Room).where(Room.slug == slug))
    if room is None:
        room = Room(slug=slug, name=name, timezone=timezone)
        session.add(room)
        session.flush()
    return room


def add_show(session: Session, *, room: Room, title: str, planned_start: datetime, status: str = "scheduled") -> Show:
    show = Show(room=room, title=title, planned_start=planned_start, status=status)
    session.add(show)
    session.flush()
    return show


def all_rooms(session: Session) -> list[Room]:
    return list(session.scalars(select(Room).order_by(Room.slug)))
