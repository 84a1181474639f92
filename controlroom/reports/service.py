"""Reviews as the screens ask for them. An ended show's review is computed once (when its
recording is finished, or when someone rebuilds it), stored in SQL and served from
there; a running show's draft is folded on from what was recorded since the last draft
(as of the recorder, a few seconds behind), at most every DRAFT_TTL_S per show.
Computing happens in a process of its own (controlroom/reports/compute.py): the event
loop only gathers SQL context and waits. The room's earlier shows are compared through their stored headlines."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.alerts.models import Alert
from controlroom.bus import keys
from controlroom.clock import Clock
from controlroom.db.session import run_in_transaction
from controlroom.playbooks.models import PlaybookRunRow
from controlroom.playbooks.service import run_view
from controlroom.reports.compute import ReviewJob, compute_audience, compute_draft, compute_review, ready
from controlroom.reports.models import ShowReview
from controlroom.i18n.refusal import Refusal
from controlroom.reports.recorder import parts_dir, unrecorded_events
from controlroom.reports.recording import recording_path, show_span
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.engine import RunState
from controlroom.shows.models import CueFiring, HostMessage
from controlroom.shows.runs import load_script

PREVIOUS_SHOWS = 3
# A running show's draft is folded on at most this often (seconds).
DRAFT_TTL_S = 5
DRAFT_KEPT_S = 60

log = structlog.get_logger(__name__)


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment else None


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
        "ended": show.status == "ended",
    }


def previous_headlines(session: Session, show_id: int) -> list[dict[str, Any]]:
    """The stored headline numbers of the room's earlier real shows, newest first."""
    show = session.get(Show, show_id)
    rows = session.execute(
        select(ShowReview.headline).join(Show, Show.id == ShowReview.show_id)
        .where(Show.room_id == show.room_id, Show.planned_start < show.planned_start, Show.rehearsal.is_(False))
        .order_by(Show.planned_start.desc()).limit(PREVIOUS_SHOWS)
    )
    return [headline for (headline,) in rows]


def _gather(session: Session, room: str, show_id: int, now: datetime) -> tuple[dict | None, dict | None, list]:
    """(stored review body or None, context or None, previous headlines)."""
    context = show_context(session, room, show_id, now)
    if context is None:
        return None, None, []
    stored = session.get(ShowReview, show_id)
    return (stored.body if stored is not None else None), context, previous_headlines(session, show_id)


def _store(session: Session, show_id: int, review: dict[str, Any], now: datetime) -> None:
    row = session.get(ShowReview, show_id) or ShowReview(show_id=show_id)
    row.computed_at, row.events, row.headline, row.body = now, review["events"], review["headline"], review
    session.add(row)


class NoRecording(Refusal):
    pass


