"""A show's review as computed once (when its recording is finished, or when someone
rebuilds it), served from here: opening a review never replays a show's events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
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
