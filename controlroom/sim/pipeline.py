"""An in-process pipeline driven by a fake clock: a two-hour show runs in minutes.

The real parts, wired as `controlroom/runtime/processing.py` wires them, against a real
Redis and a real (migrated) SQL database:

    events ─► accept_batch (the ingest route's validation + the INGEST script's XADD)
           ─► Worker (consumer group, lease, checkpoint; the published lexicon tags comments)
           ─► CueTicker (cues, auto-advance) and AlertEngine.evaluate_room (rules → alerts in SQL)

Only the scheduling is the harness's: time is a `FakeClock` the harness moves, and each
step of `advance` does what a processing process does in that much time — the feed's
events of the step are ingested (stamped with the clock: ts ≤ now, in order), the worker
applies them (the harness waits until the room's backlog is empty), the cue ticker ticks
and the alert engine runs one round (a real engine runs a round at least every
`alert_tick_s` = 1 s and after batches; `step_s` = 1 is that, larger steps are coarser).

    async with Pipeline.start(redis_url, database_url, script=script) as p:
        p.add(SteadyRoom(p.clock.now_ms(), online=2000, comments_per_min=40))
        await p.advance(seconds=600, step_s=1)
        p.timeline            # every alert transition (fired, escalated, resolved …) in order
        await p.alerts()      # the room's alerts as SQL has them

What still reads another clock than the injected one, and how the harness deals with it:

- Feed arrival (`feed-silent`, `processing-behind`): the INGEST script XADDs with `*`, so a
  stream id is Redis's own wall-clock time, and `read_live_state` takes the feed's pulse
  from it (controlroom/live/view.py `_arrival_ms`). The absence rule takes the later of
  that and the newest event's ts. The harness therefore starts its clock at or after the
  wall clock (refused otherwise): arrivals then always look older than the fake now, and
  silence is measured from the newest event's ts, which the harness stamps with the fake
  clock. A feed that keeps arriving while stamping old times cannot be simulated here.
- Each feed source is heard (`source-silent`) at Redis's own time too; the harness
  writes its own clock over it after each batch, as if the batch arrived now.
- `Bus.ingest` picks its dedup window from `time.time()` (ids are remembered 10-20 wall
  minutes); harmless for a simulation whose ids are unique.
- The alert engine caches rules and the room's show context for CONTEXT_TTL_S of
  `time.monotonic()` and room baselines for BASELINE_TTL_S: in a compressed show they
  are re-read less often in show time than in a real one. The harness starts the show
  before the first round, so the cached context is the live show's.
- Leases, heartbeats and the worker's maintenance run on Redis's and the process's own
  clocks, as they must (they coordinate processes, rules never read them).

One pipeline per Redis database at a time: its worker takes every room Redis knows
(`cr:rooms`) up to its fair share, so on the way out the harness takes its room out of
that set again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import random
import time
import traceback
import uuid
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncIterator, Callable, Iterable, Mapping, Protocol, Sequence

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from controlroom.alerts.engine import AlertEngine, SlowDatabase
from controlroom.alerts.models import Alert, AlertTransition
from controlroom.alerts.service import ALERTS
from controlroom.auth import service as auth_service
from controlroom.auth.projection import ROOM
from controlroom.auth.secrets import token_hash
from controlroom.bus import keys
from controlroom.bus.client import Bus, connect
from controlroom.clock import FakeClock, ms_to_datetime
from controlroom.db.session import make_engine, run_in_transaction, session_factory
from controlroom.ingest.api import accept_batch
from controlroom.ingest.worker import Worker
from controlroom.live.projections import Projections
from controlroom.moderation.live import LiveLexicon
from controlroom.moderation.service import LEXICON_PROJECTIONS, install_default_lexicon
from controlroom.playbooks import service as playbooks
from controlroom.rooms.models import Room
from controlroom.rooms.service import get_or_create_room
from controlroom.rules.schemas import RuleDefinition
from controlroom.rules.service import definitions, install_default_rules
from controlroom.services import Services
from controlroom.settings import Settings
from controlroom.shows import engine as cue_engine
from controlroom.shows.models import Show
from controlroom.shows.runs import SHOW, act, save_script
from controlroom.shows.schedule import TARGETS, add_show, set_show_targets
from controlroom.shows.script import Script, Segment
from controlroom.shows.ticker import CueTicker

MINUTE_MS = 60_000
# The worker must have applied a step's events within this (wall seconds), or the
# harness says so rather than hang.
DRAIN_TIMEOUT_S = 30.0
# A room's first lease is taken on the worker's first maintenance round.
TAKE_ROOM_TIMEOUT_S = 15.0
# A worker stops within one blocking read and a round trip.
STOP_TIMEOUT_S = 10.0
# Rounds tried again when SQL answers too slowly (SQL_WAIT_S) on a busy machine.
SLOW_SQL_RETRIES = 5
# Setting a pipeline up (SQL, the worker's first lease) takes a second or two of wall
# time: the default start is the first whole minute at least this far ahead, so the fake
# clock is still ahead of the wall clock when the first events arrive (a start a few
# hundred ms ahead would let Redis stamp arrivals later than the events' ts, and a feed
# silence at the show's start would be measured from the arrival, not the event).
START_MARGIN_MS = 10_000


class Feed(Protocol):
    """A source of canonical events: what happened up to `now_ms` and was not yet handed
    out, in ts order. `controlroom.sim.generator.ShowSimulator` is one."""

    def events_until(self, now_ms: int) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class AlertRecord:
    """An alert as SQL records it (times in the clock's ms)."""

    id: int
    rule_key: str
    level: str
    state: str
    started_at: int
    fired_at: int | None
    resolved_at: int | None
    escalated_at: int | None
    muted_reason: str | None
    value: float | None
    reference: float | None
    labels: dict[str, str]

    @property
    def raised(self) -> bool:
        """It fired (was shown): a pending alert that cleared in time never was."""
        return self.fired_at is not None


@dataclass(frozen=True)
class Transition:
    """One row of an alert's history: fired ("firing"), "escalated", "resolved" …"""

    at: int
    alert_id: int
    rule_key: str
    level: str
    event: str
    from_state: str | None
    reason: str


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def next_minute_ms(after_ms: int | None = None) -> int:
    """The start of the wall clock's next minute (or the one after `after_ms`): a show
    that starts on a minute boundary has whole minutes, as the rules count them."""
    now = after_ms if after_ms is not None else time.time_ns() // 1_000_000
    return now - now % MINUTE_MS + MINUTE_MS


class Pipeline:
    """A room with a live show and the processing role of one controlroom process,
    driven by `clock`. Build it with `Pipeline.start(...)`."""

    def __init__(self, *, settings: Settings, clock: FakeClock, room: str, key_hash: str, show_id: int | None,
                 sessions, db_engine, redis, projections: Projections, services: Services) -> None:
        self.settings = settings
        self.clock = clock
        self.room = room
        self.key_hash = key_hash
        self.show_id = show_id
        self.sessions = sessions
        self._db_engine = db_engine
        self.redis = redis
        self.projections = projections
        self.services = services
        self.started_ms = clock.now_ms()
        self.sources: list[Feed] = []
        # Every alert transition seen so far, in order (kept up to date by `advance`).
        self.timeline: list[Transition] = []
        self.rounds = 0
        self.events_ingested = 0
        self._last_transition_id = 0
        self._applied = asyncio.Event()
        self._ids = itertools.count(1)
        self._id_prefix = f"p{uuid.uuid4().hex[:6]}-"
        self.worker: Worker | None = None
        self.engine: AlertEngine | None = None
        self.ticker: CueTicker | None = None
        self._stop = asyncio.Event()
        self._worker_task: asyncio.Task | None = None
        self._lexicon: LiveLexicon | None = None

    # --- building ------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls,
        redis_url: str,
        database_url: str,
        *,
        script: Script | Sequence[Segment] | None = None,
        auto_advance: bool = False,
        targets: dict[str, Any] | None = None,
        start_ms: int | None = None,
        slug: str | None = None,
        title: str = "模拟直播",
        rehearsal: bool = False,
        live: bool = True,
        settings: Settings | None = None,
        cues: bool = True,
    ) -> AsyncIterator["Pipeline"]:
        """A room with a show started at `start_ms` (default: the first whole minute
        START_MARGIN_MS or more ahead of the wall clock) and the processing role running for it.

        `script`: the show's segments (a Script, or just the segments); None: one open
        segment of ten hours. `auto_advance`: the show moves on by itself (the ticker).
        `targets`: the show's targets (validated as the targets form does). `live`:
        False leaves the show planned (rules see a room that is not live unless the
        stream says so). The database must be migrated; the shipped rules, lexicon and
        playbooks are installed if missing, as a first start does."""
        settings = settings or Settings(mode="dev")
        wall_ms = time.time_ns() // 1_000_000
        start_ms = start_ms if start_ms is not None else next_minute_ms(wall_ms + START_MARGIN_MS)
        if start_ms < wall_ms:
            raise ValueError(
                "the fake clock must not start before the wall clock: feed arrival is Redis's own time "
                "(stream ids), so a clock behind it would never see the feed go silent"
            )
        clock = FakeClock(start_ms)
        slug = slug or f"sim-{uuid.uuid4().hex[:10]}"
        if script is None:
            script = Script(segments=(Segment("直播", "product", 10 * 3600),))
        elif not isinstance(script, Script):
            script = Script(segments=tuple(script))

        db_engine = make_engine(database_url)
        sessions = session_factory(db_engine)
        now = ms_to_datetime(start_ms)

        def prepare(session: Session) -> tuple[str, int | None]:
            install_default_rules(session)
            install_default_lexicon(session)
            playbooks.install_default_playbooks(session)
            room = get_or_create_room(session, slug=slug, name=f"模拟直播间 {slug}", timezone="Asia/Shanghai")
            _, key = auth_service.create_api_key(session, room=room, name="pipeline", created_by="pipeline")
            show = add_show(session, room=room, title=title, planned_start=now)
            show.rehearsal = rehearsal
            save_script(session, show, script)
            if targets:
                set_show_targets(session, show=show, targets=targets)
            if auto_advance:
                show.run = cue_engine.set_auto_advance(cue_engine.RunState(), True).to_json()
            if live:
                act(session, show=show, action="start", now_ms=start_ms, params={})
            session.flush()
            return key, show.id

        redis = connect(redis_url, longest_block_ms=settings.worker_block_ms)
        pipeline: Pipeline | None = None
        try:
            key, show_id = await run_in_transaction(sessions, prepare)
            bus = Bus.from_settings(redis, settings)
            projections = Projections(bus, sessions, clock)
            services = Services(
                settings=settings, redis=redis, bus=bus, projections=projections, renderer=None, engine=db_engine,
                sessions=sessions, clock=clock, signer=None, show_ended=_no_recording,
            )
            pipeline = cls(settings=settings, clock=clock, room=slug, key_hash=token_hash(key), show_id=show_id,
                           sessions=sessions, db_engine=db_engine, redis=redis, projections=projections,
                           services=services)
            # What a starting process publishes: the lexicon workers match with, and the
            # room (ingest knows it and its key), its show (the run starts the room's
            # numbers over) and its alerts.
            await projections.publish(None, *LEXICON_PROJECTIONS)
            await projections.publish(slug, ROOM.name, TARGETS.name, SHOW.name, ALERTS.name)
            await pipeline._start_processing(cues=cues)
            yield pipeline
        finally:
            if pipeline is not None:
                await pipeline._stop_processing()
            with contextlib.suppress(Exception):
                await redis.srem(keys.ROOMS, slug)
            await redis.aclose()
            db_engine.dispose()

    async def _start_processing(self, *, cues: bool) -> None:
        settings = self.settings
        self._lexicon = LiveLexicon(self.redis)
        await self._lexicon.refresh()
        self.worker = Worker(
            self.redis, batch=settings.worker_batch, block_ms=settings.worker_block_ms,
            lease_ttl_ms=settings.lease_ttl_ms, clock=self.clock, tagger=self._lexicon.tagger,
            dead_maxlen=settings.dead_letter_maxlen,
        )
        self.worker.on_applied = self._batch_applied
        room = self.room
        self.engine = AlertEngine(
            self.projections, clock=self.clock, rooms=lambda: [room], red_escalation_s=settings.red_escalation_s,
            tick_s=settings.alert_tick_s, min_interval_s=settings.alert_min_interval_s,
        )
        self.ticker = CueTicker(self.projections, clock=self.clock, rooms=lambda: [room]) if cues else None
        self._worker_task = asyncio.create_task(self.worker.run(self._stop), name=f"pipeline-worker-{room}")
        deadline = time.monotonic() + TAKE_ROOM_TIMEOUT_S
        while room not in self.worker.rooms:
            if self._worker_task.done():
                self._worker_task.result()
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not take room {room} within {TAKE_ROOM_TIMEOUT_S} s "
                                   "(another worker on this Redis database?)")
            await asyncio.sleep(0.01)

    async def _stop_processing(self) -> None:
        """Stop the worker; one that does not stop within STOP_TIMEOUT_S is cancelled
        and said so with where it was stuck (a warning: the scenario itself is over)."""
        self._stop.set()
        task = self._worker_task
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)
        if not done:
            stack = "".join(traceback.format_stack(task.get_stack(limit=12)[-1])) if task.get_stack() else "?"
            warnings.warn(f"the pipeline's worker did not stop within {STOP_TIMEOUT_S} s; it was at:\n{stack}",
                          RuntimeWarning, stacklevel=1)
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _batch_applied(self, room: str) -> None:
        if self.engine is not None:
            self.engine.batch_applied(room)
        self._applied.set()

    # --- time and events -----------------------------------------------------------------

    def show_s(self, ms: int | None = None) -> float:
        """Seconds since the show started (now, or at `ms`)."""
        return ((self.clock.now_ms() if ms is None else ms) - self.started_ms) / 1000

    def add(self, source: Feed) -> Feed:
        """Feed the room from `source` on every step from now on."""
        self.sources.append(source)
        return source

    def remove(self, source: Feed) -> None:
        self.sources.remove(source)

    def event(self, kind: str, *, ts: int | None = None, **fields: Any) -> dict[str, Any]:
        """A canonical event of this moment with a fresh id (for one-off events)."""
        return {"id": f"{self._id_prefix}{next(self._ids)}", "type": kind,
                "ts": self.clock.now_ms() if ts is None else ts, **fields}

    async def feed(self, events: Iterable[dict[str, Any]], *, strict: bool = True) -> dict[str, int]:
        """Ingest events now, through the ingest route's own validation and XADD, and
        wait until the worker has applied them. `strict`: a refused event is an error."""
        events = list(events)
        totals = {"accepted": 0, "duplicates": 0, "rejected": 0}
        limit = self.settings.max_events_per_request
        for first in range(0, len(events), limit):
            chunk = events[first:first + limit]
            status, result, _ = await accept_batch(self.services, self.room, orjson.dumps(chunk), ndjson=False,
                                                   key_hash=self.key_hash)
            if status >= 400 and status != 422:
                raise RuntimeError(f"ingest answered {status}: {result}")
            if strict and result.get("rejected"):
                raise ValueError(f"ingest refused events: {result['rejections'][:3]}")
            for name in totals:
                totals[name] += result.get(name, 0)
            # Ingest hears each source at Redis's own time; here the source is heard now,
            # on the harness's clock (see the module docstring).
            sources = {event["source"] for event in chunk if isinstance(event, dict) and event.get("source")}
            if sources:
                await self.redis.hset(keys.source_arrivals(self.room),
                                      mapping=dict.fromkeys(sources, self.clock.now_ms()))
        self.events_ingested += totals["accepted"]
        if totals["accepted"]:
            await self._drain()
        return totals

    async def _drain(self) -> None:
        """Until every accepted event of the room is applied (its backlog is empty)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        backlog_key = keys.backlog(self.room)
        while True:
            self._applied.clear()
            if int(await self.redis.get(backlog_key) or 0) <= 0:
                return
            if self._worker_task is not None and self._worker_task.done():
                self._worker_task.result()
                raise RuntimeError("the worker stopped")
            left = deadline - time.monotonic()
            if left <= 0:
                # A starved process can miss a lease renewal: the worker takes the room
                # back once the lease runs out (it is the only one), so only time is fatal.
                held = "holds" if self.room in self.worker.rooms else "does not hold"
                raise RuntimeError(f"the worker did not apply the room's events within {DRAIN_TIMEOUT_S} s "
                                   f"(it {held} room {self.room})")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._applied.wait(), timeout=min(left, 0.5))

    async def step(self, seconds: float = 1.0) -> bool:
        """Move the clock on by `seconds`, ingest what the sources produced meanwhile,
        let the worker apply it, tick the cues and run one alert round. Returns whether
        the room's alerts changed."""
        self.clock.advance(seconds=seconds)
        now = self.clock.now_ms()
        events: list[dict[str, Any]] = []
        for source in self.sources:
            events.extend(source.events_until(now))
        if events:
            events.sort(key=lambda e: e["ts"])
            await self.feed(events)
        if self.ticker is not None:
            await self.ticker.tick(self.room)
        changed = await self._alert_round()
        self.rounds += 1
        if changed:
            await self._collect_transitions()
        return changed

    async def _alert_round(self) -> bool:
        """One alert round; a round that SQL answered too slowly for (a busy machine) is
        run again, as the engine's own loop would on its next tick."""
        for attempt in range(SLOW_SQL_RETRIES):
            try:
                return await self.engine.evaluate_room(self.room)
            except SlowDatabase:
                if attempt == SLOW_SQL_RETRIES - 1:
                    raise
        return False

    async def advance(self, seconds: float, *, step_s: float = 1.0,
                      until: Callable[["Pipeline"], bool] | None = None) -> None:
        """`seconds` of show time in steps of `step_s` (stops early once `until(p)`)."""
        steps = max(1, round(seconds / step_s))
        for _ in range(steps):
            await self.step(step_s)
            if until is not None and until(self):
                return

    # --- the controller's side -----------------------------------------------------------

    async def act(self, action: str, **params: Any) -> dict[str, Any]:
        """A controller's run-of-show action (next, extend seconds=60, auto on=on, end …)
        now, published to the screens as the route does."""
        now_ms = self.clock.now_ms()

        def change(session: Session) -> dict[str, Any]:
            show = session.get(Show, self.show_id)
            return act(session, show=show, action=action, now_ms=now_ms,
                       params={k: str(v) for k, v in params.items()})

        detail = await run_in_transaction(self.sessions, change)
        await self.projections.publish(self.room, SHOW.name, TARGETS.name)
        return detail

    async def start_playbook(self, key: str, *, by: str = "tech") -> int:
        """A playbook started by hand now (SOP 5: tech starts the equipment-failure
        plan); returns the run's id."""
        now = ms_to_datetime(self.clock.now_ms())

        def start(session: Session) -> int:
            room = session.scalar(select(Room).where(Room.slug == self.room))
            return playbooks.start_run(session, room=room, key=key, by=by, now=now).id

        run_id = await run_in_transaction(self.sessions, start)
        await self.projections.publish(self.room, playbooks.PLAYBOOKS.name)
        return run_id

    # --- what came out -------------------------------------------------------------------

    async def _collect_transitions(self) -> None:
        last = self._last_transition_id

        def read(session: Session) -> list[tuple[AlertTransition, Alert]]:
            return list(session.execute(
                select(AlertTransition, Alert).join(Alert, AlertTransition.alert_id == Alert.id)
                .join(Room, Alert.room_id == Room.id)
                .where(Room.slug == self.room, AlertTransition.id > last).order_by(AlertTransition.id)
            ).all())

        for transition, alert in await run_in_transaction(self.sessions, read):
            self.timeline.append(Transition(
                at=_ms(transition.at), alert_id=alert.id, rule_key=alert.rule_key, level=alert.level,
                event=transition.event, from_state=transition.from_state, reason=transition.reason,
            ))
            self._last_transition_id = max(self._last_transition_id, transition.id)

    async def alerts(self) -> list[AlertRecord]:
        """The room's alerts as SQL has them, oldest first."""

        def read(session: Session) -> list[AlertRecord]:
            rows = session.scalars(
                select(Alert).join(Room, Alert.room_id == Room.id).where(Room.slug == self.room).order_by(Alert.id))
            return [
                AlertRecord(id=a.id, rule_key=a.rule_key, level=a.level, state=a.state,
                            started_at=_ms(a.started_at), fired_at=_ms(a.fired_at), resolved_at=_ms(a.resolved_at),
                            escalated_at=_ms(a.escalated_at), muted_reason=a.muted_reason, value=a.value,
                            reference=a.reference, labels=dict(a.labels or {}))
                for a in rows
            ]

        return await run_in_transaction(self.sessions, read)

    async def raised(self, rule_key: str) -> list[AlertRecord]:
        """The alerts of one rule that fired."""
        return [a for a in await self.alerts() if a.rule_key == rule_key and a.raised]

    def fired(self, rule_key: str) -> list[Transition]:
        """When alerts of `rule_key` fired, from the timeline."""
        return [t for t in self.timeline if t.rule_key == rule_key and t.event == "firing"]

    async def rules(self) -> list[RuleDefinition]:
        """The rules in force (SQL), as the engine reads them."""
        return await run_in_transaction(self.sessions, definitions)

    async def state(self):
        """The room's checkpointed live state (numbers, distinct people, feed pulse)."""
        from controlroom.live.view import read_live_state

        return await read_live_state(self.redis, self.room)


