from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, UTCDateTime


class RoomMinute(Base):
    """A room's numbers for one minute, archived from the live state for charts and the
    post-show review; the live state keeps only the last day."""

    __tablename__ = "room_minutes"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    minute_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    online: Mapped[int] = mapped_column(Integer, default=0)  # last reading of the minute
    comments: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(BigInteger, default=0)
    gmv_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    enters: Mapped[int] = mapped_column(Integer, default=0)
    orders_paid: Mapped[int] = mapped_column(Integer, default=0)
    follows: Mapped[int] = mapped_column(Integer, default=0)
    # Distinct people of the minute (HyperLogLog estimates): per-minute rates for the
    # rules' baselines and the review. NULL: not counted (the minute's keys expired).
    viewers_distinct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    interacting_distinct: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payers_distinct: Mapped[int | None] = mapped_column(Integer, nullable=True)
