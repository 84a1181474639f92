"""Interrupting a running segment keeps the script whole: 立即插入 and pull-forward put
the rest of the interrupted segment right after (its remaining time, （续）, only the cues
that have not fired), unless the controller chooses to replace it; the projected end
follows. Auto-advance moves on when a segment's time is up. Pure, with a fake clock; and the
demo show, which fills its slot and advances by itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from controlroom.auth.secrets import Signer
from controlroom.clock import FakeClock
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction, upgrade
from controlroom.rooms.models import Room
from controlroom.shows import engine
from controlroom.shows.engine import LIVE, ActionRefused, RunState
from controlroom.shows.runs import load_script
from controlroom.shows.script import Cue, Script, Segment
from controlroom.sim.seed import DEMO_ROOM, DEMO_SLOT_S, demo_script, seed_demo

SCRIPT = Script(segments=(
    Segment("开场", "opening", 300),
    Segment("讲品：面霜", "product", 1200, sku="A1", talk_points="先讲成分",
            cues=(Cue(60, "上链接", "controller"), Cue(900, "报库存", "host"))),
    Segment("福袋互动", "interaction", 180),
    Segment("收尾", "closing", 120),
))
QA = Segment("专家答疑", "qa", 300)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def in_product(clock: FakeClock, seconds: float = 588) -> RunState:
    """9:48 into the 20-minute product segment, its first cue fired."""
    run = engine.start(SCRIPT, RunState(), clock.now_ms())
    clock.advance(seconds=300)
    run = engine.next_segment(SCRIPT, run, clock.now_ms())
    clock.advance(seconds=seconds)
    return engine.mark_fired(run, engine.due_cues(SCRIPT, run, clock.now_ms()))


def test_insert_now_resumes_the_interrupted_segment_with_its_remaining_time(clock):
    run = in_product(clock)
    before = engine.position(SCRIPT, run, clock.now_ms()).projected_end_at
    script, run = engine.insert_now(SCRIPT, run, QA, clock.now_ms())
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "专家答疑", "讲品：面霜（续）", "福袋互动", "收尾"]
    done, rest = script.segments[1], script.segments[3]
    assert (done.planned_s, rest.planned_s) == (588, 612)  # 9:48 done, 10:12 to come
    assert (rest.sku, rest.talk_points, rest.kind) == ("A1", "先讲成分", "product")
    # The cue that fired stays fired; the one to come keeps its moment in the segment.
    assert rest.cues == (Cue(900 - 588, "报库存", "host"),)
    assert run.index == 2 and run.status == LIVE
    # The part done is in the past, not skipped; the projected end moves by the insert alone.
    assert [(a.index, a.title, a.skipped) for a in run.actuals] == [
        (0, "开场", False), (1, "讲品：面霜", False), (2, "专家答疑", False)]
    assert run.actuals[1].ended_at == clock.now_ms()
    assert engine.position(script, run, clock.now_ms()).projected_end_at == before + 300_000
    # The script's planned times stay true: the rest starts after the inserted segment.
    assert engine.planned_starts(script)[3] == 300 + 588 + 300
    # After the Q&A the product segment comes back with its 10:12.
    clock.advance(seconds=300)
    run = engine.next_segment(script, run, clock.now_ms())
    pos = engine.position(script, run, clock.now_ms())
    assert (pos.segment.title, pos.remaining_s) == ("讲品：面霜（续）", 612)
    clock.advance(seconds=900 - 588)
    assert [f.text for f in engine.due_cues(script, run, clock.now_ms())] == ["报库存"]


def test_insert_now_with_replace_ends_the_interrupted_segment(clock):
    run = in_product(clock)
    before = engine.position(SCRIPT, run, clock.now_ms()).projected_end_at
    script, run = engine.insert_now(SCRIPT, run, QA, clock.now_ms(), replace_current=True)
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "专家答疑", "福袋互动", "收尾"]
    assert script.segments[1].planned_s == 1200  # as planned; it ran under
    assert engine.position(script, run, clock.now_ms()).projected_end_at == before + 300_000 - 612_000


def test_extensions_and_holds_count_in_the_remaining_time(clock):
    run = in_product(clock, seconds=100)
    run = engine.extend(SCRIPT, run, 300, clock.now_ms())
    run = engine.hold(run, clock.now_ms())
    clock.advance(seconds=50)  # held: not counted as done
    script, run = engine.insert_now(SCRIPT, run, QA, clock.now_ms())
    assert (script.segments[1].planned_s, script.segments[3].planned_s) == (100, 1400)
    assert run.status == LIVE


def test_nothing_to_resume_when_the_segment_is_over_time(clock):
    run = in_product(clock, seconds=1250)
    script, run = engine.insert_now(SCRIPT, run, QA, clock.now_ms())
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "专家答疑", "福袋互动", "收尾"]


def test_a_segment_interrupted_twice_is_resumed_once_more_without_a_second_mark(clock):
    run = in_product(clock)
    script, run = engine.insert_now(SCRIPT, run, QA, clock.now_ms())
    clock.advance(seconds=300)
    run = engine.next_segment(script, run, clock.now_ms())
    clock.advance(seconds=100)
    script, run = engine.insert_now(script, run, Segment("福袋", "interaction", 180), clock.now_ms())
    assert [s.title for s in script.segments][3:6] == ["讲品：面霜（续）", "福袋", "讲品：面霜（续）"]
    assert [s.planned_s for s in script.segments][3:6] == [100, 180, 512]


def test_pull_forward_resumes_the_interrupted_segment(clock):
    run = in_product(clock)
    before = engine.position(SCRIPT, run, clock.now_ms()).projected_end_at
    script, run = engine.pull_forward(SCRIPT, run, 2, clock.now_ms())
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "福袋互动", "讲品：面霜（续）", "收尾"]
    assert run.index == 2 and engine.position(script, run, clock.now_ms()).segment.title == "福袋互动"
    assert engine.position(script, run, clock.now_ms()).projected_end_at == before


def test_pull_forward_of_a_segment_further_down_and_with_replace(clock):
    run = in_product(clock)
    script, _ = engine.pull_forward(SCRIPT, run, 3, clock.now_ms())
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "收尾", "讲品：面霜（续）", "福袋互动"]
    script, run3 = engine.pull_forward(SCRIPT, run, 3, clock.now_ms(), replace_current=True)
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "收尾", "福袋互动"]
    assert run3.index == 2
    with pytest.raises(ActionRefused, match="later segment"):
        engine.pull_forward(SCRIPT, run, 0, clock.now_ms())
    with pytest.raises(ActionRefused):
        engine.pull_forward(SCRIPT, RunState(), 2, clock.now_ms())


def test_what_ran_follows_its_segment_when_the_script_is_rearranged(clock):
    # Ran 开场, 讲品, 福袋; went back to 讲品; pulling 收尾 forward keeps 福袋's record on 福袋.
    run = engine.start(SCRIPT, RunState(), clock.now_ms())
    for _ in range(2):
        clock.advance(seconds=60)
        run = engine.next_segment(SCRIPT, run, clock.now_ms())
    clock.advance(seconds=60)
    run = engine.back(SCRIPT, run, clock.now_ms())
    clock.advance(seconds=60)
    script, run = engine.pull_forward(SCRIPT, run, 3, clock.now_ms())
    report = {row.title: row for row in engine.planned_vs_actual(script, run, clock.now_ms())}
    assert report["福袋互动"].actual_s == 60
    assert report["收尾"].actual_s == 0


def test_auto_advance_moves_on_when_the_time_is_up(clock):
    run = engine.set_auto_advance(RunState(), True)
    run = engine.start(SCRIPT, run, clock.now_ms())
    assert run.auto_advance
    clock.advance(seconds=299)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()) is None
    clock.advance(seconds=1.4)  # the ticker comes 0.4 s late
    moved = engine.auto_advance(SCRIPT, run, clock.now_ms())
    assert moved.index == 1
    assert moved.segment_started_at == clock.now_ms() - 400  # started when the opening's time was up
    # Extended by the controller: the segment runs its extension too.
    run = engine.extend(SCRIPT, moved, 60, clock.now_ms())
    clock.advance(seconds=1200)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()) is None
    # Held: the time stands still.
    run = engine.hold(run, clock.now_ms())
    clock.advance(seconds=600)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()) is None
    run = engine.resume(run, clock.now_ms())
    clock.advance(seconds=61)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()).index == 2


def test_auto_advance_off_and_on_the_last_segment_does_nothing(clock):
    run = engine.start(SCRIPT, RunState(), clock.now_ms())
    clock.advance(seconds=400)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()) is None  # off
    run = engine.set_auto_advance(run, True)
    run = engine.jump(SCRIPT, run, 3, clock.now_ms())
    clock.advance(seconds=600)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()) is None  # the controller ends the show
    # A ticker that was away for long starts the next segment now, not in the past.
    run = engine.jump(SCRIPT, run, 0, clock.now_ms())
    clock.advance(seconds=360)
    assert engine.auto_advance(SCRIPT, run, clock.now_ms()).segment_started_at == clock.now_ms()


def test_auto_advance_is_kept_with_the_run(clock):
    run = engine.set_auto_advance(RunState(), True)
    assert RunState.from_json(run.to_json()).auto_advance
    assert not RunState.from_json({"status": "live"}).auto_advance
    ended = engine.end(SCRIPT, engine.start(SCRIPT, run, clock.now_ms()), clock.now_ms())
    with pytest.raises(ActionRefused):
        engine.set_auto_advance(ended, False)


def test_the_demo_show_fills_its_slot_and_advances_by_itself(tmp_path):
    script = demo_script()
    assert script.total_s == script.planned_total_s == DEMO_SLOT_S
    assert all(cue.offset_s < s.planned_s for s in script.segments for cue in s.cues)
    assert len({s.title for s in script.segments}) == len(script.segments)

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    db = make_engine(url)
    now = utcnow()
    signer = Signer("test-secret")
    with transaction(session_factory(db)) as session:
        seed_demo(session, timezone_name="Asia/Shanghai", now=now, signer=signer)
    with transaction(session_factory(db)) as session:
        # Started again within the slot: the same show; the next show stays planned once.
        seed_demo(session, timezone_name="Asia/Shanghai", now=now + timedelta(minutes=30), signer=signer)
    with transaction(session_factory(db)) as session:
        room = session.scalar(select(Room).where(Room.slug == DEMO_ROOM))
        assert [(s.status, s.planned_start > now) for s in room.shows] == [("live", False), ("scheduled", True)]
        live = room.shows[0]
        assert RunState.from_json(live.run).auto_advance
        assert load_script(session, live).total_s == DEMO_SLOT_S
    with transaction(session_factory(db)) as session:
        # Started again the next day: the old show is ended and a fresh one goes live.
        seed_demo(session, timezone_name="Asia/Shanghai", now=now + timedelta(hours=5), signer=signer)
    with transaction(session_factory(db)) as session:
        room = session.scalar(select(Room).where(Room.slug == DEMO_ROOM))
        assert sorted(s.status for s in room.shows) == ["ended", "live", "scheduled"]
    db.dispose()
