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


ENCODED = PlaybookDefinition.model_validate({
    "key": "black-screen", "name": "黑屏", "level": "red",
    "steps": [
        {"title": "确认黑屏", "owner": "tech", "deadline_s": 30},
        {"title": "切备用画面", "owner": "tech", "deadline_s": 60,
         "encoder": {"op": "switch_scene", "scene": "备用画面", "when": "start"}},
        {"title": "重新推流", "owner": "tech", "deadline_s": 120, "encoder": {"op": "start_stream"}},
    ],
})


def test_encoder_actions_are_due_as_their_step_starts_or_when_it_is_ticked():
    clock = FakeClock()
    run, _ = runner.start(ENCODED, clock.now_ms())
    assert runner.encoder_steps_due(ENCODED, None, run) == []  # step 1 has none
    after, _, _ = runner.tick(ENCODED, run, 0, by="tech", now=clock.now_ms())
    assert runner.encoder_steps_due(ENCODED, run, after, 0) == [1]  # step 2 starts: its scene switch runs
    done, _, _ = runner.tick(ENCODED, after, 1, by="tech", now=clock.now_ms())
    assert runner.encoder_steps_due(ENCODED, after, done, 1) == []  # ran when it started, not again
    last, _, _ = runner.tick(ENCODED, done, 2, by="tech", now=clock.now_ms())
    assert runner.encoder_steps_due(ENCODED, done, last, 2) == [2]  # "tick" actions run when ticked


def test_an_encoder_step_names_what_it_needs():
    with pytest.raises(ValueError, match="scene"):
        PlaybookDefinition.model_validate({"key": "x", "name": "x", "level": "red", "steps": [
            {"title": "t", "owner": "tech", "deadline_s": 30, "encoder": {"op": "switch_scene"}}]})
    assert ENCODED.steps[1].encoder.action() == {"op": "switch_scene", "scene": "备用画面"}


def test_a_step_past_its_deadline_is_told_once_per_run_and_step():
    from controlroom.playbooks.lateness import late_notices

    projection = {"runs": [
        {"id": 4, "key": "stutter", "name": "卡顿", "name_en": "Stutter", "level": "yellow", "status": "running",
         "alert_id": 9, "steps": [{"title": "查带宽", "owner": "tech", "done": True, "deadline_at": 1_000},
                                  {"title": "降码率", "owner": "tech", "done": False, "deadline_at": 5_000},
                                  {"title": "确认恢复", "owner": "tech", "done": False, "deadline_at": 90_000}]},
        {"id": 5, "key": "x", "name": "x", "level": "red", "status": "aborted", "alert_id": None,
         "steps": [{"title": "t", "owner": "tech", "done": False, "deadline_at": 1_000}]},
    ]}
    told = late_notices("room1", projection, now_ms=10_000)
    assert [(key, n["event"], n["name"], n["alert_id"]) for key, n in told] == [
        ("cr:{room1}:late-step:4:2", "step_late", "卡顿 · 2. 降码率", 9)]
