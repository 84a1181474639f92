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
    assert empty.status_code == 422 and "消息为空" in empty.json()["detail"]
    long = controller.post(f"/rooms/{room}/host-messages", data={"text": "话" * 301}, headers=headers)
    assert long.status_code == 422 and "最多 300 个字" in long.json()["detail"]


def test_an_analyst_cannot_message_the_host(server, room, database_url):
    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    response = analyst.post(f"/rooms/{room}/host-messages", data={"text": "hi"},
                            headers={"x-csrftoken": csrf_of(analyst)})
    assert response.status_code == 403


async def test_a_flagged_line_reaches_the_host_as_an_urgent_correction_with_neutral_wording(server, room, database_url):
    """SOP 15: a controller flags what the host just said; the host's screen flashes the
    correction with what to say instead, and the audit keeps the line and the terms."""
    host = login(server.url, *create_user(database_url, role="host", rooms=[room]))
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    headers = {"hx-request": "true", "x-csrftoken": csrf_of(controller)}
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/host?lang=zh_CN",
                                  additional_headers=cookie_header(host)) as ws:
        await ws.recv()
        response = await asyncio.to_thread(controller.post, f"/rooms/{room}/compliance-flags",
                                           data={"line": "这款是全网最低价，<效果>最好"}, headers=headers)
        assert response.status_code == 204, response.text
        frame = await frames_until(ws, lambda f: "合规更正" in f)
    assert "urgent-newest" in frame and 'role="alertdialog"' in frame
    assert "“全网最低价”改说“直播间优惠价”" in frame and "“最好”改说“很好”" in frame

    # A line with no term the lexicon knows still reaches the host, quoted, escaped.
    sent = controller.post(f"/rooms/{room}/compliance-flags", data={"line": "<b>保证三天瘦十斤</b>"},
                           headers={"x-csrftoken": csrf_of(controller)})
    assert sent.status_code == 200 and sent.json()["terms"] == []
    assert sent.json()["cue"] == "合规更正：请更正刚才的说法“<b>保证三天瘦十斤</b>”，换成可证实的具体描述。"

    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "host.compliance")
                               .order_by(AuditEntry.id))
        assert entry.detail["line"] == "这款是全网最低价，<效果>最好"
        assert set(entry.detail["terms"]) >= {"全网最低价", "最好"}
    engine.dispose()

    empty = controller.post(f"/rooms/{room}/compliance-flags", data={"line": " "}, headers=headers)
    assert empty.status_code == 422 and "点选一条评论" in empty.json()["detail"]
    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    assert analyst.post(f"/rooms/{room}/compliance-flags", data={"line": "最好"},
                        headers={"x-csrftoken": csrf_of(analyst)}).status_code == 403
