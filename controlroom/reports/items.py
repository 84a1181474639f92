"""The review meeting's two written parts beside the numbers (复盘: 数据、问题、改进):
problems (what went wrong) and action items (what to change), each optionally about a
segment or a product of the reviewed show. An action item stays open, and shows in the
script editor of the room's later shows, until someone ticks it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.i18n.refusal import Refusal
from controlroom.reports.models import ReviewItem
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.runs import load_script

ITEM_KINDS = ("problem", "action")
MAX_TEXT = 500


class ItemRefused(Refusal):
    pass


def _show_of(session: Session, room: str, show_id: int) -> Show:
    show = session.scalar(select(Show).join(Room).where(Room.slug == room, Show.id == show_id))
    if show is None:
        raise LookupError(f"no show {show_id} in room {room!r}")
    return show


def add_item(session: Session, *, room: str, show_id: int, kind: str, text: str, segment: str, sku: str, by: str,
             now: datetime) -> ReviewItem:
    """`segment`: its number (1-based) in the show's script, or empty."""
    show = _show_of(session, room, show_id)
    text = text.strip()
    if kind not in ITEM_KINDS:
        raise ItemRefused("kind: one of %(choices)s", choices=", ".join(ITEM_KINDS))
    if not text:
        raise ItemRefused("text: write what went wrong or what to change")
    if len(text) > MAX_TEXT:
        raise ItemRefused("text: at most %(max)s characters", max=MAX_TEXT)
    script = load_script(session, show)
    index = None
    title = ""
    if segment.strip():
        if not segment.strip().isdigit() or not 1 <= int(segment) <= len(script.segments):
            raise ItemRefused("segment: a segment number from 1 to %(n)s", n=len(script.segments))
        index = int(segment) - 1
        title = script.segments[index].title
    sku = sku.strip()
    if len(sku) > 64:
        raise ItemRefused("product: at most 64 characters")
    item = ReviewItem(room_id=show.room_id, show_id=show.id, kind=kind, text=text, segment_index=index,
                      segment_title=title, sku=sku, created_by=by, created_at=now, done_by="")
    session.add(item)
    session.flush()
    return item


def tick_item(session: Session, *, room: str, item_id: int, by: str, now: datetime) -> ReviewItem:
    item = session.scalar(select(ReviewItem).join(Room, Room.id == ReviewItem.room_id)
                          .where(Room.slug == room, ReviewItem.id == item_id))
    if item is None:
        raise LookupError(f"no review item {item_id} in room {room!r}")
    if item.done_at is None:
        item.done_at, item.done_by = now, by
    return item


def _view(item: ReviewItem, show: Show | None = None) -> dict[str, Any]:
    return {
        "id": item.id, "kind": item.kind, "text": item.text, "segment": item.segment_index,
        "segment_title": item.segment_title, "sku": item.sku, "by": item.created_by, "at": item.created_at,
        "done_at": item.done_at, "done_by": item.done_by, "show_id": item.show_id,
        "show_title": show.title if show else None, "show_start": show.planned_start if show else None,
    }


def show_items(session: Session, show_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(ReviewItem).where(ReviewItem.show_id == show_id).order_by(ReviewItem.id))
    return [_view(item) for item in rows]


def open_actions_before(session: Session, show: Show) -> list[dict[str, Any]]:
    """Open action items from the reviews of the room's shows planned before `show`."""
    rows = session.execute(
        select(ReviewItem, Show).join(Show, Show.id == ReviewItem.show_id)
        .where(ReviewItem.room_id == show.room_id, ReviewItem.kind == "action", ReviewItem.done_at.is_(None),
               Show.planned_start < show.planned_start)
        .order_by(Show.planned_start.desc(), ReviewItem.id)
    )
    return [_view(item, earlier) for item, earlier in rows]
