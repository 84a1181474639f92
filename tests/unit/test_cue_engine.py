"""The cue engine with a fake clock: phases, cues, overrun, the controller's actions,
planned against actual."""

from __future__ import annotations

import pytest

from controlroom.clock import FakeClock
from controlroom.shows import engine
from controlroom.shows.engine import GREEN, HELD, LIVE, RED, YELLOW, ActionRefused, RunState
from controlroom.shows.script import Cue, Script, Segment

SCRIPT = Script(segments=(
    Segment("开场", "opening", 300, cues=(Cue(0, "打招呼", "host"), Cue(120, "预告福袋", "both"))),
    Segment("讲品：面霜", "product", 600, sku="A1", cues=(Cue(30, "上链接", "controller"),)),
    Segment("福袋互动", "interaction", 180),
))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def started(clock: FakeClock) -> RunState:
    return engine.start(SCRIPT, RunState(), clock.now_ms())


def at(clock: FakeClock, run: RunState, seconds: float):
    clock.advance(seconds=seconds)
    return engine.position(SCRIPT, run, clock.now_ms())


def test_phases_green_then_yellow_in_the_last_minute_then_red_counting_up(clock):
    run = started(clock)
    assert at(clock, run, 100).phase == GREEN
    pos = at(clock, run, 140)  # 240 s into a 300 s segment
    assert (pos.phase, pos.remaining_s) == (YELLOW, 60)
    pos = at(clock, run, 90)  # 330 s
    assert (pos.phase, pos.remaining_s) == (RED, -30)


def test_cues_fire_once_at_their_offsets(clock):
    run = started(clock)
    due = engine.due_cues(SCRIPT, run, clock.now_ms())
    assert [(f.key, f.text, f.audience) for f in due] == [("c0", "打招呼", "host")]
    run = engine.mark_fired(run, due)
    clock.advance(seconds=119)
    assert engine.due_cues(SCRIPT, run, clock.now_ms()) == []
    clock.advance(seconds=1)
    (cue,) = engine.due_cues(SCRIPT, run, clock.now_ms())
    assert cue.text == "预告福袋" and cue.planned_at == clock.now_ms()


def test_automatic_cues_at_60_and_10_seconds_before_the_next_segment(clock):
    run = started(clock)
    run = engine.mark_fired(run, engine.due_cues(SCRIPT, run, clock.now_ms()))
    clock.advance(seconds=240)
    due = engine.due_cues(SCRIPT, run, clock.now_ms())
    assert [f.key for f in due] == ["c1", "t60"]
    assert due[1].text == "1 分钟后：讲品：面霜"
    run = engine.mark_fired(run, due)
    clock.advance(seconds=50)
    assert [f.key for f in engine.due_cues(SCRIPT, run, clock.now_ms())] == ["t10"]


def test_a_late_cue_carries_its_planned_time(clock):
    run = started(clock)
    clock.advance(seconds=200)  # the engine was down for a while
    due = {f.key: f for f in engine.due_cues(SCRIPT, run, clock.now_ms())}
    assert due["c1"].planned_at == clock.now_ms() - 80_000


def test_next_back_and_jump_record_what_happened(clock):
    run = started(clock)
    clock.advance(seconds=320)
    run = engine.next_segment(SCRIPT, run, clock.now_ms())
    assert engine.position(SCRIPT, run, clock.now_ms()).segment.title == "讲品：面霜"
    clock.advance(seconds=10)
    run = engine.back(SCRIPT, run, clock.now_ms())
    assert run.index == 0
    run = engine.jump(SCRIPT, run, 2, clock.now_ms())
    assert run.index == 2
    with pytest.raises(ActionRefused, match="last segment"):
        engine.next_segment(SCRIPT, run, clock.now_ms())
    with pytest.raises(ActionRefused, match="no segment 9"):
        engine.jump(SCRIPT, run, 8, clock.now_ms())
    assert [a.index for a in run.actuals] == [0, 1, 0, 2]


