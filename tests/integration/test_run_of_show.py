"""The run-of-show over HTTP and websockets: the controller's actions reach every screen
and the audit log, cues fire on time and are stored, the host acknowledges messages."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import websockets
from sqlalchemy import select

from controlroom.audit.models import AuditEntry
from controlroom.bus.client import Bus
from controlroom.clock import SystemClock
from controlroom.db.base import utcnow
from controlroom.live.projections import Projections
from controlroom.settings import Settings
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from controlroom.shows.models import CueFiring
from controlroom.bus.client import connect
from controlroom.shows.runs import SHOW, save_script
from controlroom.shows.script import Cue, Script, Segment
from tests.support import cookie_header, create_user, csrf_of, frames_until, login

SCRIPT = Script(segments=(
    Segment("开场", "opening", 300, talk_points="欢迎来到直播间", cues=(Cue(1, "开福袋", "host"),)),
    Segment("讲品：面霜", "product", 600, sku="A1", talk_points="先讲成分"),
    Segment("福袋互动", "interaction", 180),
), planned_total_s=1080)


def make_show(database_url: str, redis_url: str, room: str, script: Script = SCRIPT) -> int:
    """A show with its script, as the script editor leaves it (published to the screens)."""
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="测试直播",
                        planned_start=utcnow())
        save_script(session, show, script)
        show_id = show.id

    async def publish() -> None:
        client = connect(redis_url)
        await Projections(Bus.from_settings(client, Settings(mode="dev")), sessions, SystemClock()).publish(room, SHOW.name)
        await client.aclose()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, publish()).result()
    engine.dispose()
    return show_id


def drive(client, room: str, action: str, **data):
    return client.post(f"/rooms/{room}/show/{action}", data=data,
                       headers={"hx-request": "true", "x-csrftoken": csrf_of(client)})


def audit_actions(database_url: str, room: str) -> list[str]:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        actions = list(session.scalars(
            select(AuditEntry.action).join(Room, Room.id == AuditEntry.room_id).where(Room.slug == room)
            .order_by(AuditEntry.id)
        ))
    engine.dispose()
    return actions


async def test_next_on_the_control_room_moves_the_host_screen(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    host = login(server.url, *create_user(database_url, role="host", rooms=[room]))
    assert (await asyncio.to_thread(drive, controller, room, "start")).status_code == 204
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/host?lang=zh_CN",
                                  additional_headers=cookie_header(host)) as ws:
        snapshot = await ws.recv()
        assert "开场" in snapshot and "欢迎来到直播间" in snapshot
        assert (await asyncio.to_thread(drive, controller, room, "next")).status_code == 204
        frame = await frames_until(ws, lambda f: 'id="prompter"' in f and "先讲成分" in f, timeout=5)
    assert "2/3</span> <bdi>讲品：面霜</bdi>" in frame and "A1" in frame and "福袋互动" in frame  # current, its SKU, what is next
    assert audit_actions(database_url, room)[-2:] == ["show.start", "show.next"]


def test_cues_fire_on_time_and_are_kept(server, room, database_url, redis_url):
    show_id = make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    assert drive(controller, room, "start").status_code == 204
    engine = make_engine(database_url)
    deadline = time.monotonic() + 10
    firings = []
    while time.monotonic() < deadline and not firings:
        with transaction(session_factory(engine)) as session:
            firings = list(session.scalars(select(CueFiring).where(CueFiring.show_id == show_id)))
        time.sleep(0.2)
    engine.dispose()
    assert [(f.text, f.audience, f.segment_index) for f in firings] == [("开福袋", "host", 0)]
    late_ms = (firings[0].fired_at - firings[0].planned_at).total_seconds() * 1000
    assert 0 <= late_ms < 5000
    assert "开福袋" in controller.get(f"/rooms/{room}").text


def test_actions_that_do_not_fit_are_refused_with_the_reason(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    response = drive(controller, room, "next")
    assert response.status_code == 409 and "本场还没有开始" in response.json()["detail"]
    drive(controller, room, "start")
    response = drive(controller, room, "extend", seconds="7")
    assert response.status_code == 409 and "60 秒或 300 秒" in response.json()["detail"]
    response = drive(controller, room, "jump", segment="9")
    assert response.status_code == 409 and "没有第 9 个环节" in response.json()["detail"]
    assert drive(controller, room, "launch").status_code == 409
    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    assert drive(analyst, room, "next").status_code == 403


def test_insert_and_hold_and_the_pull_forward_offer(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    drive(controller, room, "start")
    assert drive(controller, room, "insert", title="专家答疑", kind="qa", minutes="5").status_code == 204
    page = controller.get(f"/rooms/{room}").text
    assert page.index("专家答疑") < page.index("讲品：面霜")
    assert drive(controller, room, "hold").status_code == 204
    assert "暂停中" in controller.get(f"/rooms/{room}").text
    assert drive(controller, room, "resume").status_code == 204
    # On to the product segment, then the interaction segment is pulled forward.
    drive(controller, room, "next")
    assert drive(controller, room, "pull_interaction").status_code == 204
    assert "show.pull_interaction" in audit_actions(database_url, room)


async def test_an_urgent_message_waits_for_the_hosts_tap(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    host_user = create_user(database_url, role="host", rooms=[room])
    host = login(server.url, *host_user)
    response = controller.post(f"/rooms/{room}/host-messages", data={"text": "讲一下质量", "urgent": "on"},
                               headers={"hx-request": "true", "x-csrftoken": csrf_of(controller)})
    assert response.status_code == 204
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/host", additional_headers=cookie_header(host)) as ws:
        snapshot = await ws.recv()
        assert "host-message newest urgent" in snapshot
        message_id = snapshot.split('data-message="')[1].split('"')[0]
        ack = await asyncio.to_thread(host.post, f"/host/messages/{message_id}/ack",
                                      headers={"hx-request": "true", "x-csrftoken": csrf_of(host)})
        assert ack.status_code == 204
        frame = await frames_until(ws, lambda f: 'id="host-messages"' in f and "urgent" not in f.split('id="host-messages"')[1])
    assert "已收到" in frame
    page = controller.get(f"/rooms/{room}").text
    assert f'data-message="{message_id}"' in page and "已收到" in page.split(f'data-message="{message_id}"')[1][:300]
    # Another room's host cannot acknowledge it.
    other = login(server.url, *create_user(database_url, role="host", rooms=[]))
    refused = other.post(f"/host/messages/{message_id}/ack", headers={"x-csrftoken": csrf_of(other)})
    assert refused.status_code in (403, 404)
