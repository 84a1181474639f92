"""A show's review as computed once (when its recording is finished, or when someone
rebuilds it), served from here: opening a review never replays a show's events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from controlroom.db.base import Base, UTCDateTime


class ShowReview(Base):
    __tablename__ = "show_reviews"

    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Events the review was computed from (the recording's count).
    events: Mapped[int] = mapped_column()
    # The headline numbers alone, for the reviews index and the next shows' comparisons.
    headline: Mapped[dict] = mapped_column(JSON)
    # The whole review (controlroom/reports/review.py build_review, with its context).
    body: Mapped[dict] = mapped_column(JSON)


class ReviewItem(Base):
    """What the review meeting wrote down beside the numbers: a problem (what went wrong)
    or an action item (what to change), optionally about a segment or a product. Open
    action items show in the script editor of the room's later shows until ticked."""

    __tablename__ = "review_items"
    __table_args__ = (Index("ix_review_items_room_done", "room_id", "done_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # problem | action
    text: Mapped[str] = mapped_column(String(500))
    # The segment (0-based, of the reviewed show's script) or product the item is about.
    segment_index: Mapped[int | None] = mapped_column(nullable=True)
    segment_title: Mapped[str] = mapped_column(String(200), default="")
    sku: Mapped[str] = mapped_column(String(64), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_by: Mapped[str] = mapped_column(String(64), default="")
