"""Gathering what a review needs: the show's recorded events (its archive, or the
room's stream while the show runs), script and run, alerts, playbook runs, cues, host
messages, and the headline numbers of the room's earlier shows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.alerts.models import Alert
from controlroom.db.session import run_in_transaction
from controlroom.metrics.state import Tagger
from controlroom.playbooks.models import PlaybookRunRow
from controlroom.playbooks.service import run_view
from controlroom.reports.recorder import show_events as recorded_events
from controlroom.reports.recording import show_span
from controlroom.reports.review import apply_events, build_review, headline
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.engine import RunState
from controlroom.shows.models import CueFiring, HostMessage
from controlroom.shows.runs import load_script

PREVIOUS_SHOWS = 3


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


async def show_events(client: aioredis.Redis, data_dir: Path, room: str, show: dict) -> list[dict]:
    return await recorded_events(client, data_dir, room, show_id=show["id"], start_ms=show["start"],
                                 end_ms=show["end"])


def show_context(session: Session, room: str, show_id: int, now: datetime) -> dict[str, Any] | None:
    show = session.scalar(select(Show).join(Room).where(Room.slug == room, Show.id == show_id))
    if show is None:
        return None
    start, end = show_span(show.run or {}, _ms(show.planned_start), 0)
    span_end = datetime.fromtimestamp(end / 1000, tz=timezone.utc) if end else now
    span_start = datetime.fromtimestamp(start / 1000, tz=timezone.utc)
    alerts = session.scalars(select(Alert).where(
        Alert.room_id == show.room_id, Alert.started_at >= span_start, Alert.started_at <= span_end))
    runs = session.scalars(select(PlaybookRunRow).where(
        PlaybookRunRow.room_id == show.room_id, PlaybookRunRow.started_at >= span_start,
        PlaybookRunRow.started_at <= span_end).order_by(PlaybookRunRow.started_at))
    earlier = session.scalars(
        select(Show).where(Show.room_id == show.room_id, Show.planned_start < show.planned_start,
                           Show.rehearsal.is_(False)).order_by(Show.planned_start.desc()).limit(PREVIOUS_SHOWS))
    return {
        "show": {"id": show.id, "title": show.title, "start": start, "end": end, "rehearsal": show.rehearsal,
                 "planned_start": _ms(show.planned_start), "targets": show.targets or {}},
        "room_name": show.room.name,
        "script": load_script(session, show),
        "run": RunState.from_json(show.run),
        "alerts": [
            {"id": a.id, "rule_key": a.rule_key, "level": a.level, "name": a.name, "name_en": a.name_en,
             "state": a.state, "fired_at": _ms(a.fired_at), "acked_at": _ms(a.acked_at), "acked_by": a.acked_by,
             "resolved_at": _ms(a.resolved_at)}
            for a in alerts if a.fired_at is not None
        ],
        "playbook_runs": [run_view(run, span_end) for run in runs],
        "cues": [
            {"text": c.text, "audience": c.audience, "segment": c.segment_index, "key": c.key,
             "planned_at": _ms(c.planned_at), "fired_at": _ms(c.fired_at)}
            for c in session.scalars(select(CueFiring).where(CueFiring.show_id == show.id).order_by(CueFiring.fired_at))
        ],
        "messages": [
            {"text": m.text, "sent_at": _ms(m.sent_at), "urgent": m.urgent, "acked_at": _ms(m.acked_at)}
            for m in session.scalars(select(HostMessage).where(HostMessage.show_id == show.id)
                                     .order_by(HostMessage.sent_at))
        ],
        "earlier": [
            {"id": e.id, "span": show_span(e.run or {}, _ms(e.planned_start), 0)} for e in earlier
        ],
    }


async def build_show_review(
    client: aioredis.Redis, sessions: sessionmaker[Session], *, data_dir: Path, room: str, show_id: int,
    tagger: Tagger | None, now_ms: int,
) -> dict[str, Any] | None:
    context = await run_in_transaction(
        sessions, lambda s: show_context(s, room, show_id, datetime.fromtimestamp(now_ms / 1000, tz=timezone.utc))
    )
    if context is None:
        return None
    show = context["show"]
    events = await show_events(client, data_dir, room, show)
    previous = []
    for earlier in context["earlier"]:
        earlier_events = await show_events(client, data_dir, room, {
            "id": earlier["id"], "start": earlier["span"][0], "end": earlier["span"][1]})
        if earlier_events:
            previous.append(headline(apply_events(earlier_events, None), earlier_events, now_ms))
    review = await asyncio.to_thread(
        build_review, events=events, script=context["script"], run=context["run"],
        planned_start_ms=show["planned_start"], now_ms=now_ms, targets=show["targets"], alerts=context["alerts"],
        playbook_runs=context["playbook_runs"], cues=context["cues"], messages=context["messages"],
        previous=previous, tagger=tagger,
    )
    review["show"] = show
    review["room"] = room
    review["room_name"] = context["room_name"]
    review["events"] = len(events)
    return review


def engaged_audience(events: list[dict]) -> list[dict[str, Any]]:
    """People who commented, gifted or bought, with their counts, most engaged first."""
    people: dict[str, dict[str, Any]] = {}
    for e in events:
        user = e.get("user")
        kind = e["type"]
        if not user or kind not in ("comment", "gift", "order"):
            continue
        row = people.setdefault(user["id"], {"user_id": user["id"], "name": user.get("name") or "", "comments": 0,
                                             "gifts": 0, "gift_value_cents": 0, "orders_paid": 0, "paid_cents": 0})
        if user.get("name"):
            row["name"] = user["name"]
        if kind == "comment":
            row["comments"] += 1
        elif kind == "gift":
            row["gifts"] += e.get("count", 1)
            row["gift_value_cents"] += e.get("value_cents", 0)
        elif e.get("status") == "paid":
            row["orders_paid"] += 1
            row["paid_cents"] += e.get("amount_cents", 0)
    return sorted(people.values(), key=lambda r: (-r["paid_cents"], -r["gift_value_cents"], -r["comments"], r["user_id"]))
