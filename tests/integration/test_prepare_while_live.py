"""Running a real show over HTTP: 立即插入 and pull-forward resume the interrupted segment
(or replace it), auto-advance moves the show on through the ticker, the next show's
script is edited while a show is live, and a planned show starts early — never while
another is live."""

from __future__ import annotations

import html
import time
from datetime import timedelta

from sqlalchemy import select

from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.engine import RunState
from controlroom.shows.models import Show
from controlroom.shows.runs import load_script
from controlroom.shows.script import Script, Segment
from tests.integration.test_run_of_show import audit_actions, drive, make_show
from tests.support import create_user, csrf_of, login


def post(client, url: str, **data):
    return client.post(url, data={"csrftoken": csrf_of(client), **data}, follow_redirects=False)


def show_state(database_url: str, show_id: int) -> tuple[Show, Script, RunState]:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        show = session.get(Show, show_id)
        script = load_script(session, show)
        session.expunge(show)
    engine.dispose()
    return show, script, RunState.from_json(show.run)


def controller_of(server, database_url, room):
    return login(server.url, *create_user(database_url, role="controller", rooms=[room]))


def test_insert_now_resumes_the_interrupted_segment_unless_replaced(server, room, database_url, redis_url):
    show_id = make_show(database_url, redis_url, room)
    controller = controller_of(server, database_url, room)
    drive(controller, room, "start")
    drive(controller, room, "next")  # 讲品：面霜, 10 minutes
    assert drive(controller, room, "insert", title="专家答疑", kind="qa", minutes="5").status_code == 204
    _, script, run = show_state(database_url, show_id)
    assert [s.title for s in script.segments] == ["开场", "讲品：面霜", "专家答疑", "讲品：面霜（续）", "福袋互动"]
    assert run.index == 2
    done, rest = script.segments[1], script.segments[3]
    assert done.planned_s + rest.planned_s == 600 and rest.planned_s >= 590
    assert (rest.sku, rest.talk_points) == ("A1", "先讲成分")
    page = controller.get(f"/rooms/{room}").text
    assert "讲品：面霜（续）" in page and "data-resumed" in page
    # Back to the product after the Q&A: its remaining time, not a fresh 10 minutes.
    assert drive(controller, room, "next").status_code == 204
    _, script, run = show_state(database_url, show_id)
    assert script.segments[run.index].title == "讲品：面霜（续）"
    # Replace: the interrupted segment ends there.
    assert drive(controller, room, "insert", title="连麦", kind="interaction", minutes="3", replace="on").status_code == 204
    _, script, run = show_state(database_url, show_id)
    assert [s.title for s in script.segments][3:] == ["讲品：面霜（续）", "连麦", "福袋互动"]


def test_pull_forward_resumes_or_replaces(server, room, database_url, redis_url):
    show_id = make_show(database_url, redis_url, room, Script(segments=(
        Segment("讲品：面霜", "product", 1200, sku="A1"), Segment("讲品：精华", "product", 600),
        Segment("福袋互动", "interaction", 180), Segment("收尾", "closing", 120),
    ), planned_total_s=2100))
    controller = controller_of(server, database_url, room)
    drive(controller, room, "start")
    assert drive(controller, room, "pull_interaction").status_code == 204
    _, script, run = show_state(database_url, show_id)
    assert [s.title for s in script.segments] == ["讲品：面霜", "福袋互动", "讲品：面霜（续）", "讲品：精华", "收尾"]
    assert run.index == 1
    assert drive(controller, room, "pull", segment="5", replace="on").status_code == 204
    _, script, run = show_state(database_url, show_id)
    assert [s.title for s in script.segments] == ["讲品：面霜", "福袋互动", "收尾", "讲品：面霜（续）", "讲品：精华"]
    refused = drive(controller, room, "pull", segment="1")
    assert refused.status_code == 409 and "不是后面的环节" in refused.json()["detail"]
    assert audit_actions(database_url, room)[-2:] == ["show.pull_interaction", "show.pull"]


def test_auto_advance_moves_the_show_on_by_itself(server, room, database_url, redis_url):
    show_id = make_show(database_url, redis_url, room, Script(segments=(
        Segment("开场", "opening", 2), Segment("讲品：面霜", "product", 600))))
    controller = controller_of(server, database_url, room)
    assert drive(controller, room, "auto", on="on").status_code == 204
    assert drive(controller, room, "start").status_code == 204
    deadline = time.monotonic() + 10
    run = RunState()
    while time.monotonic() < deadline:
        _, _, run = show_state(database_url, show_id)
        if run.index == 1:
            break
        time.sleep(0.2)
    assert run.index == 1 and run.auto_advance
    assert "show.auto_next" in audit_actions(database_url, room)
    assert "自动切换：开" in controller.get(f"/rooms/{room}").text
    assert drive(controller, room, "auto").status_code == 204
    assert not show_state(database_url, show_id)[2].auto_advance


