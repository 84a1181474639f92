"""Rooms: SQL is the record; Redis holds the projection ingest and workers read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.bus.keys import ROOM_SLUG
from controlroom.rooms.models import Room


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


def room_by_slug(session: Session, slug: str) -> Room | None:
    return session.scalar(select(Room).where(Room.slug == slug))
