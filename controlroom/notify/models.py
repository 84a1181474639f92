"""Where a room's alerts go besides the screens: chat robots and webhooks, and what was
delivered to each (the delivery log admins and tech staff read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, UTCDateTime

# What a channel may be told about.
EVENTS = ("fired", "escalated", "resolved", "playbook_started", "step_late")
LEVELS = ("red", "yellow", "blue")


class NotifyChannel(Base):
    __tablename__ = "notify_channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # feishu | dingtalk | wecom | webhook
    name: Mapped[str] = mapped_column(String(100))
    # The robot's address and signing secret, encrypted with the installation's secret
    # key (controlroom/notify/secrets.py): both let anyone post into the team's chat.
    url_sealed: Mapped[str] = mapped_column(Text)
    secret_sealed: Mapped[str] = mapped_column(Text, default="")
    # What people see of them again: never the whole.
    url_hint: Mapped[str] = mapped_column(String(120))
    secret_hint: Mapped[str] = mapped_column(String(16), default="")
    levels: Mapped[list] = mapped_column(JSON)
    events: Mapped[list] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NotifyDelivery(Base):
    """One message to a channel (several notices batched when the robot's rate limit
    asks for it), with what came of each attempt."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (Index("ix_notify_deliveries_channel_at", "channel_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("notify_channels.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # sent | retrying | failed
    attempt: Mapped[int] = mapped_column(default=1)
    notices: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(String(300), default="")
