"""Shows of a room, and what happens in them: the host screen's messages, segments, cues."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from controlroom.db.base import Base, Timestamped, UTCDateTime, utcnow
from controlroom.rooms.models import Room



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
    # The products the show sells (controlroom/shows/script.py Product, as JSON rows).
    products: Mapped[list] = mapped_column(JSON, default=list, server_default=text("'[]'"))
    # The cue engine and the controller both move the run: a stale write fails, not wins.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}

    room: Mapped[Room] = relationship(backref=backref("shows", order_by="Show.planned_start"))


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
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # flashes until the host taps 收到
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acked_by: Mapped[str] = mapped_column(String(64), default="")


class SegmentRow(Base):
    """One segment of a show's script (controlroom/shows/script.py Segment)."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_show_position", "show_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column()
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    planned_s: Mapped[int] = mapped_column()
    sku: Mapped[str] = mapped_column(String(64), default="")
    talk_points: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    starts_at_s: Mapped[int | None] = mapped_column(nullable=True)
    online_target: Mapped[int | None] = mapped_column(nullable=True)
    cues: Mapped[list] = mapped_column(JSON, default=list)  # [[offset_s, text, audience]]


class CueFiring(Base):
    """A cue as it fired: planned against actual time, for the screens and the review."""

    __tablename__ = "cue_firings"
    __table_args__ = (Index("ix_cue_firings_show", "show_id", "fired_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    segment_index: Mapped[int] = mapped_column()
    segment_title: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(String(300))
    audience: Mapped[str] = mapped_column(String(16))
    planned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
