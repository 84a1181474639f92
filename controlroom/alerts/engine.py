"""The alert engine: evaluates the rules of the rooms this process works, after applied
batches and on a clock tick, and moves their alerts on. I/O at the edges only: signals
from Redis, context from SQL (cached), the pure evaluator and lifecycle in between.

It runs beside the stream worker and evaluates exactly the rooms whose lease the worker
holds, so each room is evaluated by one process. It never runs inside a batch: ingest
and the worker's checkpoints do not wait for rules or SQL.

SQL is the record, not a gate: while it is away the engine keeps evaluating with what
it last read (rules, show, baselines) and steps the alerts in Redis, so they reach the
screens at once; their changes wait in an outbox and are recorded, at the times they
happened, when SQL answers again (controlroom/alerts/outbox.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from statistics import fmean, pstdev
from typing import Callable, Iterable, TypeVar

import orjson
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from controlroom.alerts.outbox import (
    outbox_waiting, record_outbox, show_measures, step_projected, step_without_sql,
)
from controlroom.alerts.lifecycle import OPEN_STATES
from controlroom.alerts.models import Alert
from controlroom.alerts.service import ALERTS, RoomContext, apply_observations, room_alerts_projection
from controlroom.bus.notices import post_notices
from controlroom.clock import Clock, ms_to_datetime
from controlroom.db.health import DatabaseAway, DatabaseHealth, DatabaseWatch, database_unavailable
from controlroom.db.session import run_in_transaction
from controlroom.live.projections import Projections
from controlroom.observability import ALERT_ROUND_SECONDS
from controlroom.live.view import count_minute_distinct, read_live_state, read_minute_distinct
from controlroom.metrics.models import RoomMinute
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.runs import SHOW, boosted_spans, on_stage, planned_stock, segment_time_left
from controlroom.shows.schedule import current_shows
from controlroom.rules.evaluator import evaluate, instance_key, instances
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
# A round's SQL must answer within this, or the round goes on without SQL (its work is
# idempotent with what the outbox records, should the late answer still commit).
SQL_WAIT_S = 1.0
T = TypeVar("T")


def complete_minutes(now_ms: int, count: int) -> list[int]:
    """The `count` minutes (start ms) that have ended, newest first: the one that just
    ended is the first, the one still filling is not among them."""
    current = now_ms - now_ms % 60_000
    return [current - i * 60_000 for i in range(1, count + 1)]


class SlowDatabase(DatabaseAway):
    """SQL did not answer within a round's wait: this round goes on without it."""


