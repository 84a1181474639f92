"""The cue engine: where a live show stands in its script, which cues are due, and the
controller's actions. Pure, clock-injected (every function takes `now` in ms), on plain
data: the script and a RunState that is stored with the show and replayed on restart.

States: scheduled → live ⇄ held → ended. For the current segment: elapsed (holds
excluded), remaining, and a phase — green, yellow in its last minute (configurable),
red past its planned end (counting up).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from controlroom.shows.script import Script, Segment

SCHEDULED, LIVE, HELD, ENDED = "scheduled", "live", "held", "ended"
GREEN, YELLOW, RED = "green", "yellow", "red"
YELLOW_S = 60
# Automatic cues before the next segment: (key, seconds before the planned end, text).
AUTO_CUES = (("t60", 60, "1 分钟后：{next}"), ("t10", 10, "10 秒后：{next}"))


class ActionRefused(ValueError):
    pass


@dataclass(frozen=True)
class Actual:
    """What happened to one segment: when it ran, how long it was planned to."""

    index: int
    title: str
    planned_s: int
    started_at: int
    ended_at: int | None = None
    extension_s: int = 0
    held_ms: int = 0
    skipped: bool = False

    def to_json(self) -> list:
        return [self.index, self.title, self.planned_s, self.started_at, self.ended_at, self.extension_s,
                self.held_ms, self.skipped]

    @classmethod
    def from_json(cls, row: list) -> "Actual":
        return cls(*row)


@dataclass(frozen=True)
class RunState:
    status: str = SCHEDULED
    started_at: int | None = None
    ended_at: int | None = None
    index: int = 0
    segment_started_at: int | None = None
    extension_s: int = 0
    held_at: int | None = None
    held_ms: int = 0  # time held in the current segment, excluded from its elapsed
    fired: frozenset[str] = frozenset()  # cue keys fired in the current segment
    actuals: tuple[Actual, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "started_at": self.started_at, "ended_at": self.ended_at, "index": self.index,
            "segment_started_at": self.segment_started_at, "extension_s": self.extension_s,
            "held_at": self.held_at, "held_ms": self.held_ms, "fired": sorted(self.fired),
            "actuals": [a.to_json() for a in self.actuals],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> "RunState":
        if not data:
            return cls()
        # Fields missing from older or hand-written runs take their defaults.
        default = cls()
        return cls(
            status=data.get("status", default.status), started_at=data.get("started_at"),
            ended_at=data.get("ended_at"), index=data.get("index", 0),
            segment_started_at=data.get("segment_started_at"), extension_s=data.get("extension_s", 0),
            held_at=data.get("held_at"), held_ms=data.get("held_ms", 0), fired=frozenset(data.get("fired", ())),
            actuals=tuple(Actual.from_json(row) for row in data.get("actuals", ())),
        )


@dataclass(frozen=True)
class Firing:
    key: str  # unique within the segment: "c<n>" for scripted cues, "t60"/"t10" automatic
    segment: int
    planned_at: int  # ms
    text: str
    audience: str


@dataclass(frozen=True)
class Position:
    """Where the show stands at a moment, for the screens."""

    status: str
    index: int
    segment: Segment | None
    next_segment: Segment | None
    elapsed_s: float
    remaining_s: float  # negative when over time
    phase: str | None
    segment_ends_at: int | None  # ms, if nothing changes (held: None)
    projected_end_at: int | None  # ms
    show_elapsed_s: float
    planned_starts: tuple[int, ...] = field(default_factory=tuple)  # seconds from the show start


# --- reading ------------------------------------------------------------------------------


def planned_starts(script: Script) -> tuple[int, ...]:
    """Planned start of every segment, seconds from the show's start: the running sum of
    durations, or the segment's own fixed start."""
    starts, clock = [], 0
    for segment in script.segments:
        start = segment.starts_at_s if segment.starts_at_s is not None else clock
        starts.append(start)
        clock = start + segment.planned_s
    return tuple(starts)


