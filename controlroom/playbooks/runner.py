"""A running playbook: pure, clock-injected. Deadlines count from the start of the run;
the current step is the first not yet done, and its cue goes to the host when it becomes
current. Each undone step is green, yellow near its deadline, red past it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from controlroom.i18n.refusal import Refusal
from controlroom.playbooks.schemas import PlaybookDefinition

RUNNING, COMPLETED, ABORTED = "running", "completed", "aborted"
GREEN, YELLOW, RED = "green", "yellow", "red"


class RunRefused(Refusal):
    """Why a playbook action is refused (said in the reader's language)."""


def warning_s(deadline_s: int) -> int:
    """How long before its deadline a step turns yellow: a quarter of it, 5-30 s."""
    return min(30, max(5, deadline_s // 4))


@dataclass(frozen=True)
class StepState:
    done_at: int | None = None
    done_by: str = ""
    cue_sent_at: int | None = None


@dataclass(frozen=True)
class PlaybookRun:
    started_at: int
    status: str = RUNNING
    ended_at: int | None = None
    ended_by: str = ""
    steps: tuple[StepState, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "status": self.status, "ended_at": self.ended_at,
                "ended_by": self.ended_by, "steps": [[s.done_at, s.done_by, s.cue_sent_at] for s in self.steps]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PlaybookRun":
        return cls(data["started_at"], data["status"], data["ended_at"], data["ended_by"],
                   tuple(StepState(*row) for row in data["steps"]))


@dataclass(frozen=True)
class Cue:
    step: int
    text: str


def _current(run: PlaybookRun) -> int | None:
    return next((i for i, s in enumerate(run.steps) if s.done_at is None), None)


def _send_current_cue(definition: PlaybookDefinition, run: PlaybookRun, now: int) -> tuple[PlaybookRun, list[Cue]]:
    index = _current(run)
    if index is None or run.steps[index].cue_sent_at is not None or not definition.steps[index].cue:
        return run, []
    steps = list(run.steps)
    steps[index] = replace(steps[index], cue_sent_at=now)
    return replace(run, steps=tuple(steps)), [Cue(index, definition.steps[index].cue)]


def start(definition: PlaybookDefinition, now: int) -> tuple[PlaybookRun, list[Cue]]:
    run = PlaybookRun(started_at=now, steps=tuple(StepState() for _ in definition.steps))
    return _send_current_cue(definition, run, now)


def _need_running(run: PlaybookRun) -> None:
    if run.status == COMPLETED:
        raise RunRefused("the playbook is completed already")
    if run.status != RUNNING:
        raise RunRefused("the playbook was aborted")


def tick(definition: PlaybookDefinition, run: PlaybookRun, index: int, *, by: str, now: int
         ) -> tuple[PlaybookRun, list[Cue], bool]:
    """Mark a step done; returns the run, the cue of the step that became current, and
    whether the step was late."""
    _need_running(run)
    if not 0 <= index < len(run.steps):
        raise RunRefused("there is no step %(n)s", n=index + 1)
    if run.steps[index].done_at is not None:
        raise RunRefused("step %(n)s was done by %(who)s already", n=index + 1, who=run.steps[index].done_by)
    steps = list(run.steps)
    steps[index] = replace(steps[index], done_at=now, done_by=by)
    run = replace(run, steps=tuple(steps))
    late = now > run.started_at + definition.steps[index].deadline_s * 1000
    run, cues = _send_current_cue(definition, run, now)
    return run, cues, late


def close(run: PlaybookRun, *, status: str, by: str, now: int) -> PlaybookRun:
    _need_running(run)
    if status not in (COMPLETED, ABORTED):
        raise RunRefused("status: a playbook ends completed or aborted, not “%(status)s”", status=status)
    return replace(run, status=status, ended_at=now, ended_by=by)


@dataclass(frozen=True)
class StepView:
    index: int
    done: bool
    late: bool  # done after its deadline, or undone past it
    current: bool
    phase: str | None  # for undone steps
    deadline_at: int
    remaining_s: float


def steps_view(definition: PlaybookDefinition, run: PlaybookRun, now: int) -> list[StepView]:
    current = _current(run) if run.status == RUNNING else None
    views = []
    for index, (step, state) in enumerate(zip(definition.steps, run.steps)):
        deadline_at = run.started_at + step.deadline_s * 1000
        moment = state.done_at if state.done_at is not None else (run.ended_at or now)
        remaining = (deadline_at - moment) / 1000
        phase = None
        if state.done_at is None:
            phase = RED if remaining < 0 else YELLOW if remaining <= warning_s(step.deadline_s) else GREEN
        views.append(StepView(index, state.done_at is not None, remaining < 0, index == current, phase, deadline_at,
                              remaining))
    return views


def encoder_steps_due(definition: PlaybookDefinition, before: PlaybookRun | None, after: PlaybookRun,
                      ticked: int | None = None) -> list[int]:
    """The steps whose encoder action is due now: the step just ticked (actions run on
    tick) and the step that just became current (actions run when it starts)."""
    due = []
    if ticked is not None and (action := definition.steps[ticked].encoder) and action.when == "tick":
        due.append(ticked)
    current = _current(after) if after.status == RUNNING else None
    if current is not None and (before is None or _current(before) != current):
        if (action := definition.steps[current].encoder) and action.when == "start":
            due.append(current)
    return due


def late_steps(definition: PlaybookDefinition, run: PlaybookRun, now: int) -> int:
    return sum(view.late for view in steps_view(definition, run, now))
