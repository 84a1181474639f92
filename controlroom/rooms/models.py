from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controlroom.db.base import Base, Timestamped, UTCDateTime


class Room(Timestamped, Base):
    """A live room on a platform; one installation watches many."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(32), default="generic")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")

    shows: Mapped[list["Show"]] = relationship(back_populates="room", order_by="Show.planned_start")


class Show(Timestamped, Base):
    """One broadcast of a room, with its planned start (stored in UTC)."""

    __tablename__ = "shows"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    planned_start: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | live | ended
    # Targets the team set for this show (interaction_rate, conversion_rate, comments);
    # unset ones fall back to the defaults of controlroom/metrics/view.py.
    targets: Mapped[dict] = mapped_column(JSON, default=dict)
    # A rehearsal (彩排), usually fed by a replay: runs like a show, kept apart from real
    # shows in baselines and reports.
    rehearsal: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The slot the show has (its planned end), in seconds; None: open-ended.
    planned_total_s: Mapped[int | None] = mapped_column(nullable=True)
    # Where the show stands (controlroom/shows/engine.py RunState, as JSON).
    run: Mapped[dict] = mapped_column(JSON, default=dict, server_default=text("'{}'"))
    # The cue engine and the controller both move the run: a stale write fails, not wins.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    room: Mapped[Room] = relationship(back_populates="shows")
