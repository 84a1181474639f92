"""Alerts (instances of rules: controlroom/rules/models.py), with every change of an alert as a row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from controlroom.db.base import Base, UTCDateTime, utcnow
from controlroom.rooms.models import Room


class Alert(Base):
    """One firing of a rule in a room, from pending to resolved. What the rule said at
    the time (name, level, advice) is copied, so later edits do not rewrite history."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_room_state", "room_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    show_id: Mapped[int | None] = mapped_column(ForeignKey("shows.id", ondelete="SET NULL"), nullable=True)
    rule_key: Mapped[str] = mapped_column(String(64))
    # rule + room + labels: at most one open alert per fingerprint
    fingerprint: Mapped[str] = mapped_column(String(300), index=True)
    level: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    group: Mapped[str] = mapped_column(String(32), default="general")
    labels: Mapped[dict] = mapped_column(JSON, default=dict)
    advice: Mapped[str] = mapped_column(String(500), default="")
    playbook: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cue: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acked_by: Mapped[str] = mapped_column(String(64), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(64), default="")
    clear_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    loud_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    muted_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    reference: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The engine and people change alerts concurrently: a stale write fails, not wins.
    version: Mapped[int] = mapped_column(Integer, default=1)

    room: Mapped[Room] = relationship()
    transitions: Mapped[list["AlertTransition"]] = relationship(
        back_populates="alert", order_by="AlertTransition.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class AlertTransition(Base):
    __tablename__ = "alert_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    event: Mapped[str] = mapped_column(String(16))  # a state, or renotified/escalated/muted/unmuted
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str] = mapped_column(String(300), default="")
    actor: Mapped[str] = mapped_column(String(64), default="")  # "" for the engine

    alert: Mapped[Alert] = relationship(back_populates="transitions")


class Silence(Base):
    """Mute matching alerts for a while (a known issue being handled, a planned test)."""

    __tablename__ = "silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), nullable=True, index=True)
    rule_key: Mapped[str | None] = mapped_column(String(64), nullable=True)  # None: any rule
    labels: Mapped[dict] = mapped_column(JSON, default=dict)  # all must match
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_by: Mapped[str] = mapped_column(String(64), default="")

    room: Mapped[Room | None] = relationship()
