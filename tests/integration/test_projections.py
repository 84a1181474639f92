"""Projections of SQL into Redis: a Redis that comes back empty gets every one of them
back in one republish round, and a new panel needs only its projection, its partial and
one line in the panel registry."""

from __future__ import annotations

import asyncio
import time
from zoneinfo import ZoneInfo

import pytest
import redis
import websockets
from jinja2 import ChoiceLoader, DictLoader
from sqlalchemy import select

from controlroom.app import create_app  # noqa: F401 - imports every domain, so every projection is declared
from controlroom.auth.secrets import token_hash
from controlroom.bus import keys
from controlroom.bus.client import Bus, connect
from controlroom.clock import FakeClock
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.live.projections import REGISTRY, Projections, declare
from controlroom.live.view import ViewOptions, read_room_view
from controlroom.moderation.service import install_default_lexicon
from controlroom.playbooks.service import install_default_playbooks
from controlroom.rooms.models import Room
from controlroom.screens import panels
from controlroom.screens.panels import HOST, Panel, render_panels, screen_panels, unplaced_panels
from controlroom.settings import Settings
from controlroom.shows.models import HostMessage
from controlroom.shows.runs import save_script
from controlroom.shows.schedule import add_show
from controlroom.shows.script import Script, Segment
from controlroom.web.render import Renderer
from controlroom.bus.embedded import EmbeddedRedis
from tests.support import LiveServer, cookie_header, create_room, create_user, csrf_of, login, server_env


