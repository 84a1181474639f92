"""Open screens follow their authority: a logout, a disabled user, a changed role and a
revoked host link close the affected websockets within 2 s, with code 1008, on another
web process too, with and without traffic. (The periodic re-check is set to a minute
here, so only the announcement through Redis can close them in time.)"""

from __future__ import annotations

import asyncio
import itertools
import re
import time

import pytest
import websockets
from sqlalchemy import select

from controlroom.auth.models import LoginSession, User
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from tests.support import (
    LiveServer, comment, cookie_header, create_room, create_user, csrf_of, frames_until, login, server_env,
)

CLOSE_WITHIN_S = 2.0
_ids = itertools.count()


@pytest.fixture(scope="module")
def two_web_processes(tmp_path_factory, database_url):
    """A (web + worker) and B (web only), on a Redis of their own."""
    from controlroom.bus.embedded import EmbeddedRedis

    data = tmp_path_factory.mktemp("two-web")
    redis_server = EmbeddedRedis(data / "redis")
    redis_url = redis_server.start()
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=data, CONTROLROOM_AUTH_RECHECK_S="60")
    a = LiveServer(env, data / "a.log").start()
    b = LiveServer(env, data / "b.log", worker=False).start()
    yield a, b, redis_url
    a.terminate()
    b.terminate()
    redis_server.stop()


async def _closed_after(ws, act, *, traffic) -> tuple[int, float]:
    """Do `act` (in a thread) and wait for the socket to close: (close code, seconds)."""
    stop = asyncio.Event()

    async def feed() -> None:
        while traffic is not None and not stop.is_set():
            await asyncio.to_thread(traffic)
            await asyncio.sleep(0.1)

    feeding = asyncio.create_task(feed())
    try:
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await asyncio.to_thread(act)
        with pytest.raises(websockets.exceptions.ConnectionClosed) as closed:
            while time.monotonic() - started < 10:
                await asyncio.wait_for(ws.recv(), timeout=10)
        return closed.value.rcvd.code if closed.value.rcvd else None, time.monotonic() - started
    finally:
        stop.set()
        await feeding


def _traffic(server, room):
    return lambda: server.post_events(room, [comment(f"t{next(_ids)}", "在吗")])


def _user_id(database_url: str, username: str) -> int:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    engine.dispose()
    return user_id


@pytest.mark.parametrize("traffic", [False, True], ids=["quiet", "with-traffic"])
async def test_a_logout_closes_the_control_room_on_another_web_process(two_web_processes, database_url, traffic):
    a, b, redis_url = two_web_processes
    room = create_room(database_url, redis_url)
    controller = login(a.url, *create_user(database_url, role="controller", rooms=[room]))
    async with websockets.connect(f"{b.ws_url}/ws/rooms/{room}?lang=zh_CN",
                                  additional_headers=cookie_header(controller)) as ws:
        await ws.recv()
        code, seconds = await _closed_after(
            ws, lambda: controller.post("/logout", data={"csrftoken": csrf_of(controller, "/rooms")}),
            traffic=_traffic(a, room) if traffic else None,
        )
    assert code == 1008 and seconds < CLOSE_WITHIN_S


@pytest.mark.parametrize("change", ["disable", "role"])
@pytest.mark.parametrize("traffic", [False, True], ids=["quiet", "with-traffic"])
async def test_disabling_a_user_or_changing_their_role_closes_their_screens(two_web_processes, database_url, change,
                                                                          traffic):
    a, b, redis_url = two_web_processes
    room = create_room(database_url, redis_url)
    username, password = create_user(database_url, role="controller", rooms=[room])
    controller = login(a.url, username, password)
    admin = a.admin
    form = {"role": "analyst" if change == "role" else "controller", "rooms": [room],
            "disabled": "on" if change == "disable" else ""}
    async with websockets.connect(f"{b.ws_url}/ws/rooms/{room}?lang=zh_CN",
                                  additional_headers=cookie_header(controller)) as ws:
        await ws.recv()
        code, seconds = await _closed_after(
            ws, lambda: admin.post(f"/admin/users/{_user_id(database_url, username)}",
                                   data={"csrftoken": csrf_of(admin, "/admin/users"), **form}),
            traffic=_traffic(a, room) if traffic else None,
        )
    assert code == 1008 and seconds < CLOSE_WITHIN_S


@pytest.mark.parametrize("traffic", [False, True], ids=["quiet", "with-traffic"])
async def test_revoking_the_host_link_darkens_the_tablet_at_once(two_web_processes, database_url, traffic):
    a, b, redis_url = two_web_processes
    room = create_room(database_url, redis_url)
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="平板", planned_start=utcnow())
    engine.dispose()
    controller = login(a.url, *create_user(database_url, role="controller", rooms=[room]))
    page = controller.post(f"/rooms/{room}/host-link",
                           data={"csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "create"},
                           follow_redirects=True)
    token = re.search(r"/host/([A-Za-z0-9._-]+)", page.text).group(1)
    async with websockets.connect(f"{b.ws_url}/ws/host/{token}?lang=zh_CN") as ws:
        await ws.recv()
        code, seconds = await _closed_after(
            ws, lambda: controller.post(f"/rooms/{room}/host-link", data={
                "csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "revoke"}),
            traffic=_traffic(a, room) if traffic else None,
        )
    assert code == 1008 and seconds < CLOSE_WITHIN_S


async def test_the_periodic_recheck_closes_the_screens_of_a_session_that_ran_out(server, room, database_url):
    """No announcement at all (the session's time simply ran out in the record): the
    process's re-check of every open screen (every 0.5 s on this server) closes the
    screens of that session with 1008, and only those."""
    ending_name, password = create_user(database_url, role="controller", rooms=[room])
    ending = await asyncio.to_thread(login, server.url, ending_name, password)
    staying = await asyncio.to_thread(login, server.url, *create_user(database_url, role="controller", rooms=[room]))
    url = f"{server.ws_url}/ws/rooms/{room}?lang=zh_CN"
    screens = [await websockets.connect(url, additional_headers=cookie_header(client))
               for client in (ending, ending, staying)]
    for ws in screens:
        await ws.recv()  # the snapshot

    def run_out() -> None:
        engine = make_engine(database_url)
        with transaction(session_factory(engine)) as session:
            user_id = session.scalar(select(User.id).where(User.username == ending_name))
            for row in session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)):
                row.expires_at = utcnow()
        engine.dispose()

    code, seconds = await _closed_after(screens[0], run_out, traffic=None)
    assert code == 1008 and seconds < 5, (code, seconds)
    with pytest.raises(websockets.exceptions.ConnectionClosed):
        await asyncio.wait_for(screens[1].recv(), timeout=5)
    # The other session's screen stays and keeps its pushes.
    await asyncio.to_thread(server.post_events, room, [comment(f"still-{next(_ids)}", "还在吗")])
    assert "还在吗" in await frames_until(screens[2], lambda frame: "还在吗" in frame, timeout=10)
    for ws in screens:
        await ws.close()
