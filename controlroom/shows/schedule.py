"""Which show of a room is current, planning shows, and the targets a team sets for one."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from controlroom.live.projections import declare
from controlroom.rooms.models import Room
from controlroom.shows.models import Show


def add_show(session: Session, *, room: Room, title: str, planned_start: datetime, status: str = "scheduled") -> Show:
    show = Show(room=room, title=title, planned_start=planned_start, status=status)
    session.add(show)
    session.flush()
    return show


def current_show(session: Session, slug: str, now: datetime) -> Show | None:
    """The show that screens follow: the live one; else the latest that has started;
    else the next one planned (scheduling tomorrow's show must not take over today's)."""
    return current_shows(session, [slug], now).get(slug)


def current_shows(session: Session, slugs: Iterable[str], now: datetime) -> dict[str, Show]:
    """`current_show` of many rooms in one query (the alert engine asks for all its rooms
    at once): each room's shows ranked live first, then started (latest first), then
    planned (soonest first), and the first of each room taken."""
    slugs = list(slugs)
    if not slugs:
        return {}
    standing = case((Show.status == "live", 0), (Show.planned_start <= now, 1), else_=2)
    rank = func.row_number().over(
        partition_by=Show.room_id,
        order_by=(
            standing,
            case((standing < 2, Show.planned_start)).desc(),
            case((standing == 2, Show.planned_start)).asc(),
            case((standing < 2, -Show.id), else_=Show.id),
        ),
    ).label("rank")
    ranked = select(Show.id, rank).join(Room).where(Room.slug.in_(slugs)).subquery()
    shows = session.execute(
        select(Show, Room.slug).join(Room).join(ranked, ranked.c.id == Show.id).where(ranked.c.rank == 1)
    )
    return {slug: show for show, slug in shows}


# What a team may set per show: name -> (kind, lowest, highest). Rates are fractions.
TARGET_LIMITS = {
    "interaction_rate": ("rate", 0.0, 1.0),
    "conversion_rate": ("rate", 0.0, 1.0),
    "like_rate": ("rate", 0.0, 1.0),
    "comments": ("count", 0, 10_000_000),
    # Online viewers the team planned for (staff, links, stock): above it is SOP 2.
    "capacity": ("count", 1, 100_000_000),
}


class InvalidTarget(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_targets(form: dict[str, str]) -> dict[str, float | None]:
    """Targets as typed in the form: rates in percent, blank for the default."""
    parsed: dict[str, float | None] = {}
    for name, text in form.items():
        if name not in TARGET_LIMITS:
            raise InvalidTarget(name, "not a target controlroom knows")
        try:
            number = float(text) if text.strip() else None
        except ValueError:
            raise InvalidTarget(name, f"{text!r} is not a number") from None
        is_rate = TARGET_LIMITS[name][0] == "rate"
        parsed[name] = number / 100 if number is not None and is_rate else number
    return parsed


def set_show_targets(session: Session, *, show: Show, targets: dict[str, float | int | None]) -> dict[str, Any]:
    """Replace the show's targets (None or missing: back to the default). Returns them."""
    cleaned: dict[str, Any] = {}
    for name, value in targets.items():
        if name not in TARGET_LIMITS:
            raise InvalidTarget(name, "not a target controlroom knows")
        if value is None:
            continue
        kind, low, high = TARGET_LIMITS[name]
        if not low <= value <= high:
            shown = f"{low:.0%}–{high:.0%}" if kind == "rate" else f"{low}–{high}"
            raise InvalidTarget(name, f"must be between {shown}")
        cleaned[name] = int(value) if kind == "count" else float(value)
    show.targets = cleaned
    session.flush()
    return cleaned


# The current show's targets, for the room's numbers (unset ones: metrics' defaults).
TARGETS = declare(
    "targets", default={},
    build=lambda session, room, now: (show.targets or {}) if (show := current_show(session, room.slug, now)) else {},
)