async def _no_recording(room: str, now: datetime) -> None:
    """Ending a show writes its recording in a real process; not here."""


# --- feeds ------------------------------------------------------------------------------------

Rate = float | Callable[[float], float]


def _at(value: Any, show_s: float) -> Any:
    return value(show_s) if callable(value) else value


ORDINARY_COMMENTS = (
    "多少钱", "什么时候发货", "有没有优惠券", "好看", "已下单", "主播好美", "来了来了", "主播晚上好",
    "哈哈哈哈", "扣1", "上链接", "还有货吗", "包邮吗", "爱了爱了", "性价比绝了", "打卡", "几号链接", "在的在的",
)


@dataclass
class SteadyRoom:
    """A live room as a platform reports it, deterministic: a viewers reading every
    `viewers_every_s` (online from `online(show_s)`, the cumulative total from
    `viewers_total`), comments, likes, room entries and paid orders at their rates per
    minute (evenly spaced, so a scenario's numbers are exact), and a stream report every
    `stream_every_s` (status and latency). Every number may be a constant or a function
    of the show's seconds. `silent`: [start, end) spans of show seconds in which the feed
    sends nothing at all (an outage at the source). `comment(n, show_s)` says what the
    n-th comment says (default: ordinary chatter)."""

    start_ms: int
    online: Rate = 2000
    viewers_every_s: float = 3.0
    viewers_total: Rate | None = None
    comments_per_min: Rate = 30
    comment: Callable[[int, float], str] | None = None
    commenters: int = 400
    likes_per_min: Rate = 20
    enters_per_min: Rate = 0
    # Show second -> {traffic channel: share} of the entries; None: entries name no channel.
    enter_channels: Callable[[float], Mapping[str, float]] | None = None
    orders_per_min: Rate = 0
    order_cents: int = 1990
    order_sku: str = "A1"
    stream_every_s: float | None = 5.0
    stream_status: str | Callable[[float], str] = "live"
    latency_ms: int | Callable[[float], int | None] | None = 800
    silent: Sequence[tuple[float, float]] = ()
    seed: int = 7
    prefix: str = field(default_factory=lambda: f"r{uuid.uuid4().hex[:6]}-")

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._until_ms = self.start_ms
        self._counts: dict[str, float] = {}
        self._ids = itertools.count(1)
        self.comments_sent = 0
        self.orders_sent = 0
        self._channel_counts: dict[str, int] = {}

    # A second at a time: each kind of event is spread evenly over the second by the
    # fraction of its rate that came due.
    def events_until(self, now_ms: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while self._until_ms + 1000 <= now_ms:
            self._second(self._until_ms, out)
            self._until_ms += 1000
        return out

    def _due(self, kind: str, per_min: float) -> int:
        before = self._counts.get(kind, 0.0)
        after = before + max(0.0, per_min) / 60
        self._counts[kind] = after
        return int(math.floor(after + 1e-9) - math.floor(before + 1e-9))

    def _periodic(self, kind: str, every_s: float, second_s: float) -> bool:
        """Whether a periodic report falls in this second (the first one at every_s)."""
        return math.floor((second_s + 1) / every_s + 1e-9) > math.floor(second_s / every_s + 1e-9)

    def _event(self, kind: str, ts: int, **fields: Any) -> dict[str, Any]:
        return {"id": f"{self.prefix}{next(self._ids)}", "type": kind, "ts": ts, **fields}

    def _second(self, start_ms: int, out: list[dict[str, Any]]) -> None:
        s = (start_ms - self.start_ms) / 1000
        if any(a <= s < b for a, b in self.silent):
            return
        end_ms = start_ms + 1000
        if self._periodic("viewers", self.viewers_every_s, s):
            reading = {"online": max(0, round(_at(self.online, s)))}
            if self.viewers_total is not None:
                reading["total"] = max(0, round(_at(self.viewers_total, s)))
            out.append(self._event("viewers", end_ms, **reading))
        if self.stream_every_s and self._periodic("stream", self.stream_every_s, s):
            status = _at(self.stream_status, s)
            latency = _at(self.latency_ms, s)
            out.append(self._event("stream", end_ms, status=status,
                                   **({"latency_ms": int(latency)} if latency is not None else {})))
        for kind, rate in (("comment", self.comments_per_min), ("like", self.likes_per_min),
                           ("enter", self.enters_per_min), ("order", self.orders_per_min)):
            n = self._due(kind, _at(rate, s))
            for i in range(n):
                ts = start_ms + 1 + (1000 * i) // n
                self._make(kind, ts, s, out)

    def _user(self) -> dict[str, str]:
        number = 1 + int(self.commenters * self._rng.random())
        return {"id": f"{self.prefix}u{number}", "name": f"观众{number}"}

    def _channel(self, s: float) -> str:
        """The channel furthest behind its share so far: the mix is exact, not sampled."""
        shares = dict(self.enter_channels(s))
        if shares != getattr(self, "_channel_shares", None):
            self._channel_shares, self._channel_counts = shares, {}  # a new mix starts afresh
        made = sum(self._channel_counts.values()) + 1
        channel = max(shares, key=lambda c: shares[c] * made - self._channel_counts.get(c, 0))
        self._channel_counts[channel] = self._channel_counts.get(channel, 0) + 1
        return channel

    def _make(self, kind: str, ts: int, s: float, out: list[dict[str, Any]]) -> None:
        if kind == "comment":
            text = (self.comment(self.comments_sent, s) if self.comment is not None
                    else self._rng.choice(ORDINARY_COMMENTS))
            self.comments_sent += 1
            out.append(self._event("comment", ts, user=self._user(), text=text))
        elif kind == "like":
            out.append(self._event("like", ts, user=self._user(), count=1 + self._rng.randrange(10)))
        elif kind == "enter":
            # Each entry a new person: distinct viewers per minute follow the rate.
            extra = {"channel": self._channel(s)} if self.enter_channels is not None else {}
            out.append(self._event("enter", ts, user={"id": f"{self.prefix}e{next(self._ids)}"}, **extra))
        elif kind == "order":
            # Each paid order a new buyer: distinct payers per minute follow the rate.
            self.orders_sent += 1
            buyer = {"id": f"{self.prefix}b{self.orders_sent}"}
            order_id = f"{self.prefix}o{self.orders_sent}"
            out.append(self._event("order", ts, user=buyer, order_id=order_id, status="paid", sku=self.order_sku,
                                   quantity=1, amount_cents=self.order_cents))


def ramp(points: Sequence[tuple[float, float]]) -> Callable[[float], float]:
    """A piecewise-linear curve through (show second, value) points, flat outside them."""
    points = sorted(points)

    def value(s: float) -> float:
        if s <= points[0][0]:
            return points[0][1]
        for (t0, v0), (t1, v1) in zip(points, points[1:]):
            if s <= t1:
                return v0 + (v1 - v0) * (s - t0) / (t1 - t0) if t1 > t0 else v1
        return points[-1][1]

    return value


class Scheduled:
    """One-off events at given show seconds (a burst of complaints, a stream report):
    `Scheduled(start_ms, [(12.5, {"type": "comment", ...}), ...])`; ids and ts are
    filled in."""

    def __init__(self, start_ms: int, items: Iterable[tuple[float, dict[str, Any]]]) -> None:
        self._prefix = f"s{uuid.uuid4().hex[:6]}-"
        self._items = sorted(((start_ms + round(s * 1000), i, item) for i, (s, item) in enumerate(items)),
                             key=lambda row: (row[0], row[1]))
        self._next = 0

    def events_until(self, now_ms: int) -> list[dict[str, Any]]:
        out = []
        while self._next < len(self._items) and self._items[self._next][0] <= now_ms:
            ts, i, item = self._items[self._next]
            out.append({"id": f"{self._prefix}{i}", "ts": ts, **item})
            self._next += 1
        return out