def _elapsed_ms(run: RunState, now: int) -> int:
    if run.segment_started_at is None:
        return 0
    held = run.held_ms + (now - run.held_at if run.held_at is not None else 0)
    return max(0, now - run.segment_started_at - held)


def _segment_length_s(script: Script, run: RunState) -> int:
    return script.segments[run.index].planned_s + run.extension_s


def position(script: Script, run: RunState, now: int, *, yellow_s: int = YELLOW_S) -> Position:
    starts = planned_starts(script)
    if run.status in (SCHEDULED, ENDED) or not script.segments:
        return Position(run.status, run.index, None, script.segments[0] if run.status == SCHEDULED and script.segments
                        else None, 0, 0, None, None, None,
                        ((run.ended_at or now) - run.started_at) / 1000 if run.started_at else 0, starts)
    segment = script.segments[run.index]
    elapsed = _elapsed_ms(run, now) / 1000
    length = _segment_length_s(script, run)
    remaining = length - elapsed
    phase = RED if remaining < 0 else YELLOW if remaining <= yellow_s else GREEN
    later = sum(s.planned_s for s in script.segments[run.index + 1:])
    projected = now + int(max(remaining, 0) * 1000) + later * 1000
    ends_at = None if run.status == HELD else now + int(remaining * 1000)
    nxt = script.segments[run.index + 1] if run.index + 1 < len(script.segments) else None
    return Position(run.status, run.index, segment, nxt, elapsed, remaining, phase, ends_at, projected,
                    (now - run.started_at) / 1000 if run.started_at else 0, starts)


def due_cues(script: Script, run: RunState, now: int) -> list[Firing]:
    """Cues of the current segment whose time has come and that have not fired yet,
    and the automatic T-60 s / T-10 s before the next segment."""
    if run.status != LIVE or run.segment_started_at is None:
        return []
    segment = script.segments[run.index]
    elapsed_ms = _elapsed_ms(run, now)
    base = now - elapsed_ms  # the segment's start, holds taken out
    due = []
    for number, cue in enumerate(segment.cues):
        key = f"c{number}"
        if key not in run.fired and cue.offset_s * 1000 <= elapsed_ms:
            due.append(Firing(key, run.index, base + cue.offset_s * 1000, cue.text, cue.audience))
    if run.index + 1 < len(script.segments):
        upcoming = script.segments[run.index + 1].title
        length_ms = _segment_length_s(script, run) * 1000
        for key, before_s, text in AUTO_CUES:
            at_ms = length_ms - before_s * 1000
            if key not in run.fired and at_ms > 0 and elapsed_ms >= at_ms:
                due.append(Firing(key, run.index, base + at_ms, text.format(next=upcoming), "both"))
    return due


def mark_fired(run: RunState, firings: list[Firing]) -> RunState:
    return replace(run, fired=run.fired | {f.key for f in firings})


# --- the controller's actions -------------------------------------------------------------


def _need(run: RunState, *states: str, action: str) -> None:
    if run.status not in states:
        raise ActionRefused(f"cannot {action} a show that is {run.status}")


def _close_current(script: Script, run: RunState, now: int, *, skipped: bool = False) -> tuple[Actual, ...]:
    actuals = list(run.actuals)
    if run.segment_started_at is not None and actuals and actuals[-1].ended_at is None:
        held = run.held_ms + (now - run.held_at if run.held_at is not None else 0)
        actuals[-1] = replace(actuals[-1], ended_at=now, extension_s=run.extension_s, held_ms=held,
                              skipped=skipped or actuals[-1].skipped)
    return tuple(actuals)


def _enter(script: Script, run: RunState, index: int, now: int, actuals: tuple[Actual, ...]) -> RunState:
    segment = script.segments[index]
    return replace(
        run, status=LIVE, index=index, segment_started_at=now, extension_s=0, held_at=None, held_ms=0,
        fired=frozenset(), actuals=actuals + (Actual(index, segment.title, segment.planned_s, now),),
    )


