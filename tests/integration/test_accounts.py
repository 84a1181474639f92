"""Signing in and out, sessions, host links, CSRF and the audit log, through HTTP."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from controlroom.audit.models import AuditEntry
from controlroom.auth import service
from controlroom.auth.models import LoginSession, User
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from tests.support import create_room, create_user, csrf_of, login, unique


def _db(database_url):
    return transaction(session_factory(make_engine(database_url)))


def _audit(database_url, **filters) -> list[AuditEntry]:
    with _db(database_url) as session:
        return service.audit_entries(session, **filters)


def _post_login(base_url: str, username: str, password: str) -> httpx.Response:
    # Each test that fails logins does so from an address of its own (the proxy header is
    # trusted from loopback), so the per-address limit of one test never blocks another.
    client = httpx.Client(base_url=base_url, headers={"x-forwarded-for": _address_of(username)})
    token = csrf_of(client)
    return client.post("/login", data={"csrftoken": token, "username": username, "password": password, "next": "/rooms"})


def _address_of(username: str) -> str:
    digest = sum(username.encode()) % 250
    return f"198.18.{len(username) % 250}.{digest + 1}"


def test_a_wrong_password_is_refused_and_logged(server, database_url, room):
    username, _ = create_user(database_url, role="controller", rooms=[room])
    response = _post_login(server.url, username, "not the password")
    assert response.status_code == 401
    assert "cr_session" not in response.cookies
    assert "Wrong username or password" in response.text or "用户名或密码错误" in response.text
    failed = _audit(database_url, actor=username, action="login.failed")
    assert len(failed) == 1 and failed[0].ip == _address_of(username)


def test_a_correct_login_sets_a_signed_httponly_samesite_cookie(server, database_url, room):
    username, password = create_user(database_url, role="analyst", rooms=[room])
    response = _post_login(server.url, username, password)
    assert response.status_code == 303 and response.headers["location"] == "/rooms"
    cookie = response.headers["set-cookie"]
    assert "cr_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    # A cookie value that was not signed by the server is worth nothing.
    forged = httpx.get(f"{server.url}/rooms", cookies={"cr_session": "forged-value"})
    assert forged.status_code == 401


def test_logins_are_rate_limited_per_username_and_address(server, database_url, room):
    username, password = create_user(database_url, role="analyst", rooms=[room])
    for _ in range(5):
        assert _post_login(server.url, username, "wrong").status_code == 401
    blocked = _post_login(server.url, username, password)  # even the right password waits
    assert blocked.status_code == 429
    assert "Try again in" in blocked.text or "秒后再试" in blocked.text


def test_a_disabled_user_cannot_log_in_and_loses_open_sessions(server, database_url, room):
    username, password = create_user(database_url, role="controller", rooms=[room])
    client = login(server.url, username, password)
    assert client.get(f"/api/rooms/{room}/state").status_code == 200
    admin = server.admin
    with _db(database_url) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    response = admin.post(f"/admin/users/{user_id}", data={
        "csrftoken": csrf_of(admin, "/admin/users"), "role": "controller", "rooms": [room], "disabled": "on",
    }, follow_redirects=False)
    assert response.status_code == 303
    assert client.get(f"/api/rooms/{room}/state").status_code == 401
    assert _post_login(server.url, username, password).status_code == 401
    change = _audit(database_url, action="user.update")[0]
    assert change.actor == "test-admin" and change.detail["disabled"] == [False, True]


def test_an_expired_session_is_refused(server, database_url, room):
    username, password = create_user(database_url, role="analyst", rooms=[room])
    client = login(server.url, username, password)
    assert client.get(f"/api/rooms/{room}/state").status_code == 200
    with _db(database_url) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        session.execute(update(LoginSession).where(LoginSession.user_id == user_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get(f"/api/rooms/{room}/state").status_code == 401
    page = client.get(f"/rooms/{room}")
    assert page.status_code == 401 and 'action="/login"' in page.text  # asks to sign in again


def test_a_state_changing_request_without_the_csrf_token_is_refused(server, database_url):
    admin = server.admin
    before = len(_audit(database_url, action="user.add"))
    response = admin.post("/admin/users", data={"username": unique("x"), "password": "long enough 1", "role": "tech"})
    assert response.status_code == 403
    assert "CSRF" in response.text
    wrong = admin.post("/admin/users", data={"csrftoken": "forged", "username": unique("x"),
                                             "password": "long enough 1", "role": "tech"})
    assert wrong.status_code == 403
    assert len(_audit(database_url, action="user.add")) == before
    # The same form with its token goes through; htmx sends the token as a header.
    ok = admin.post("/admin/users", data={"username": unique("y"), "password": "long enough 1", "role": "tech"},
                    headers={"x-csrftoken": admin.cookies["csrftoken"]}, follow_redirects=False)
    assert ok.status_code == 303
    assert len(_audit(database_url, action="user.add")) == before + 1


def test_a_revoked_host_link_stops_working(server, database_url, room):
    with _db(database_url) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="主播屏测试",
                 planned_start=utcnow())
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    token = csrf_of(controller, f"/rooms/{room}/host-link")
    controller.post(f"/rooms/{room}/host-link", data={"csrftoken": token, "action": "create"})
    page = controller.get(f"/rooms/{room}/host-link").text
    url = page.split('id="host-url" href="')[1].split('"')[0]
    assert 'class="qr"' in page and url.startswith(f"{server.url}/host/")

    tablet = httpx.get(url)  # no login: the link is the credential
    assert tablet.status_code == 200 and "主播屏测试" in tablet.text
    controller.post(f"/rooms/{room}/host-link", data={"csrftoken": token, "action": "revoke"})
    assert httpx.get(url).status_code == 401
    assert [e.action for e in _audit(database_url, room_slug=room, action="host_link.")] == [
        "host_link.revoke", "host_link.create",
    ]


def test_metrics_are_open_to_loopback_and_otherwise_need_the_token(server):
    assert httpx.get(f"{server.url}/metrics").status_code == 200
    # Seen through a proxy on this machine, the client is the forwarded address.
    remote = {"x-forwarded-for": "203.0.113.9"}
    assert httpx.get(f"{server.url}/metrics", headers=remote).status_code == 401
    with_token = httpx.get(f"{server.url}/metrics", headers={**remote, "authorization": "Bearer test-metrics-token"})
    assert with_token.status_code == 200 and "controlroom_events_ingested_total" in with_token.text


def test_the_audit_page_lists_and_filters_actions(server, database_url, room):
    username, password = create_user(database_url, role="tech", rooms=[room])
    login(server.url, username, password)
    _post_login(server.url, username, "wrong password")
    page = server.admin.get("/admin/audit", params={"actor": username})
    assert page.status_code == 200
    assert page.text.count('data-action="login"') == 1
    assert page.text.count('data-action="login.failed"') == 1
    only_failed = server.admin.get("/admin/audit", params={"actor": username, "action": "login.failed"})
    assert 'data-action="login"' not in only_failed.text


def test_user_add_on_the_command_line(server, database_url, tmp_path, room):
    username = unique("cli")
    env = {**server.env, "CONTROLROOM_DATA_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "controlroom.cli", "user", "add", username, "--role", "tech", "--room", room,
         "--password", "cli password 1"], env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    client = login(server.url, username, "cli password 1")
    assert client.get(f"/api/rooms/{room}/state").status_code == 200
    bad = subprocess.run(
        [sys.executable, "-m", "controlroom.cli", "user", "add", unique("cli"), "--role", "tech",
         "--room", "no-such-room", "--password", "cli password 1"], env=env, capture_output=True, text=True, timeout=60,
    )
    assert bad.returncode == 2 and "no such room: no-such-room" in bad.stderr


def test_an_admin_adds_a_room_on_the_rooms_page(server, database_url):
    admin = server.admin
    slug = unique("new-room")
    response = admin.post("/rooms", data={"csrftoken": csrf_of(admin, "/rooms"), "slug": slug, "name": "新直播间"},
                          follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == f"/rooms/{slug}"
    assert "新直播间" in admin.get(f"/rooms/{slug}").text
    bad = admin.post("/rooms", data={"csrftoken": csrf_of(admin, "/rooms"), "slug": "Bad Slug!", "name": "x"})
    assert bad.status_code == 422 and "must be 1-64 characters" in bad.text
    assert _audit(database_url, room_slug=slug, action="room.add")[0].actor == "test-admin"


def test_a_rejected_user_edit_changes_nothing(server, database_url, room):
    username, _ = create_user(database_url, role="tech", rooms=[room])
    with _db(database_url) as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    admin = server.admin
    response = admin.post(f"/admin/users/{user_id}", data={
        "csrftoken": csrf_of(admin, "/admin/users"), "role": "admin", "rooms": [room], "password": "short",
    })
    assert response.status_code == 422 and "at least 8" in response.text
    with _db(database_url) as session:
        assert session.get(User, user_id).role == "tech"
    assert not [e for e in _audit(database_url, action="user.update") if e.detail.get("username") == username]


def test_parallel_guesses_cannot_slip_past_the_login_limit(server, database_url, room):
    from concurrent.futures import ThreadPoolExecutor

    username, password = create_user(database_url, role="analyst", rooms=[room])
    address = {"x-forwarded-for": "198.51.100.7"}  # a bucket of its own (the proxy header is trusted from loopback)

    def guess(_: int) -> int:
        client = httpx.Client(base_url=server.url, headers=address)
        token = csrf_of(client)
        return client.post("/login", data={"csrftoken": token, "username": username, "password": "wrong"}).status_code

    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(guess, range(12)))
    assert answers.count(401) == 5 and answers.count(429) == 7


def test_a_revoked_ingest_key_stops_working_at_once(server, room):
    from tests.support import comment

    admin = server.admin
    page = admin.get(f"/rooms/{room}/api-keys")
    key_id = page.text.split(f'/rooms/{room}/api-keys/')[1].split("/revoke")[0]
    assert server.post_events(room, [comment("before", "在吗")]).status_code == 200
    admin.post(f"/rooms/{room}/api-keys/{key_id}/revoke", data={"csrftoken": csrf_of(admin, f"/rooms/{room}/api-keys")})
    refused = server.post_events(room, [comment("after", "在吗")])
    assert refused.status_code == 401
    created = admin.post(f"/rooms/{room}/api-keys", data={"csrftoken": csrf_of(admin, f"/rooms/{room}/api-keys"),
                                                           "name": "new feed"})
    new_key = created.text.split('id="new-key">')[1].split("<")[0]
    assert server.post_events(room, [comment("again", "在吗")], api_key=new_key).json()["accepted"] == 1


def test_the_rooms_overview_lists_only_the_user_s_rooms_with_their_numbers(server, database_url, redis_url, room):
    other = create_room(database_url, redis_url)
    server.post_events(room, [{"id": "v1", "type": "viewers", "ts": 1_763_700_000_000, "online": 4321}])
    server.wait_for_state(room, lambda s: s["online"] == 4321)
    client = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    page = client.get("/rooms").text
    assert f'data-room="{room}"' in page and f'data-room="{other}"' not in page
    row = page.split(f'data-room="{room}"')[1].split("</tr>")[0]
    assert "4,321" in row


def test_show_targets_are_checked_and_audited(server, database_url, room):
    with _db(database_url) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="目标", planned_start=utcnow())
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    token = csrf_of(controller, f"/rooms/{room}")
    htmx = {"hx-request": "true", "x-csrftoken": token}
    bad = controller.post(f"/rooms/{room}/targets", data={"interaction_rate": "150"}, headers=htmx)
    assert bad.status_code == 422 and "interaction_rate: must be between 0%–100%" in bad.text
    nan = controller.post(f"/rooms/{room}/targets", data={"comments": "lots"}, headers=htmx)
    assert nan.status_code == 422 and "&#39;lots&#39; is not a number" in nan.text  # escaped: typed by a person
    ok = controller.post(f"/rooms/{room}/targets", data={"interaction_rate": "20", "comments": "500"}, headers=htmx)
    assert ok.status_code == 200 and 'id="targets"' in ok.text
    state = server.state(room)
    assert state["targets"] == {"interaction_rate": 0.2, "conversion_rate": 0.05, "like_rate": 0.1, "comments": 500}
    assert _audit(database_url, room_slug=room, action="show.targets")[0].detail["targets"] == {
        "interaction_rate": 0.2, "comments": 500}
