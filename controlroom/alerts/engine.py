"""The alert engine: evaluates the rules of the rooms this process works, after applied
batches and on a clock tick, and moves their alerts on. I/O at the edges only: signals
from Redis, context from SQL (cached), the pure evaluator and lifecycle in between.

It runs beside the stream worker and evaluates exactly the rooms whose lease the worker
holds, so each room is evaluated by one process. It never runs inside a batch: ingest
and the worker's checkpoints do not wait for rules or SQL.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import fmean, pstdev
from typing import Callable, Iterable

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from controlroom.alerts.service import ALERTS, RoomContext, apply_observations, open_alerts
from controlroom.clock import Clock, ms_to_datetime
from controlroom.db.session import run_in_transaction
from controlroom.live.projections import Projections
from controlroom.live.view import count_minute_distinct, read_live_state, read_minute_distinct
from controlroom.metrics.models import RoomMinute
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.schedule import current_show
from controlroom.rules.evaluator import evaluate
from controlroom.rules.schemas import RuleDefinition
from controlroom.rules.service import definitions
from controlroom.rules.signals import MINUTE_COLUMNS, MINUTE_RATES, Baseline, build_signals

log = structlog.get_logger(__name__)

# Rules, the show and silences are re-read from SQL this often; baselines of earlier
# shows move slowly.
CONTEXT_TTL_S = 3.0
BASELINE_TTL_S = 300.0
BASELINE_DAYS = 30
# Per-minute distinct counts are read from HyperLogLogs that live 40 minutes.
MINUTE_DISTINCT_LOOKBACK = 30
MINUTE_DISTINCT_KEEP_MS = 24 * 3600_000


@dataclass
class _Context:
    room: RoomContext
    rules: list[RuleDefinition]
    live_show: bool
    show_started_ms: int | None
    read_at: float
    has_open_alerts: bool = True


@dataclass
class _Baselines:
    values: dict[str, Baseline] = field(default_factory=dict)
    read_at: float = 0.0


class AlertEngine:
    def __init__(
        self,
        projections: Projections,
        *,
        clock: Clock,
        rooms: Callable[[], Iterable[str]],
        red_escalation_s: int = 30,
        tick_s: float = 1.0,
        min_interval_s: float = 0.25,
    ) -> None:
        self.projections = projections
        self.redis = projections.bus.redis
        self.sessions = projections.sessions
        self.clock = clock
        self.rooms = rooms
        self.red_escalation_s = red_escalation_s
        self.tick_s = tick_s
        self.min_interval_s = min_interval_s
        self.wake = asyncio.Event()
        self._contexts: dict[str, _Context] = {}
        self._baselines: dict[str, _Baselines] = {}

    def batch_applied(self, room: str) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            for room in list(self.rooms()):
                try:
                    await self.evaluate_room(room)
                except asyncio.CancelledError:
                    raise
                except StaleDataError:
                    # Someone acknowledged or resolved an alert meanwhile: next round.
                    log.info("alerts.changed_meanwhile", room=room)
                except Exception as exc:  # noqa: BLE001 - one room's failure must not stop the others
                    log.exception("alerts.evaluation_failed", room=room, error=str(exc))
                    self._contexts.pop(room, None)
            # Coalesce: at most 1/min_interval evaluations a second, at least one per tick.
            await asyncio.sleep(max(0.0, self.min_interval_s - (time.monotonic() - started)))
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.tick_s)
            except asyncio.TimeoutError:
                pass

    async def evaluate_room(self, room: str) -> bool:
        """One round for one room; returns whether its alerts changed."""
        now_ms = self.clock.now_ms()
        context = await self._context(room)
        if context is None:
            return False
        live = await read_live_state(self.redis, room)
        state, distinct = live.state, live.distinct
        minute_distinct = await self._minute_distinct(room, now_ms, context.show_started_ms)
        signals = build_signals(
            state, now_ms=now_ms, live=context.live_show or state.stream_status in ("live", "interrupted"),
            distinct=distinct, minute_distinct=minute_distinct, show_started_ms=context.show_started_ms,
            room_baselines=await self._room_baselines(context),
        )
        rules = [rule for rule in context.rules if rule.applies_to(room)]
        observations = {rule.key: evaluate(rule, signals) for rule in rules}
        if not context.has_open_alerts and not any(o.holds for o in observations.values()):
            return False  # nothing open, nothing to open: no SQL this round

        def apply(session: Session) -> bool:
            return apply_observations(
                session, context=context.room, rules=rules, observations=observations, now_ms=now_ms
            )

        changed = await run_in_transaction(self.sessions, apply)
        if changed:
            projection = (await self.projections.publish(room, ALERTS.name)).get(ALERTS.name) or {}
            context.has_open_alerts = any(row["state"] != "resolved" for row in projection.get("alerts", []))
        return changed

    # --- inputs ----------------------------------------------------------------------

    async def _context(self, room: str) -> _Context | None:
        cached = self._contexts.get(room)
        if cached is not None and time.monotonic() - cached.read_at < CONTEXT_TTL_S:
            return cached

        def read(session: Session) -> _Context | None:
            room_row = session.scalar(select(Room).where(Room.slug == room))
            if room_row is None:
                return None
            show = current_show(session, room, ms_to_datetime(self.clock.now_ms()))

            return _Context(
                room=RoomContext(
                    room_id=room_row.id, slug=room, show_id=show.id if show else None,
                    red_escalation_s=self.red_escalation_s,
                ),
                rules=definitions(session),
                live_show=show is not None and show.status == "live",
                show_started_ms=int(show.planned_start.timestamp() * 1000) if show else None,
                read_at=time.monotonic(),
                has_open_alerts=bool(open_alerts(session, room_id=room_row.id)),
            )

        context = await run_in_transaction(self.sessions, read)
        if context is not None:
            self._contexts[room] = context
        return context

    async def _minute_distinct(self, room: str, now_ms: int, since_ms: int | None) -> dict[int, dict[str, int]]:
        """Per complete minute, distinct people of each windowed kind. Counted once
        from the minute's HyperLogLogs and kept in a hash, since those expire."""
        known = await read_minute_distinct(self.redis, room)
        current = now_ms - now_ms % 60_000
        # The current minute is still filling; the one before may still get late events.
        wanted = [current - i * 60_000 for i in range(2, MINUTE_DISTINCT_LOOKBACK + 2)]
        missing = [m for m in wanted if m not in known and (since_ms is None or m >= since_ms - since_ms % 60_000)]
        known.update(await count_minute_distinct(
            self.redis, room, missing, forget_before_ms=now_ms - MINUTE_DISTINCT_KEEP_MS
        ))
        return known

    async def _room_baselines(self, context: _Context) -> dict[str, Baseline]:
        """Per-minute levels of the room's earlier shows (the SQL archive, last 30 days
        before this show began)."""
        cached = self._baselines.setdefault(context.room.slug, _Baselines())
        if time.monotonic() - cached.read_at < BASELINE_TTL_S:
            return cached.values
        until = (
            datetime.fromtimestamp(context.show_started_ms / 1000, tz=timezone.utc)
            if context.show_started_ms else datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=timezone.utc)
        )

        def read(session: Session) -> list[RoomMinute]:
            minutes = session.scalars(
                select(RoomMinute).where(
                    RoomMinute.room_id == context.room.room_id,
                    RoomMinute.minute_at >= until - timedelta(days=BASELINE_DAYS),
                    RoomMinute.minute_at < until,
                )
            )
            # Rehearsals (replays of earlier shows) are not the room's history.
            spans = [
                (show.run.get("started_at") or int(show.planned_start.timestamp() * 1000),
                 show.run.get("ended_at") or 2**62)
                for show in session.scalars(select(Show).where(Show.room_id == context.room.room_id, Show.rehearsal))
            ]
            return [m for m in minutes if not any(a <= m.minute_at.timestamp() * 1000 < b for a, b in spans)]

        rows = await run_in_transaction(self.sessions, read)
        cached.values = baselines_of(rows)
        cached.read_at = time.monotonic()
        return cached.values


def baselines_of(rows: list[RoomMinute]) -> dict[str, Baseline]:
    series: dict[str, list[float]] = {}
    for metric in MINUTE_COLUMNS:
        series[metric] = [float(getattr(row, metric)) for row in rows]
    rate_columns = {"payers": "payers_distinct", "viewers": "viewers_distinct", "interacting": "interacting_distinct"}
    for metric, (numerator, denominator) in MINUTE_RATES.items():
        series[metric] = [
            getattr(row, rate_columns[numerator]) / getattr(row, rate_columns[denominator])
            for row in rows
            if getattr(row, rate_columns[denominator]) and getattr(row, rate_columns[numerator]) is not None
        ]
    return {
        metric: Baseline(mean=fmean(values), std=pstdev(values), points=len(values))
        for metric, values in series.items()
        if values
    }
