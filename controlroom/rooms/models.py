"""Rooms: a live room on a platform (its shows are in controlroom/shows/models.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controlroom.db.base import Base, Timestamped

if TYPE_CHECKING:
    from controlroom.shows.models import Show


class Room(Timestamped, Base):
    """A live room on a platform; one installation watches many."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32), default="generic")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")

    shows: Mapped[list[Show]] = relationship(back_populates="room", order_by="Show.planned_start")