def start(script: Script, run: RunState, now: int) -> RunState:
    _need(run, SCHEDULED, action="start")
    if not script.segments:
        raise ActionRefused("the show has no segments yet: write its script first")
    return _enter(script, replace(run, started_at=now), 0, now, ())


def jump(script: Script, run: RunState, index: int, now: int, *, skipped: bool = False) -> RunState:
    _need(run, LIVE, HELD, action="move")
    if not 0 <= index < len(script.segments):
        raise ActionRefused(f"there is no segment {index + 1} (the script has {len(script.segments)})")
    return _enter(script, run, index, now, _close_current(script, run, now, skipped=skipped))


def next_segment(script: Script, run: RunState, now: int) -> RunState:
    if run.index + 1 >= len(script.segments):
        raise ActionRefused("this is the last segment: end the show instead")
    return jump(script, run, run.index + 1, now)


def back(script: Script, run: RunState, now: int) -> RunState:
    if run.index == 0:
        raise ActionRefused("this is the first segment")
    return jump(script, run, run.index - 1, now)


def skip(script: Script, run: RunState, now: int) -> RunState:
    """Leave the current segment marked skipped (it did not get its time)."""
    if run.index + 1 >= len(script.segments):
        raise ActionRefused("this is the last segment: end the show instead")
    return jump(script, run, run.index + 1, now, skipped=True)


def extend(script: Script, run: RunState, seconds: int, now: int) -> RunState:
    _need(run, LIVE, HELD, action="extend")
    planned = script.segments[run.index].planned_s
    if planned + run.extension_s + seconds < 60:
        raise ActionRefused("a segment cannot be shortened below one minute")
    # Automatic cues already fired re-arm if the new end is far enough away again.
    length_ms = (planned + run.extension_s + seconds) * 1000
    elapsed = _elapsed_ms(run, now)
    rearmed = {key for key, before_s, _ in AUTO_CUES if elapsed < length_ms - before_s * 1000}
    return replace(run, extension_s=run.extension_s + seconds, fired=run.fired - rearmed)


def hold(run: RunState, now: int) -> RunState:
    _need(run, LIVE, action="hold")
    return replace(run, status=HELD, held_at=now)


def resume(run: RunState, now: int) -> RunState:
    _need(run, HELD, action="resume")
    return replace(run, status=LIVE, held_at=None, held_ms=run.held_ms + (now - (run.held_at or now)))


def end(script: Script, run: RunState, now: int) -> RunState:
    _need(run, LIVE, HELD, action="end")
    return replace(run, status=ENDED, ended_at=now, held_at=None, actuals=_close_current(script, run, now))


def insert_after(script: Script, index: int, segment: Segment) -> Script:
    """The script with an ad-hoc segment (expert Q&A) right after `index`."""
    segments = list(script.segments)
    segments.insert(index + 1, segment)
    return replace(script, segments=tuple(segments))


# --- planned against actual ------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentReport:
    index: int
    title: str
    planned_start_s: int
    planned_s: int
    actual_start: int | None  # ms
    actual_end: int | None
    actual_s: float | None
    over_s: float | None  # positive: ran over; negative: under
    skipped: bool


def planned_vs_actual(script: Script, run: RunState, now: int) -> list[SegmentReport]:
    """Each segment of the script with what happened to it (the latest run of it, when
    the controller went back)."""
    starts = planned_starts(script)
    latest = {actual.index: actual for actual in run.actuals}
    rows = []
    for index, segment in enumerate(script.segments):
        actual = latest.get(index)
        if actual is None:
            rows.append(SegmentReport(index, segment.title, starts[index], segment.planned_s, None, None, None, None, False))
            continue
        end = actual.ended_at if actual.ended_at is not None else now
        held = actual.held_ms if actual.ended_at is not None else run.held_ms + (
            now - run.held_at if run.held_at is not None else 0)
        duration = max(0, end - actual.started_at - held) / 1000
        rows.append(SegmentReport(index, segment.title, starts[index], segment.planned_s, actual.started_at,
                                  actual.ended_at, duration, duration - segment.planned_s, actual.skipped))
    return rows