def test_extend_moves_the_end_and_rearms_the_automatic_cues(clock):
    run = started(clock)
    clock.advance(seconds=250)
    run = engine.mark_fired(run, engine.due_cues(SCRIPT, run, clock.now_ms()))
    assert "t60" in run.fired
    run = engine.extend(SCRIPT, run, 300, clock.now_ms())
    pos = engine.position(SCRIPT, run, clock.now_ms())
    assert (pos.remaining_s, pos.phase) == (350, GREEN)
    assert "t60" not in run.fired  # it will sound again a minute before the new end
    run = engine.extend(SCRIPT, run, -60, clock.now_ms())
    assert engine.position(SCRIPT, run, clock.now_ms()).remaining_s == 290
    with pytest.raises(ActionRefused, match="below one minute"):
        engine.extend(SCRIPT, run, -600, clock.now_ms())


def test_skip_marks_the_segment_and_moves_on(clock):
    run = started(clock)
    clock.advance(seconds=30)
    run = engine.skip(SCRIPT, run, clock.now_ms())
    report = engine.planned_vs_actual(SCRIPT, run, clock.now_ms())
    assert report[0].skipped and report[0].actual_s == 30 and report[0].over_s == -270
    assert run.index == 1


def test_insert_an_ad_hoc_segment_after_the_current_one(clock):
    run = started(clock)
    script = engine.insert_after(SCRIPT, run.index, Segment("专家答疑", "qa", 240))
    run = engine.next_segment(script, run, clock.now_ms())
    assert engine.position(script, run, clock.now_ms()).segment.title == "专家答疑"
    assert [s.title for s in script.segments] == ["开场", "专家答疑", "讲品：面霜", "福袋互动"]


def test_hold_stops_the_clock_and_the_cues(clock):
    run = engine.mark_fired(started(clock), engine.due_cues(SCRIPT, started(clock), clock.now_ms()))
    clock.advance(seconds=100)
    run = engine.hold(run, clock.now_ms())
    assert run.status == HELD
    clock.advance(seconds=600)
    pos = engine.position(SCRIPT, run, clock.now_ms())
    assert pos.elapsed_s == 100 and pos.segment_ends_at is None
    assert engine.due_cues(SCRIPT, run, clock.now_ms()) == []
    run = engine.resume(run, clock.now_ms())
    assert run.status == LIVE
    clock.advance(seconds=20)
    assert engine.position(SCRIPT, run, clock.now_ms()).elapsed_s == 120
    assert [f.key for f in engine.due_cues(SCRIPT, run, clock.now_ms())] == ["c1"]


def test_planned_against_actual_and_the_projected_end(clock):
    run = started(clock)
    begin = clock.now_ms()
    clock.advance(seconds=360)  # the opening ran a minute over
    pos = engine.position(SCRIPT, run, clock.now_ms())
    assert pos.projected_end_at == clock.now_ms() + (600 + 180) * 1000
    run = engine.next_segment(SCRIPT, run, clock.now_ms())
    clock.advance(seconds=540)
    run = engine.end(SCRIPT, run, clock.now_ms())
    rows = engine.planned_vs_actual(SCRIPT, run, clock.now_ms())
    assert [(r.planned_start_s, r.planned_s, r.actual_s, r.over_s) for r in rows] == [
        (0, 300, 360, 60), (300, 600, 540, -60), (900, 180, None, None),
    ]
    assert rows[0].actual_start == begin
    assert run.status == "ended"
    with pytest.raises(ActionRefused, match="ended"):
        engine.next_segment(SCRIPT, run, clock.now_ms())


def test_the_run_survives_a_restart_as_json(clock):
    run = started(clock)
    clock.advance(seconds=50)
    run = engine.hold(engine.extend(SCRIPT, run, 60, clock.now_ms()), clock.now_ms())
    assert RunState.from_json(run.to_json()) == run


def test_a_show_without_segments_cannot_start(clock):
    with pytest.raises(ActionRefused, match="no segments"):
        engine.start(Script(), RunState(), clock.now_ms())
