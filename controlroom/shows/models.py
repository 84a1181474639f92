"""What the host screen is told during a show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, UTCDateTime, utcnow


class HostMessage(Base):
    """A message pushed to the host's screen (a quick reply, a cue typed by the
    controller), kept for the review."""

    __tablename__ = "host_messages"
    __table_args__ = (Index("ix_host_messages_room_sent", "room_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    show_id: Mapped[int | None] = mapped_column(ForeignKey("shows.id", ondelete="SET NULL"), nullable=True)
    text: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(32), default="manual")  # manual | quick-reply
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acked_by: Mapped[str] = mapped_column(String(64), default="")