@dataclass
class _Context:
    room: RoomContext
    rules: list[RuleDefinition]
    live_show: bool
    show_started_ms: int | None
    read_at: float
    has_open_alerts: bool = True
    capacity: int | None = None  # the show's planned capacity (online viewers), SOP 2


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
        database: DatabaseHealth | None = None,
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
        # Rules are the same for every room: read (and parsed) once per CONTEXT_TTL_S for
        # all of them, not once per room — the per-room read grew as rooms times rules.
        self._rules: list[RuleDefinition] = []
        self._rules_read_at = float("-inf")
        self._baselines: dict[str, _Baselines] = {}
        # None: this process has no watcher of its own yet; run() starts one.
        self.database = database
        # How many pings the watch had seen answered when a round last gave up on SQL.
        self._slow_at_answers: int | None = None
        self._watch: DatabaseWatch | None = None
        # Rooms whose outbox may hold changes not yet recorded in SQL.
        self._outbox: set[str] = set()
        self._outbox_checked: set[str] = set()

    def batch_applied(self, room: str) -> None:
        self.wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        watching = None
        if self.database is None:
            self.database = DatabaseHealth(self.clock)
            self._watch = DatabaseWatch(self.sessions, self.redis, self.database)
            watching = asyncio.create_task(self._watch.run(stop), name="database-watch")
        try:
            await self._rounds(stop)
        finally:
            if watching is not None:
                watching.cancel()

    async def _rounds(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            rooms = list(self.rooms())
            try:
                await self._read_contexts(rooms)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - each room below tries its own read again
                log.warning("alerts.contexts_unread", rooms=len(rooms), error=str(exc))
            for room in rooms:
                try:
                    await self.evaluate_room(room)
                except asyncio.CancelledError:
                    raise
                except StaleDataError:
                    # Someone acknowledged or resolved an alert meanwhile: next round.
                    log.info("alerts.changed_meanwhile", room=room)
                except Exception as exc:  # noqa: BLE001 - one room's failure must not stop the others
                    log.exception("alerts.evaluation_failed", room=room, error=str(exc))
                    if not database_unavailable(exc):
                        self._contexts.pop(room, None)
            ALERT_ROUND_SECONDS.observe(time.monotonic() - started)
            # Coalesce: at most 1/min_interval evaluations a second, at least one per tick.
            await asyncio.sleep(max(0.0, self.min_interval_s - (time.monotonic() - started)))
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.tick_s)
            except asyncio.TimeoutError:
                pass

    @property
    def sql_away(self) -> bool:
        """Away for the whole process (the watch says so), or too slow for this engine's
        rounds since a round gave up on it and until the watch hears SQL answer again."""
        if self.database is None:
            return False
        return self.database.down or self._slow_at_answers == self.database.answers

    async def _sql(self, work: Callable[[Session], T]) -> T:
        """SQL for a round, given SQL_WAIT_S to answer: an alert must not wait behind a
        database that has stopped answering (the watch would say so only later)."""
        try:
            return await asyncio.wait_for(run_in_transaction(self.sessions, work), timeout=SQL_WAIT_S)
        except asyncio.TimeoutError:
            raise SlowDatabase(f"no answer within {SQL_WAIT_S:g} s") from None

    def _sql_failed(self, exc: BaseException) -> bool:
        """True when `exc` says SQL is away (then the round goes on without it)."""
        if not database_unavailable(exc):
            return False
        # A slow round is not an outage: the watch, which waits longer, decides that.
        if isinstance(exc, SlowDatabase):
            self._slow_at_answers = self.database.answers if self.database is not None else None
        elif self.database is not None:
            self.database.failed(exc)
        return True

    async def evaluate_room(self, room: str) -> bool:
        """One round for one room; returns whether its alerts changed."""
        now_ms = self.clock.now_ms()
        context = await self._context(room)
        if context is None:
            return False
        live = await read_live_state(self.redis, room)
        state, distinct = live.state, live.distinct
        minute_distinct = await self._minute_distinct(room, now_ms, context.show_started_ms)
        show = await self._show_data(room)
        signals = build_signals(
            state, now_ms=now_ms, live=context.live_show or state.stream_status in ("live", "interrupted"),
            distinct=distinct, minute_distinct=minute_distinct, show_started_ms=context.show_started_ms,
            room_baselines=await self._room_baselines(context),
            arrived_ms=live.arrived_ms, behind_ms=live.behind_ms, source_arrivals=live.source_arrivals,
            recording_behind_ms=live.recording_behind_ms(now_ms),
            boosted=boosted_spans(show, now_ms), segment_remaining_s=segment_time_left(show, now_ms),
            stage=on_stage(show), planned_capacity=context.capacity, planned_stock=planned_stock(show),
        )
        rules = [each for rule in context.rules if rule.applies_to(room) for each in instances(rule, signals)]
        observations = {instance_key(rule): evaluate(rule, signals) for rule in rules}
        if not await self._outbox_recorded(room, context):
            return await self._evaluate_without_sql(room, context, rules, observations, now_ms)
        if not context.has_open_alerts and not any(o.holds for o in observations.values()):
            return False  # nothing open, nothing to open: no SQL this round
        if self.sql_away:
            return await self._evaluate_without_sql(room, context, rules, observations, now_ms)
        # SQL only when the record moves: stepped first on the alerts as the screens have
        # them, a round where nothing moves (or only a measured value) costs no SQL.
        stepped = await step_projected(self.redis, room=room, rules=rules, observations=observations,
                                       red_escalation_s=self.red_escalation_s, now_ms=now_ms)
        if stepped.known and not stepped.moved:
            return False
        if stepped.measure_only:
            await show_measures(self.redis, room=room, stepped=stepped, now_ms=now_ms)
            return True

        def apply(session: Session) -> tuple[dict, list[dict]] | None:
            notices = apply_observations(
                session, context=context.room, rules=rules, observations=observations, now_ms=now_ms
            )
            return None if notices is None else (self._shown(session, context, now_ms), notices)

        try:
            applied = await self._sql(apply)
        except Exception as exc:
            if not self._sql_failed(exc):
                raise
            return await self._evaluate_without_sql(room, context, rules, observations, now_ms)
        if applied is None:
            return False
        projection, notices = applied
        await self._store(room, context, projection)
        if notices:
            await post_notices(self.redis, notices)
        return True

    @staticmethod
    def _shown(session: Session, context: _Context, now_ms: int) -> dict:
        """The alerts projection, built in the transaction that changed the alerts: no
        second round trip, so no moment where SQL has a change the screens lack."""
        return room_alerts_projection(session, room_id=context.room.room_id, now=ms_to_datetime(now_ms))

    async def _store(self, room: str, context: _Context, projection: dict) -> None:
        await self.projections.store(room, {ALERTS.name: projection})
        context.has_open_alerts = any(row["state"] != "resolved" for row in projection["alerts"])

    async def _evaluate_without_sql(
        self, room: str, context: _Context, rules: list[RuleDefinition], observations: dict, now_ms: int
    ) -> bool:
        shown = await step_without_sql(
            self.redis, room=room, show_id=context.room.show_id, rules=rules, observations=observations,
            red_escalation_s=self.red_escalation_s, now_ms=now_ms,
        )
        if shown is None:
            return False
        self._outbox.add(room)
        context.has_open_alerts = any(row["state"] != "resolved" for row in shown)
        log.info("alerts.shown_before_recorded", room=room)
        return True

    async def _outbox_recorded(self, room: str, context: _Context) -> bool:
        """Record what the room's outbox holds (changes shown while SQL was away), before
        SQL takes the room's alerts on again; False while it cannot be recorded yet."""
        if room not in self._outbox_checked:
            self._outbox_checked.add(room)
            if await outbox_waiting(self.redis, room):
                self._outbox.add(room)
        if room not in self._outbox:
            return True
        if self.sql_away:
            return False
        now_ms = self.clock.now_ms()
        try:
            recorded = await record_outbox(self.redis, self._sql, room=room, room_id=context.room.room_id)
            projection = await self._sql(lambda session: self._shown(session, context, now_ms))
        except Exception as exc:
            if not self._sql_failed(exc):
                raise
            return False
        self._outbox.discard(room)
        log.info("alerts.outbox_recorded", room=room, changes=recorded)
        await self._store(room, context, projection)
        return True

    # --- inputs ----------------------------------------------------------------------

    async def _context(self, room: str) -> _Context | None:
        """The room's context: refreshed for all rooms at the start of each round, read
        here on its own only for a room the round has not read yet."""
        if room not in self._contexts:
            await self._read_contexts([room])
        return self._contexts.get(room)

    async def _read_contexts(self, rooms: list[str]) -> None:
        """Re-read the context of every room whose copy is older than CONTEXT_TTL_S, all
        in one transaction: a round over 100 rooms costs one SQL round trip every few
        seconds, not one per room. While SQL is away, rooms keep what SQL said last
        (rules and shows rarely change mid-outage)."""
        now = time.monotonic()
        stale = [room for room in rooms
                 if (cached := self._contexts.get(room)) is None or now - cached.read_at >= CONTEXT_TTL_S]
        if not stale or (self.sql_away and all(room in self._contexts for room in stale)):
            return
        now_at = ms_to_datetime(self.clock.now_ms())

        def read(session: Session) -> dict[str, _Context]:
            room_ids = {slug: room_id for slug, room_id in
                        session.execute(select(Room.slug, Room.id).where(Room.slug.in_(stale)))}
            shows = current_shows(session, room_ids, now_at)
            alerting = set(session.scalars(
                select(Alert.room_id).where(Alert.room_id.in_(room_ids.values()), Alert.state.in_(OPEN_STATES))
                .distinct()
            ))
            if time.monotonic() - self._rules_read_at >= CONTEXT_TTL_S:
                self._rules, self._rules_read_at = definitions(session), time.monotonic()
            read_at = time.monotonic()
            return {
                slug: _Context(
                    room=RoomContext(room_id=room_id, slug=slug, show_id=show.id if show else None,
                                     red_escalation_s=self.red_escalation_s),
                    rules=self._rules,
                    live_show=show is not None and show.status == "live",
                    show_started_ms=int(show.planned_start.timestamp() * 1000) if show else None,
                    read_at=read_at,
                    has_open_alerts=room_id in alerting,
                    capacity=((show.targets or {}).get("capacity") if show else None),
                )
                for slug, room_id in room_ids.items()
                for show in [shows.get(slug)]
            }

        try:
            contexts = await self._sql(read)
        except Exception as exc:
            if not all(room in self._contexts for room in stale) or not self._sql_failed(exc):
                raise
            return
        for room in stale:
            if room in contexts:
                self._contexts[room] = contexts[room]
            else:
                self._contexts.pop(room, None)  # deleted meanwhile

    async def _show_data(self, room: str) -> dict | None:
        """The room's show as last published (Redis): its segments and what ran."""
        raw = await self.redis.get(SHOW.key(room))
        return orjson.loads(raw) if raw else None

    async def _minute_distinct(self, room: str, now_ms: int, since_ms: int | None) -> dict[int, dict[str, int]]:
        """Per complete minute, distinct people of each windowed kind, the minute that
        just ended included (a 10-minute window is whole only with it). Counted from the
        minute's HyperLogLogs and kept in a hash, since those expire; a minute that gets
        late events is dropped from the hash by the worker's checkpoint, and counted again."""
        known = await read_minute_distinct(self.redis, room)
        wanted = complete_minutes(now_ms, MINUTE_DISTINCT_LOOKBACK)
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

        if self.sql_away:
            return cached.values
        try:
            rows = await self._sql(read)
        except Exception as exc:
            if not self._sql_failed(exc):
                raise
            return cached.values
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