def _plan(client, database_url: str, room: str, title: str, when) -> int:
    made = post(client, f"/rooms/{room}/shows", title=title, planned_start=when.isoformat(timespec="minutes"),
                slot="1:00:00", template="hook_10_20_30")
    assert made.status_code == 303
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        show_id = session.scalar(select(Show.id).join(Room).where(Room.slug == room, Show.title == title))
    engine.dispose()
    return show_id


def test_the_next_show_is_prepared_while_one_is_live(server, room, database_url, redis_url):
    live_id = make_show(database_url, redis_url, room)
    controller = controller_of(server, database_url, room)
    drive(controller, room, "start")
    drive(controller, room, "next")
    tomorrow = _plan(controller, database_url, room, "明晚专场", utcnow() + timedelta(days=1))

    shows = controller.get(f"/rooms/{room}/shows").text
    assert f'href="/rooms/{room}/shows/{tomorrow}/script"' in shows
    base = f"/rooms/{room}/shows/{tomorrow}/script"
    page = controller.get(base).text
    assert "明晚专场" in page and "钩子：福利开场" in page and f'action="{base}/segments"' in page
    assert post(controller, f"{base}/segments", title="加场：新品", kind="product", duration="08:00").status_code == 303
    assert post(controller, f"{base}/order", order="4,1,2,3").status_code == 303
    assert post(controller, f"{base}/segments/2/delete").status_code == 303
    assert post(controller, f"{base}/template", template="product_block").status_code == 303  # not started: allowed
    assert post(controller, f"{base}/segments/1", title="功能演示", kind="product", duration="04:00").status_code == 303
    _, script, _ = show_state(database_url, tomorrow)
    assert [(s.title, s.planned_s) for s in script.segments][:2] == [("功能演示", 240), ("使用场景", 180)]
    assert controller.get(f"{base}/export.yaml").text.count("功能演示") == 1
    # The live show is untouched, and keeps its past: what ran cannot be edited.
    _, live_script, run = show_state(database_url, live_id)
    assert [s.title for s in live_script.segments] == ["开场", "讲品：面霜", "福袋互动"] and run.index == 1
    refused = post(controller, f"/rooms/{room}/script/segments/1", title="改开场", kind="opening", duration="05:00")
    assert refused.status_code == 409 and "已经播过" in html.unescape(refused.text)
    # A show of another room is not found.
    assert controller.get(f"/rooms/{room}/shows/{10**6}/script").status_code == 404


def test_a_planned_show_starts_early_but_not_while_another_is_live(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = controller_of(server, database_url, room)
    drive(controller, room, "start")
    later = _plan(controller, database_url, room, "晚场", utcnow() + timedelta(hours=3))
    refused = post(controller, f"/rooms/{room}/shows/{later}/start")
    assert refused.status_code == 409 and "正在直播" in html.unescape(refused.text)
    refused = controller.post(f"/rooms/{room}/shows/{later}/start",
                              headers={"hx-request": "true", "x-csrftoken": csrf_of(controller)})
    assert refused.status_code == 409 and "正在直播" in refused.json()["detail"]
    assert 'data-start-show' not in controller.get(f"/rooms/{room}/shows").text
    drive(controller, room, "end")
    # The run-of-show offers the next planned show once this one ended.
    assert "data-action=\"start-upcoming\"" in controller.get(f"/rooms/{room}").text
    assert f'data-start-show="{later}"' in controller.get(f"/rooms/{room}/shows").text
    started = post(controller, f"/rooms/{room}/shows/{later}/start")
    assert started.status_code == 303
    show, _, run = show_state(database_url, later)
    assert show.status == "live" and run.status == "live"
    # Its timeline runs from now: the planned start moved up to the actual start.
    assert abs(show.planned_start.timestamp() * 1000 - run.started_at) < 1000
    assert "晚场" in controller.get(f"/rooms/{room}").text
    again = post(controller, f"/rooms/{room}/shows/{later}/start")
    assert again.status_code == 409 and "已经开始" in html.unescape(again.text)
    assert audit_actions(database_url, room)[-1] == "show.start"