class Reviews:
    def __init__(self, redis: aioredis.Redis, sessions: sessionmaker[Session], *, data_dir: Path, clock: Clock,
                 retention_days: int = 30) -> None:
        self.redis = redis
        self.retention_days = retention_days
        self.sessions = sessions
        self.data_dir = data_dir
        self.clock = clock
        self._pool: ProcessPoolExecutor | None = None
        self._drafts: dict[tuple[str, int], tuple[float, dict[str, Any]]] = {}
        # One computation per show at a time; a second request waits for the first.
        self._running: dict[tuple[str, int], asyncio.Future[dict[str, Any]]] = {}

    async def warm(self) -> None:
        await self._in_process(ready, None)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=timezone.utc)

    async def _in_process(self, work, job: ReviewJob):
        for attempt in (1, 2):
            if self._pool is None:
                # spawn: a fork of a process running an event loop and threads is unsafe.
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            try:
                return await asyncio.get_running_loop().run_in_executor(self._pool, work, job)
            except BrokenProcessPool:
                # The review process died (killed, out of memory): a new one, once.
                log.warning("reviews.process_lost", attempt=attempt)
                self._pool = None
                if attempt == 2:
                    raise

    async def _job(self, room: str, context: dict, previous: list, *, tail: bool = True) -> ReviewJob:
        show = context["show"]
        unrecorded = [] if not tail or self._finished(room, show["id"]) else await unrecorded_events(
            self.redis, room, start_ms=show["start"], end_ms=show["end"])
        return ReviewJob(data_dir=self.data_dir, room=room, context=context, previous=previous,
                         now_ms=self.clock.now_ms(), tail=unrecorded, lexicon=await self.redis.get(keys.LEXICON))

    def _finished(self, room: str, show_id: int) -> bool:
        return recording_path(self.data_dir, room, show_id).exists()

    async def review(self, room: str, show_id: int) -> dict[str, Any] | None:
        stored, context, previous = await run_in_transaction(
            self.sessions, lambda s: _gather(s, room, show_id, self._now()))
        if context is None:
            return None
        if stored is not None:
            return stored
        if context["ended"] and self._finished(room, show_id):
            return await self._compute(room, show_id, context, previous, store=True)
        cached = self._drafts.get((room, show_id))
        if cached is not None and time.monotonic() - cached[0] < DRAFT_TTL_S:
            return cached[1]
        return await self._compute(room, show_id, context, previous, store=False)

    async def rebuild(self, room: str, show_id: int) -> dict[str, Any] | None:
        """Compute again from the recording (stored when the show has ended and its
        recording is finished); the same numbers the stored review shows."""
        _, context, previous = await run_in_transaction(
            self.sessions, lambda s: _gather(s, room, show_id, self._now()))
        if context is None:
            return None
        store = context["ended"] and self._finished(room, show_id)
        if context["ended"] and not store and not parts_dir(self.data_dir, room, show_id).is_dir():
            raise NoRecording("show %(show)s has no recording to rebuild its review from (deleted after "
                              "%(days)s days, or never written)", show=show_id, days=self.retention_days)
        return await self._compute(room, show_id, context, previous, store=store)

    async def recording_finished(self, room: str, show_id: int) -> None:
        """The recorder merged a show's recording: its review is computed and stored now,
        so the first person to open it does not wait."""
        review = await self.rebuild(room, show_id)
        log.info("review.stored", room=room, show=show_id, events=review["events"] if review else None)

    async def _compute(self, room: str, show_id: int, context: dict, previous: list, *, store: bool) -> dict:
        key = (room, show_id)
        running = self._running.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        try:
            # A live show's draft folds what was recorded since the last one (as of the
            # recorder); an ended show's, stored or not yet, is every event, the few
            # seconds beyond the recorder included.
            live = not (store or context["ended"])
            work = compute_draft if live else compute_review
            review = await self._in_process(work, await self._job(room, context, previous, tail=not live))
            if store:
                await run_in_transaction(self.sessions, lambda s: _store(s, show_id, review, self._now()))
                self._drafts.pop(key, None)
            else:
                now = time.monotonic()
                # Drafts of shows nobody opened lately are let go (a long show's is large).
                for stale in [k for k, (at, _) in self._drafts.items() if now - at > DRAFT_KEPT_S]:
                    del self._drafts[stale]
                self._drafts[key] = (now, review)
            future.set_result(review)
            return review
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._running[key]

    async def audience(self, room: str, show_id: int) -> list[dict[str, Any]] | None:
        context = await run_in_transaction(self.sessions, lambda s: show_context(s, room, show_id, self._now()))
        if context is None:
            return None
        return await self._in_process(compute_audience, await self._job(room, context, []))


INDEX_LIMIT = 300
KINDS = ("all", "shows", "rehearsals")


def reviews_index(session: Session, *, room_slugs: frozenset[str] | None, room: str, start: datetime | None,
                  end: datetime | None, kind: str) -> dict[str, Any]:
    """Every show of the rooms the reader may see, newest first, with the stored headline
    of those whose review is computed; the rooms for the filter."""
    rooms = select(Room.slug, Room.name).order_by(Room.name)
    shows = (select(Show.id, Show.title, Show.planned_start, Show.status, Show.rehearsal, Room.slug, Room.name,
                    ShowReview.headline)
             .join(Room, Room.id == Show.room_id).outerjoin(ShowReview, ShowReview.show_id == Show.id))
    if room_slugs is not None:
        rooms = rooms.where(Room.slug.in_(room_slugs))
        shows = shows.where(Room.slug.in_(room_slugs))
    if room:
        shows = shows.where(Room.slug == room)
    if start is not None:
        shows = shows.where(Show.planned_start >= start)
    if end is not None:
        shows = shows.where(Show.planned_start < end)
    if kind != "all":
        shows = shows.where(Show.rehearsal.is_(kind == "rehearsals"))
    rows = session.execute(shows.order_by(Show.planned_start.desc(), Show.id.desc()).limit(INDEX_LIMIT + 1)).all()
    return {
        "rooms": [tuple(r) for r in session.execute(rooms)],
        "shows": [
            {"id": r.id, "title": r.title, "planned_start": r.planned_start, "status": r.status,
             "rehearsal": r.rehearsal, "room": r.slug, "room_name": r.name, "headline": r.headline}
            for r in rows[:INDEX_LIMIT]
        ],
        "more": len(rows) > INDEX_LIMIT,
    }
