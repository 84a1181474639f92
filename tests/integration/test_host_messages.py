"""A quick reply (or any line) pushed by the controller reaches the host's screen at
once, escaped, and is kept with who sent it."""

from __future__ import annotations

import asyncio

import websockets
from sqlalchemy import select

from controlroom.audit.models import AuditEntry
from controlroom.db.session import make_engine, session_factory, transaction
from tests.support import cookie_header, create_user, csrf_of, frames_until, login


async def test_a_pushed_reply_appears_on_the_host_screen(server, room, database_url):
    host = login(server.url, *create_user(database_url, role="host", rooms=[room]))
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/host?lang=zh_CN",
                                  additional_headers=cookie_header(host)) as ws:
        snapshot = await ws.recv()
        assert 'id="host-messages"' in snapshot and "data-message=" not in snapshot
        response = await asyncio.to_thread(
            controller.post, f"/rooms/{room}/host-messages",
            data={"text": "点击小黄车 <1> 号链接", "source": "quick-reply"},
            headers={"hx-request": "true", "x-csrftoken": csrf_of(controller)},
        )
        assert response.status_code == 204
        frame = await frames_until(ws, lambda f: "host-message newest" in f)
    assert "点击小黄车 &lt;1&gt; 号链接" in frame

    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "host.message").order_by(AuditEntry.id.desc()))
        assert entry.detail["text"] == "点击小黄车 <1> 号链接" and entry.detail["source"] == "quick-reply"
    engine.dispose()


def test_an_empty_or_long_message_is_refused_with_the_reason(server, room, database_url):
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    headers = {"hx-request": "true", "x-csrftoken": csrf_of(controller)}
    empty = controller.post(f"/rooms/{room}/host-messages", data={"text": "  "}, headers=headers)
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]
    long = controller.post(f"/rooms/{room}/host-messages", data={"text": "话" * 301}, headers=headers)
    assert long.status_code == 422 and "at most 300" in long.json()["detail"]


def test_an_analyst_cannot_message_the_host(server, room, database_url):
    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    response = analyst.post(f"/rooms/{room}/host-messages", data={"text": "hi"},
                            headers={"x-csrftoken": csrf_of(analyst)})
    assert response.status_code == 403
