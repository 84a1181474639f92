"""The whole permission matrix, walked over real HTTP and websockets: every route, every
role, anonymous, and a user of another room. What each may do is computed from the
one table in controlroom/auth/permissions.py; the server must agree."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
import websockets
from fastapi.routing import APIRoute, APIWebSocketRoute
from sqlalchemy import select

from controlroom.app import create_app
from controlroom.auth import service
from controlroom.auth.deps import Requires, RequiresHostLink, RequiresIngestKey
from controlroom.web.ops import RequiresMetricsAccess
from controlroom.auth.models import HostLink, User
from controlroom.auth.permissions import Role, allows, is_open
from controlroom.auth.secrets import Signer
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from controlroom.settings import DEFAULT_SECRET_KEY, Settings
from tests.support import cookie_header, create_room, create_user, csrf_of, login

ANONYMOUS = "anonymous"
OTHER_ROOM = "controller of another room"


def _routes(routes):
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included routers
            yield from _routes(route.original_router.routes)
        else:
            yield route


def _guard(route):
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, (Requires, RequiresHostLink, RequiresMetricsAccess, RequiresIngestKey)):
            return dependency.call
    return None


def guarded_routes():
    app = create_app(Settings(mode="dev"))
    found = []
    for route in _routes(app.routes):
        if isinstance(route, APIRoute):
            for method in sorted(route.methods - {"HEAD"}):
                found.append((method, route.path, _guard(route)))
        elif isinstance(route, APIWebSocketRoute):
            found.append(("WS", route.path, _guard(route)))
    return found


def test_every_route_is_open_by_design_or_declares_what_it_needs():
    unguarded = [(m, p) for m, p, guard in guarded_routes() if guard is None and not is_open(p)]
    assert unguarded == []


@pytest.fixture(scope="module")
def world(server, database_url, redis_url):
    """Room A with one user per role, room B with a controller, a host link, a spare
    ingest key and a spare user to edit."""
    room_a = create_room(database_url, redis_url)
    room_b = create_room(database_url, redis_url)
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        room = session.scalar(select(Room).where(Room.slug == room_a))
        show = add_show(session, room=room, title="矩阵测试", planned_start=utcnow())
        service.create_host_link(session, show=show, created_by="tests", now=utcnow())
        spare_key, _ = service.create_api_key(session, room=room, name="spare", created_by="tests")
        spare_key_id = spare_key.id
    engine.dispose()
    people = {role.value: create_user(database_url, role=role.value, rooms=[room_a]) for role in Role}
    people[OTHER_ROOM] = create_user(database_url, role="controller", rooms=[room_b])
    spare_user = create_user(database_url, role="analyst", rooms=[room_a])
    with transaction(session_factory(make_engine(database_url))) as session:
        spare_user_id = session.scalar(select(User.id).where(User.username == spare_user[0]))
    return {
        "room": room_a, "people": people, "database_url": database_url,
        "key_id": spare_key_id, "user_id": spare_user_id,
    }


def _host_token(database_url: str, room: str) -> str:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        link = session.scalar(
            select(HostLink).join(HostLink.show).join(Room).where(Room.slug == room, HostLink.revoked_at.is_(None))
        )
        token = Signer(DEFAULT_SECRET_KEY).host_link_token(link.id, link.nonce)
    engine.dispose()
    return token


def _expected(who: str, guard, path: str) -> bool:
    """May `who` use this route, by the matrix?"""
    if isinstance(guard, (RequiresHostLink, RequiresMetricsAccess)):
        return True  # the link (or loopback) is the credential, whoever holds it
    if isinstance(guard, RequiresIngestKey):
        return False  # feeds authenticate with the room's key; a login is no key
    if who == ANONYMOUS:
        return False
    role = "controller" if who == OTHER_ROOM else who
    if guard.permission is not None and not allows(role, guard.permission):
        return False
    if "{room}" in path and who == OTHER_ROOM:
        return False
    return True


def _concrete(path: str, world) -> str:
    values = {
        "room": world["room"], "token": _host_token(world["database_url"], world["room"]),
        "user_id": str(world["user_id"]), "key_id": str(world["key_id"]),
        # Ids that do not exist: the permission answers first, then 404 (nothing changes).
        "alert_id": "999999", "silence_id": "999999", "key": "dead-air", "term_id": "999999", "reply_id": "999999", "message_id": "999999", "action": "next", "number": "999", "fmt": "yaml", "run_id": "999999", "binding_id": "999999", "show_id": "999999",
        "phrase_id": "999999", "item_id": "999999", "channel_id": "999999",
    }
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: values[m.group(1)], path)


def _client(server, world, who: str) -> httpx.Client:
    if who == ANONYMOUS:
        return httpx.Client(base_url=server.url, timeout=30)
    return login(server.url, *world["people"][who])


WHO = [ANONYMOUS, *[role.value for role in Role], OTHER_ROOM]


@pytest.mark.parametrize("who", WHO)
def test_http_routes_follow_the_matrix(server, world, who):
    checked = []
    client = _client(server, world, who)
    token = csrf_of(client)  # the client's double-submit token: the same for every post
    try:
        for method, path, guard in guarded_routes():
            if guard is None or method == "WS" or path == "/logout":
                continue
            url = _concrete(path, world)
            if method == "GET":
                response = client.get(url, follow_redirects=False)
            else:
                # A well-formed form post (CSRF token included), so what answers is the
                # permission check itself; missing tokens are tested on their own.
                response = client.post(url, data={"csrftoken": token}, follow_redirects=False)
            allowed = _expected(who, guard, path)
            if allowed:
                assert response.status_code not in (401, 403), (who, method, path, response.status_code)
                assert response.status_code < 500, (who, method, path, response.text[:300])
            else:
                expected = 401 if who == ANONYMOUS or isinstance(guard, RequiresIngestKey) else 403
                assert response.status_code == expected, (who, method, path, response.status_code, response.text[:200])
                if "{room}" in path:
                    # The refusal is the same for a room that does not exist: it says
                    # nothing about the room.
                    ghost_url = url.replace(world["room"], "no-such-room-x")
                    if method == "GET":
                        ghost = client.get(ghost_url, follow_redirects=False)
                    else:
                        ghost = client.post(ghost_url, data={"csrftoken": token}, follow_redirects=False)
                    assert ghost.status_code == response.status_code
                    assert ghost.text.replace("no-such-room-x", "ROOM") == response.text.replace(world["room"], "ROOM")
            checked.append((method, path))
    finally:
        client.close()
    assert len(checked) >= 15


@pytest.mark.parametrize("who", WHO)
def test_logout_needs_a_session_and_ends_it_on_the_server(server, world, who):
    client = _client(server, world, who)
    session_cookie = client.cookies.get("cr_session")
    response = client.post("/logout", data={"csrftoken": csrf_of(client)}, follow_redirects=False)
    client.close()
    if who == ANONYMOUS:
        assert response.status_code == 401
        return
    assert response.status_code == 303
    # The old cookie is dead on the server, not just deleted in this browser.
    replay = httpx.get(f"{server.url}/api/rooms/{world['room']}/state", cookies={"cr_session": session_cookie})
    assert replay.status_code == 401


@pytest.mark.parametrize("who", WHO)
def test_websockets_follow_the_matrix(server, world, who):
    async def attempt(url: str, headers: dict) -> str:
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=10) as ws:
                await asyncio.wait_for(ws.recv(), timeout=10)
                return "open"
        except websockets.InvalidStatus as exc:
            return f"refused {exc.response.status_code}"
        except websockets.ConnectionClosed as exc:
            return f"closed {exc.rcvd.code if exc.rcvd else None}"

    headers = {} if who == ANONYMOUS else cookie_header(_client(server, world, who))
    for method, path, guard in guarded_routes():
        if method != "WS":
            continue
        outcome = asyncio.run(attempt(server.ws_url + _concrete(path, world), headers))
        if _expected(who, guard, path):
            assert outcome == "open", (who, path, outcome)
        else:
            # Closed with 1008 (policy violation), the code the client can act on.
            assert outcome == "closed 1008", (who, path, outcome)


def test_a_websocket_opened_by_another_site_is_refused_even_with_the_cookie(server, world):
    async def attempt(origin: str) -> str:
        headers = {**cookie_header(_client(server, world, "controller")), "Origin": origin}
        try:
            async with websockets.connect(f"{server.ws_url}/ws/rooms/{world['room']}", additional_headers=headers) as ws:
                await asyncio.wait_for(ws.recv(), timeout=10)
                return "open"
        except websockets.ConnectionClosed as exc:
            return f"closed {exc.rcvd.code if exc.rcvd else None}"

    assert asyncio.run(attempt("https://evil.example")) == "closed 1008"
    assert asyncio.run(attempt(server.url)) == "open"


def _closes_with_1008(url: str, headers: dict, then) -> str:
    """Open the socket, take the snapshot, run `then()`, and report how it ends."""

    async def run() -> str:
        async with websockets.connect(url, additional_headers=headers) as ws:
            await ws.recv()
            await asyncio.to_thread(then)
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed as exc:
                return f"closed {exc.rcvd.code if exc.rcvd else None}"
            except asyncio.TimeoutError:
                return "still open"

    return asyncio.run(run())


def test_an_open_control_room_socket_closes_when_its_session_ends(server, world):
    client = _client(server, world, "controller")
    outcome = _closes_with_1008(
        f"{server.ws_url}/ws/rooms/{world['room']}", cookie_header(client),
        lambda: client.post("/logout", data={"csrftoken": csrf_of(client)}),
    )
    assert outcome == "closed 1008"


def test_an_open_host_screen_closes_when_its_link_is_revoked(server, world):
    controller = _client(server, world, "controller")
    token = _host_token(world["database_url"], world["room"])
    url = f"{server.ws_url}/ws/host/{token}"

    def revoke() -> None:
        form = csrf_of(controller, f"/rooms/{world['room']}/host-link")
        controller.post(f"/rooms/{world['room']}/host-link", data={"csrftoken": form, "action": "create"})

    assert _closes_with_1008(url, {}, revoke) == "closed 1008"
    assert httpx.get(f"{server.url}/host/{token}").status_code == 401
