"""Playbooks (definitions) and their runs (instances), with a timeline of rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controlroom.db.base import Base, Timestamped, UTCDateTime, utcnow


class PlaybookRow(Timestamped, Base):
    __tablename__ = "playbooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict] = mapped_column(JSON)  # PlaybookDefinition as JSON
    builtin: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class PlaybookRunRow(Base):
    """One run of a playbook in a room. The definition is copied: later edits do not
    rewrite what the team followed."""

    __tablename__ = "playbook_runs"
    __table_args__ = (Index("ix_playbook_runs_room_status", "room_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    show_id: Mapped[int | None] = mapped_column(ForeignKey("shows.id", ondelete="SET NULL"), nullable=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True, index=True)
    playbook_key: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict] = mapped_column(JSON)
    state: Mapped[dict] = mapped_column(JSON)  # controlroom/playbooks/runner.py PlaybookRun
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[str] = mapped_column(String(64))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    events: Mapped[list["PlaybookEvent"]] = relationship(order_by="PlaybookEvent.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class PlaybookEvent(Base):
    """The run's timeline: started, step done (on time or late), note, cue sent, ended."""

    __tablename__ = "playbook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("playbook_runs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[int | None] = mapped_column(nullable=True)
    text: Mapped[str] = mapped_column(String(1000), default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    actor: Mapped[str] = mapped_column(String(64), default="")
