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

from controlroom.i18n.refusal import Refusal
from controlroom.shows.script import Script, Segment

SCHEDULED, LIVE, HELD, ENDED = "scheduled", "live", "held", "ended"
GREEN, YELLOW, RED = "green", "yellow", "red"
YELLOW_S = 60
# Automatic cues before the next segment: (key, seconds before the planned end, text).
AUTO_CUES = (("t60", 60, "1 分钟后：{next}"), ("t10", 10, "10 秒后：{next}"))


class ActionRefused(Refusal):
    """Why a run-of-show or script action cannot be done: a message id with %(name)s
    placeholders and its values, said in the reader's language by the routes."""


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
    # Auto-advance (自动切换): the ticker moves on to the next segment when the current
    # one's time (with its extensions) is up. The controller's actions still apply.
    auto_advance: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status, "started_at": self.started_at, "ended_at": self.ended_at, "index": self.index,
            "segment_started_at": self.segment_started_at, "extension_s": self.extension_s,
            "held_at": self.held_at, "held_ms": self.held_ms, "fired": sorted(self.fired),
            "actuals": [a.to_json() for a in self.actuals], "auto_advance": self.auto_advance,
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
            auto_advance=bool(data.get("auto_advance", False)),
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
    """Refused unless the show is in one of `states`; the controller is told where the
    show stands (which says why)."""
    if run.status in states:
        return
    if run.status == ENDED:
        raise ActionRefused("The show has ended")
    if run.status == SCHEDULED:
        raise ActionRefused("The show has not started yet")
    if action == "start":
        raise ActionRefused("The show has already started")
    if run.status == HELD:
        raise ActionRefused("The show is already on hold")
    raise ActionRefused("The show is not on hold")


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
        raise ActionRefused("there is no segment %(n)s (the script has %(count)s)", n=index + 1,
                            count=len(script.segments))
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


# --- interrupting the current segment: insert now, pull forward -------------------------------

RESUMED_SUFFIX = "（续）"
# Less than this left of the interrupted segment: it is done, nothing to resume.
MIN_REMAINDER_S = 10
MAX_TITLE = 200


def resumed_title(title: str) -> str:
    if title.endswith(RESUMED_SUFFIX):
        return title
    return title[:MAX_TITLE - len(RESUMED_SUFFIX)] + RESUMED_SUFFIX


def is_resumed(segment: Segment) -> bool:
    return segment.title.endswith(RESUMED_SUFFIX)


def split_current(script: Script, run: RunState, now: int) -> tuple[Segment, Segment] | None:
    """The running segment cut at `now`: the part already done (planned as long as it
    ran, so the script's times stay true) and the remainder to resume later — the same
    segment with what was left of its time (extensions included), marked （续）, and only
    the cues that have not fired yet, at their offsets into the remainder. None when
    less than MIN_REMAINDER_S is left (over time: nothing to resume)."""
    segment = script.segments[run.index]
    done_s = _elapsed_ms(run, now) // 1000
    left_s = segment.planned_s + run.extension_s - done_s
    if left_s < MIN_REMAINDER_S:
        return None
    cues = tuple(replace(cue, offset_s=max(0, cue.offset_s - done_s))
                 for number, cue in enumerate(segment.cues) if f"c{number}" not in run.fired)
    done = replace(segment, planned_s=done_s)
    rest = replace(segment, title=resumed_title(segment.title), planned_s=left_s, cues=cues, starts_at_s=None)
    return done, rest


def _rearrange(script: Script, run: RunState, layout: list[tuple[int | None, Segment]], enter: int,
               now: int) -> tuple[Script, RunState]:
    """The script laid out anew (each new segment with the index it had, None for a new
    one), the run's record of what ran following its segments, and the show moved to
    `enter` (the segment left now ends, not skipped)."""
    moved = {old: new for new, (old, _segment) in enumerate(layout) if old is not None}
    actuals = tuple(replace(a, index=moved.get(a.index, a.index)) for a in run.actuals)
    new_script = replace(script, segments=tuple(segment for _old, segment in layout))
    run = replace(run, index=moved[run.index], actuals=actuals)
    return new_script, _enter(new_script, run, enter, now, _close_current(new_script, run, now))


def _layout_with(script: Script, run: RunState, now: int, first: tuple[int | None, Segment], *,
                 replace_current: bool, without: int | None = None) -> list[tuple[int | None, Segment]]:
    """The script's segments (without `without`) with `first` after the current one,
    followed by the rest of the current one unless it is replaced or nothing is left."""
    index = run.index
    split = None if replace_current else split_current(script, run, now)
    layout: list[tuple[int | None, Segment]] = [(i, s) for i, s in enumerate(script.segments) if i != without]
    at = next(n for n, (old, _s) in enumerate(layout) if old == index)
    after = [first]
    if split is not None:
        layout[at] = (index, split[0])
        after.append((None, split[1]))
    layout[at + 1:at + 1] = after
    return layout


def insert_now(script: Script, run: RunState, segment: Segment, now: int, *,
               replace_current: bool = False) -> tuple[Script, RunState]:
    """An ad-hoc segment (专家答疑) starts now. The interrupted segment resumes right
    after it with its remaining time, unless `replace_current` (it ends here)."""
    _need(run, LIVE, HELD, action="insert into")
    layout = _layout_with(script, run, now, (None, segment), replace_current=replace_current)
    return _rearrange(script, run, layout, run.index + 1, now)


def pull_forward(script: Script, run: RunState, index: int, now: int, *,
                 replace_current: bool = False) -> tuple[Script, RunState]:
    """A later segment (an interaction when traffic dips) starts now. The interrupted
    segment resumes right after it with its remaining time, unless `replace_current`."""
    _need(run, LIVE, HELD, action="pull forward in")
    if not run.index < index < len(script.segments):
        raise ActionRefused("Segment %(n)s is not a later segment: only one still to come can be pulled forward",
                            n=index + 1)
    layout = _layout_with(script, run, now, (index, script.segments[index]), replace_current=replace_current,
                          without=index)
    return _rearrange(script, run, layout, run.index + 1, now)


# --- auto-advance ----------------------------------------------------------------------------

# A segment's end missed by more than this (the ticker was away) starts the next now.
AUTO_ADVANCE_CATCH_UP_MS = 5_000


def set_auto_advance(run: RunState, on: bool) -> RunState:
    if run.status == ENDED:
        raise ActionRefused("The show has ended")
    return replace(run, auto_advance=on)


def auto_advance(script: Script, run: RunState, now: int) -> RunState | None:
    """With auto-advance on: the next segment once the current one's time (extensions
    included, holds excluded) is up, started when it was up, so the show does not drift
    by the ticker's delay. None: nothing to do (off, held, not yet, the last segment —
    which the controller ends)."""
    if not run.auto_advance or run.status != LIVE or run.segment_started_at is None:
        return None
    if run.index + 1 >= len(script.segments):
        return None
    over_ms = _elapsed_ms(run, now) - _segment_length_s(script, run) * 1000
    if over_ms < 0:
        return None
    at = now - over_ms if over_ms <= AUTO_ADVANCE_CATCH_UP_MS else now
    return jump(script, run, run.index + 1, at)


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
