"""Rooms: a live room on a platform (its shows are in controlroom/shows/models.py)."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, Timestamped


class Room(Timestamped, Base):
    """A live room on a platform; one installation watches many. Its shows are
    `room.shows` (declared with Show, which knows its room)."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32), default="generic")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
