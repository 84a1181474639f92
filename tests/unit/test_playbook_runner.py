"""A playbook run's timing with a fake clock: on time, late, aborted."""

from __future__ import annotations

import pytest

from controlroom.clock import FakeClock
from controlroom.playbooks import runner
from controlroom.playbooks.runner import GREEN, RED, YELLOW, PlaybookRun, RunRefused
from controlroom.playbooks.schemas import PlaybookDefinition

DEFINITION = PlaybookDefinition.model_validate({
    "key": "stream-interruption", "name": "断流/黑屏", "level": "red",
    "steps": [
        {"title": "确认断流", "owner": "tech", "deadline_s": 30},
        {"title": "主播说等待话术", "owner": "host", "deadline_s": 60, "cue": "请说等待话术"},
        {"title": "切备用推流", "owner": "tech", "deadline_s": 120},
    ],
})


def phases(run: PlaybookRun, clock: FakeClock) -> list:
    return [(v.done, v.phase) for v in runner.steps_view(DEFINITION, run, clock.now_ms())]


def test_all_steps_on_time():
    clock = FakeClock()
    run, cues = runner.start(DEFINITION, clock.now_ms())
    assert cues == []  # the first step has no cue
    clock.advance(seconds=20)
    run, cues, late = runner.tick(DEFINITION, run, 0, by="tech1", now=clock.now_ms())
    assert not late and cues == [runner.Cue(1, "请说等待话术")]  # step 2 is current now: its cue goes out
    clock.advance(seconds=20)
    run, _, late = runner.tick(DEFINITION, run, 1, by="host1", now=clock.now_ms())
    run, _, late = runner.tick(DEFINITION, run, 2, by="tech1", now=clock.now_ms())
    run = runner.close(run, status=runner.COMPLETED, by="tech1", now=clock.now_ms())
    assert runner.late_steps(DEFINITION, run, clock.now_ms()) == 0
    assert run.status == "completed"


def test_a_step_goes_yellow_then_red_and_counts_as_late():
    clock = FakeClock()
    run, _ = runner.start(DEFINITION, clock.now_ms())
    run, _, _ = runner.tick(DEFINITION, run, 0, by="tech1", now=clock.now_ms())
    clock.advance(seconds=40)
    assert phases(run, clock)[1] == (False, GREEN)
    clock.advance(seconds=6)  # 14 s before its 60 s deadline (yellow from 15 s)
    assert phases(run, clock)[1] == (False, YELLOW)
    clock.advance(seconds=15)
    assert phases(run, clock)[1] == (False, RED)
    assert runner.late_steps(DEFINITION, run, clock.now_ms()) == 1
    run, _, late = runner.tick(DEFINITION, run, 1, by="host1", now=clock.now_ms())
    assert late
    assert runner.late_steps(DEFINITION, run, clock.now_ms()) == 1  # done late stays late


def test_an_aborted_run_stops_the_clock_and_refuses_more_ticks():
    clock = FakeClock()
    run, _ = runner.start(DEFINITION, clock.now_ms())
    clock.advance(seconds=10)
    run = runner.close(run, status=runner.ABORTED, by="ctrl", now=clock.now_ms())
    clock.advance(seconds=600)
    # Steps undone at the abort were not late then, and the clock does not run on.
    assert runner.late_steps(DEFINITION, run, clock.now_ms()) == 0
    with pytest.raises(RunRefused, match="aborted"):
        runner.tick(DEFINITION, run, 0, by="tech1", now=clock.now_ms())


def test_a_step_is_done_once_and_the_run_survives_json():
    clock = FakeClock()
    run, _ = runner.start(DEFINITION, clock.now_ms())
    run, _, _ = runner.tick(DEFINITION, run, 0, by="tech1", now=clock.now_ms())
    with pytest.raises(RunRefused, match="tech1 already"):
        runner.tick(DEFINITION, run, 0, by="tech2", now=clock.now_ms())
    assert PlaybookRun.from_json(run.to_json()) == run


def test_deadlines_must_be_in_order():
    with pytest.raises(ValueError, match="order of their deadlines"):
        PlaybookDefinition.model_validate({"key": "x", "name": "x", "level": "red", "steps": [
            {"title": "a", "owner": "tech", "deadline_s": 60}, {"title": "b", "owner": "tech", "deadline_s": 30}]})