@pytest.fixture
def world(database_url, own_redis_url):
    room = create_room(database_url, own_redis_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    now = utcnow()
    with transaction(sessions) as session:
        install_default_playbooks(session)
        install_default_lexicon(session)
        room_row = session.scalar(select(Room).where(Room.slug == room))
        show = add_show(session, room=room_row, title="恢复测试场 <b>", planned_start=now)
        show.targets = {"comments": 4321}
        save_script(session, show, Script(segments=(Segment("开场福利", "opening", 300),)))
        session.add(HostMessage(room_id=room_row.id, show_id=show.id, text="看 <镜头>", source="manual",
                                urgent=True, sent_by="controller", sent_at=now))
    clock = FakeClock(int(now.timestamp() * 1000) + 1000)
    client = connect(own_redis_url)
    yield room, Projections(Bus.from_settings(client, Settings(mode="dev")), sessions, clock), client, clock
    engine.dispose()


async def test_one_republish_round_restores_every_projection_after_redis_comes_back_empty(world):
    room, projections, client, clock = world
    await projections.republish_all()
    before = await read_room_view(client, room, clock, ViewOptions())

    await client.flushdb()  # Redis restarted without its data
    empty = await read_room_view(client, room, clock, ViewOptions())
    assert empty.show is None and empty.host_messages == [] and empty.targets["comments"] == 1000
    assert not await client.sismember("cr:rooms", room)

    await projections.republish_all()
    after = await read_room_view(client, room, clock, ViewOptions())
    assert after.projections == before.projections
    assert after.show["title"] == "恢复测试场 <b>" and after.show["segments"][0]["title"] == "开场福利"
    assert [m["text"] for m in after.host_messages] == ["看 <镜头>"]
    assert after.targets["comments"] == 4321
    assert after.alerts["alerts"] == [] and after.playbooks["available"], "the playbook catalogue is back"
    assert after.categories and "price" in after.quick_replies
    # Ingest knows the room and its key again, and workers have the lexicon.
    assert await client.sismember("cr:rooms", room)
    assert await client.hexists(f"cr:{{{room}}}:apikeys", token_hash(room.api_key))
    assert await client.get(keys.LEXICON_VERSION)

    # And the screens show them: the host's panels carry the message and the segment.
    html = render_panels(Renderer(tz=ZoneInfo("Asia/Shanghai")), after, "zh_CN", oob=True)
    assert "看 &lt;镜头&gt;" in html["host-messages"] and "开场福利" in html["prompter"]
    await client.aclose()


async def test_a_sweep_wakes_no_screen_of_a_quiet_room_and_fixes_a_missed_publish(world, database_url):
    """The periodic safety net compares with SQL: nothing changed, nothing written and no
    screen woken (a minute later too); a change whose publish was missed is put right."""
    room, projections, client, clock = world
    await projections.republish_all()
    updates = client.pubsub()
    await updates.subscribe(keys.updates_channel(room))
    await updates.get_message(timeout=1)  # the subscription's confirmation
    clock.advance(seconds=60)
    assert room not in await projections.sweep()
    assert await updates.get_message(timeout=0.5) is None, "a quiet room's screens were woken"

    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:  # committed, never published
        room_row = session.scalar(select(Room).where(Room.slug == room))
        session.add(HostMessage(room_id=room_row.id, show_id=None, text="补发的消息", source="manual",
                                urgent=False, sent_by="controller", sent_at=utcnow()))
    engine.dispose()
    assert room in await projections.sweep()
    woken = await updates.get_message(timeout=2)
    assert woken is not None and b"host-messages" in woken["data"]
    view = await read_room_view(client, room, clock, ViewOptions())
    assert "补发的消息" in [m["text"] for m in view.host_messages]
    assert room not in await projections.sweep(), "fixed once, quiet again"
    await updates.aclose()
    await client.aclose()


async def test_redis_that_lost_its_data_is_told_by_the_missing_mark(world):
    room, projections, client, clock = world
    await projections.republish_all()
    assert not await projections.redis_lost_data()
    await client.flushdb()
    assert await projections.redis_lost_data()
    await client.aclose()


async def test_a_new_panel_is_a_projection_a_partial_and_one_registry_line(world, monkeypatch):
    room, projections, client, clock = world
    # The projection: the number of urgent messages the host has not acknowledged.
    unacked = declare("unacked", default=0, build=lambda session, room_row, now: session.query(HostMessage).filter(
        HostMessage.room_id == room_row.id, HostMessage.urgent, HostMessage.acked_at.is_(None)).count())
    try:
        # The partial.
        renderer = Renderer(tz=ZoneInfo("Asia/Shanghai"))
        for env in renderer._envs.values():
            env.loader = ChoiceLoader([DictLoader({"partials/_unacked.html": (
                '<div id="unacked"{% if oob %} hx-swap-oob="true"{% endif %}>未确认 {{ v.projections.unacked }}</div>'
            )}), env.loader])
        # The registry line.
        monkeypatch.setitem(panels.PANELS, "unacked", Panel("partials/_unacked.html", frozenset({HOST})))

        await projections.publish(room, unacked.name)
        view = await read_room_view(client, room, clock, ViewOptions())
        html = render_panels(renderer, view, "zh_CN", oob=True)
        assert html["unacked"] == '<div id="unacked" hx-swap-oob="true">未确认 1</div>'
        assert "unacked" in screen_panels(HOST) and ("unacked", "partials/_unacked.html") in unplaced_panels(HOST)
    finally:
        REGISTRY.pop("unacked", None)
        await client.aclose()


async def test_the_screens_show_everything_again_after_redis_restarts_empty(database_url, tmp_path):
    """A Redis of its own, emptied with FLUSHALL while a show runs: within one republish
    round the host screen shows the show and the unacknowledged urgent message again."""
    own = EmbeddedRedis(tmp_path / "own-redis")
    redis_url = own.start()
    room = create_room(database_url, redis_url)
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="不怕重启",
                        planned_start=utcnow())
        save_script(session, show, Script(segments=(Segment("开场福利", "opening", 300),)))
    engine.dispose()
    server = LiveServer(server_env(redis_url=redis_url, database_url=database_url, data_dir=tmp_path,
                                   CONTROLROOM_REPUBLISH_S="1"), tmp_path / "log").start()
    try:
        controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
        sent = controller.post(f"/rooms/{room}/host-messages", data={"text": "看 <镜头>", "urgent": "on"},
                               headers={"hx-request": "true", "x-csrftoken": csrf_of(controller)})
        assert sent.status_code == 204
        host = login(server.url, *create_user(database_url, role="host", rooms=[room]))

        async def host_screen() -> str:
            async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/host?lang=zh_CN",
                                          additional_headers=cookie_header(host)) as ws:
                return await asyncio.wait_for(ws.recv(), timeout=5)

        before = await host_screen()
        assert "看 &lt;镜头&gt;" in before and "开场福利" in before

        redis.Redis.from_url(redis_url).flushall()
        deadline = time.monotonic() + 15
        while True:
            try:
                after = await host_screen()
                if "看 &lt;镜头&gt;" in after and "开场福利" in after:
                    break
            except (websockets.exceptions.ConnectionClosed, websockets.exceptions.InvalidStatus, TimeoutError):
                pass  # the room is unknown until the first republish round
            assert time.monotonic() < deadline, "the host screen never came back after Redis restarted empty"
            await asyncio.sleep(0.2)
        assert 'class="host-message newest urgent urgent-newest"' in after  # still flashing: not yet acknowledged
    finally:
        server.terminate()
        own.stop()
