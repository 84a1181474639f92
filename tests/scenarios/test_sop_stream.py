"""SOP 3 (stream interruption 断流/黑屏), SOP 4 (stutter 卡顿/延迟) and SOP 5 (equipment
failure 设备故障, a manual trigger) through the whole pipeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from controlroom.clock import ms_to_datetime
from controlroom.db.session import run_in_transaction
from controlroom.playbooks import service as playbooks
from controlroom.playbooks.models import PlaybookEvent, PlaybookRunRow
from controlroom.playbooks.runner import RunRefused
from controlroom.rooms.models import Room
from controlroom.shows.models import HostMessage
from controlroom.sim.pipeline import Pipeline
from tests.scenarios.helpers import assert_fired, assert_quiet, fired, room, run_until, scenario

STREAM_REPORT_S = 5  # the feed reports the stream's state every 5 s (SteadyRoom.stream_every_s)


# --- SOP 3: the stream says it is interrupted → red, the team acts within 30 s ----------------


@pytest.mark.parametrize(("status", "fires"), [("interrupted", True), ("ended", False)])
async def test_sop3_stream_interrupted_is_red_at_the_first_report(scenario_redis, database_url, status, fires):
    """Two minutes in, the encoder's push breaks (the stream reports `interrupted`), or
    the stream reports `ended` (closed on purpose: not an interruption)."""
    async with scenario(scenario_redis, database_url) as p:
        room(p, stream_status=lambda s: status if s >= 120 else "live")
        await run_until(p, 110, step_s=10)
        await run_until(p, 170, step_s=1)
        if fires:
            # The plan must start within 30 s: the alert comes with the first report of the
            # break (reports every 5 s), at once (for_s 0).
            at = await assert_fired(p, "stream-interrupted", "red", within=(120, 120 + STREAM_REPORT_S + 1),
                                    bound="red at the first interrupted report, well inside the 30 s to act")
            alert = await fired(p, "stream-interrupted")
            # Nobody acknowledged it: it escalates once the team's 30 s are up.
            assert alert.escalated_at is not None, "an unacknowledged red alert must escalate after 30 s"
            escalated = p.show_s(alert.escalated_at)
            assert at + 30 <= escalated <= at + 31, f"escalated at {escalated:.0f} s, fired at {at:.0f} s"
        else:
            await assert_quiet(p, "stream-interrupted")


@pytest.mark.parametrize(("silent_s", "fires"), [(None, True), (14, False)], ids=["stays-silent", "silent-14s"])
async def test_sop3_whole_feed_silent_for_15_seconds_is_red(scenario_redis, database_url, silent_s, fires):
    """Two minutes in the whole feed stops (no viewers, comments, likes or stream
    reports): for good, or for 14 s before it comes back."""
    end = 10_000 if silent_s is None else 120 + silent_s
    async with scenario(scenario_redis, database_url) as p:
        room(p, silent=[(120, end)])
        await run_until(p, 110, step_s=10)
        await run_until(p, 180, step_s=1)
        last_event = p.show_s((await p.state()).state.last_seen["*"]) if fires else None
        if fires:
            assert last_event == 120, "the feed's last event before the silence is its 120 s reading"
            # No event at all for 15 s while live: red at that moment (for_s 0).
            await assert_fired(p, "feed-silent", "red", within=(last_event + 15, last_event + 16),
                               bound="15 s without any event is a silent feed")
        else:
            await assert_quiet(p, "feed-silent")


# --- SOP 4: latency above 3 s → yellow; sustained a minute → red -------------------------------


@pytest.mark.parametrize(("latency", "until", "yellow", "red"), [
    (3500, 10_000, True, True),    # stays at 3.5 s: yellow at once, red after a minute
    (3500, 170, True, False),      # 3.5 s for 50 s, then back to normal: yellow only
    (3000, 10_000, False, False),  # exactly 3 s: not above the SOP's 3 s
], ids=["3.5s-sustained", "3.5s-for-50s", "3.0s-sustained"])
async def test_sop4_stutter_yellow_above_3_seconds_red_when_sustained(scenario_redis, database_url, latency, until,
                                                                     yellow, red):
    async with scenario(scenario_redis, database_url) as p:
        room(p, latency_ms=lambda s: latency if 120 <= s < until else 800)
        await run_until(p, 110, step_s=10)
        await run_until(p, 200, step_s=1)
        if yellow:
            at = await assert_fired(p, "stream-latency", "yellow", within=(120, 120 + STREAM_REPORT_S + 1),
                                    bound="yellow at the first report of latency above 3 s")
        else:
            await assert_quiet(p, "stream-latency")
        if red:
            await assert_fired(p, "stream-latency-sustained", "red", within=(at + 60, at + 61),
                               bound="red once the latency has stayed above 3 s for 1 min")
        else:
            await run_until(p, 300, step_s=10)
            await assert_quiet(p, "stream-latency-sustained")


# --- SOP 5: equipment failure: tech starts the plan by hand -------------------------------------


async def _runs(p: Pipeline) -> list[tuple[PlaybookRunRow, list[PlaybookEvent]]]:
    def read(session):
        room_id = session.scalar(select(Room.id).where(Room.slug == p.room))
        runs = session.scalars(select(PlaybookRunRow).where(PlaybookRunRow.room_id == room_id)).all()
        return [(run, list(run.events)) for run in runs]

    return await run_in_transaction(p.sessions, read)


async def _host_messages(p: Pipeline) -> list[HostMessage]:
    def read(session):
        room_id = session.scalar(select(Room.id).where(Room.slug == p.room))
        return session.scalars(select(HostMessage).where(HostMessage.room_id == room_id).order_by(HostMessage.id)).all()

    return await run_in_transaction(p.sessions, read)


async def test_sop5_equipment_failure_plan_runs_when_tech_starts_it(scenario_redis, database_url):
    """The main camera dies a minute in. Nothing in the feed can say so: no alert, no
    plan, until tech starts the equipment-failure playbook; then its steps run against
    deadlines from that moment and the host gets the step's cue when it comes up."""
    async with scenario(scenario_redis, database_url) as p:
        room(p)
        await run_until(p, 60, step_s=10)
        # The just-below: a healthy feed raises nothing and starts no plan by itself.
        assert await _runs(p) == [] and await p.alerts() == []

        run_id = await p.start_playbook("equipment-failure", by="tech")
        ((run, events),) = await _runs(p)
        assert (run.id, run.playbook_key, run.status, run.started_by) == (run_id, "equipment-failure", "running", "tech")
        assert run.show_id == p.show_id
        assert p.show_s(int(run.started_at.timestamp() * 1000)) == 60, "the run starts when tech starts it"
        assert [step["deadline_s"] for step in run.definition["steps"]] == [30, 60, 120]
        assert [e.kind for e in events] == ["started"]
        with pytest.raises(RunRefused):  # one run per room: a second press does not start another
            await p.start_playbook("equipment-failure", by="controller")

        # Tech finds the faulty device 20 s in, inside step 1's 30 s; step 2 (the host
        # talks over the change) comes up and its cue reaches the host screen, urgent.
        await run_until(p, 80, step_s=10)
        now = ms_to_datetime(p.clock.now_ms())

        def tick(session):
            room_row = session.scalar(select(Room).where(Room.slug == p.room))
            return playbooks.tick_step(session, room=room_row, run_id=run_id, number=1, by="tech", now=now)

        late = await run_in_transaction(p.sessions, tick)
        assert late is False, "done 20 s into a 30 s deadline is on time"
        cues = [m for m in await _host_messages(p) if m.source == "playbook"]
        assert [(m.text, m.urgent, p.show_s(int(m.sent_at.timestamp() * 1000))) for m in cues] == [
            ("设备调整中，请口播过渡", True, 80)]
        await assert_quiet(p, *(rule.key for rule in await p.rules()))  # still no alert: it was never one
