"""Rules and alerts end to end: events in, alert rows and pushes out; people
acknowledge, resolve and silence over HTTP; inhibition and escalation."""

from __future__ import annotations

import asyncio
import itertools
import time

import httpx
import websockets
from sqlalchemy import select

from controlroom.audit.models import AuditEntry
from controlroom.db.session import make_engine, session_factory, transaction
from tests.support import cookie_header, csrf_of, frames_until

_ids = itertools.count()


def now_ms() -> int:
    return int(time.time() * 1000)


def event(kind: str, **fields) -> dict:
    return {"id": f"a{next(_ids)}-{time.monotonic_ns()}", "type": kind, "ts": now_ms(), **fields}


def alerts(server, room) -> list[dict]:
    response = server.admin.get(f"/api/rooms/{room}/alerts")
    response.raise_for_status()
    return response.json()


def wait_for_alert(server, room, predicate, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = [a for a in alerts(server, room) if predicate(a)]
        if found:
            return found[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no such alert within {timeout}s; alerts: {alerts(server, room)}")
        time.sleep(0.1)


def add_rule(client: httpx.Client, path: str = "/rules", **fields) -> httpx.Response:
    """Create a rule through the rules page's form, as an admin does."""
    form = {
        "csrftoken": csrf_of(client, "/rules/new"), "level": "yellow", "group": "general", "for_s": "0",
        "clear_for_s": "0", "renotify_s": "0", "enabled": "on", "only_live": "on", **fields,
    }
    return client.post(path, data=form, follow_redirects=False)


def post_htmx(client: httpx.Client, url: str, **data) -> httpx.Response:
    return client.post(url, data=data, headers={"hx-request": "true", "x-csrftoken": csrf_of(client)})


async def test_an_interrupted_stream_raises_a_red_alert_on_every_screen(server, room):
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en",
                                  additional_headers=cookie_header(server.admin)) as ws:
        snapshot = await ws.recv()
        assert 'id="alerts"' in snapshot and "No alerts." in snapshot
        await asyncio.to_thread(server.post_events, room, [event("stream", status="interrupted")])
        frame = await frames_until(ws, lambda f: 'data-rule="stream-interrupted"' in f)
    assert 'data-state="firing"' in frame and "level-red" in frame
    assert "Stream interrupted" in frame
    alert = wait_for_alert(server, room, lambda a: a["rule"] == "stream-interrupted")
    assert alert["level"] == "red" and alert["state"] == "firing"
    assert [t["event"] for t in alert["transitions"]] == ["firing"]


def test_a_firing_alert_that_stays_true_is_raised_once(server, room):
    server.post_events(room, [event("stream", status="interrupted")])
    wait_for_alert(server, room, lambda a: a["rule"] == "stream-interrupted")
    server.post_events(room, [event("stream", status="interrupted") for _ in range(3)])
    time.sleep(2)
    interrupted = [a for a in alerts(server, room) if a["rule"] == "stream-interrupted"]
    assert len(interrupted) == 1


def test_acknowledge_then_resolve_over_http_with_rows_and_audit(server, room, database_url):
    admin = server.admin
    assert add_rule(admin, key=f"big-{room}", name="人数过万", level="red", labels=f"room={room}",
                    **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">",
                       "condition.value": "9000"}).status_code == 303
    server.post_events(room, [event("stream", status="live"), event("viewers", online=9500)])
    alert = wait_for_alert(server, room, lambda a: a["rule"] == f"big-{room}" and a["state"] == "firing")

    assert post_htmx(admin, f"/rooms/{room}/alerts/{alert['id']}/ack").status_code == 204
    acked = wait_for_alert(server, room, lambda a: a["id"] == alert["id"])
    assert acked["state"] == "acknowledged"
    assert acked["transitions"][-1]["actor"] == "test-admin"
    # Acknowledging twice is refused with a reason, and changes nothing.
    again = post_htmx(admin, f"/rooms/{room}/alerts/{alert['id']}/ack?lang=zh_CN")
    assert again.status_code == 409 and "已确认过了" in again.json()["detail"]

    assert post_htmx(admin, f"/rooms/{room}/alerts/{alert['id']}/resolve").status_code == 204
    resolved = wait_for_alert(server, room, lambda a: a["id"] == alert["id"])
    assert [t["event"] for t in resolved["transitions"]] == ["firing", "acknowledged", "resolved"]

    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        actions = set(session.scalars(select(AuditEntry.action).where(AuditEntry.detail["alert"].as_integer() == alert["id"])))
    engine.dispose()
    assert {"alert.acknowledge", "alert.resolve"} <= actions


def test_an_alert_of_another_room_cannot_be_touched(server, room, database_url, redis_url):
    from tests.support import create_room

    other = create_room(database_url, redis_url)
    server.post_events(other, [event("stream", status="interrupted")])
    alert = wait_for_alert(server, other, lambda a: a["rule"] == "stream-interrupted")
    response = post_htmx(server.admin, f"/rooms/{room}/alerts/{alert['id']}/ack")
    assert response.status_code == 404
    assert wait_for_alert(server, other, lambda a: a["id"] == alert["id"])["state"] == "firing"


def test_a_silence_mutes_matching_alerts_and_says_who_set_it(server, room):
    admin = server.admin
    response = post_htmx(admin, f"/rooms/{room}/silences", rule_key="stream-interrupted", minutes="30",
                         comment="planned encoder swap")
    assert response.status_code == 204
    server.post_events(room, [event("stream", status="interrupted")])
    alert = wait_for_alert(server, room, lambda a: a["rule"] == "stream-interrupted" and a["state"] == "firing")
    assert alert["muted_reason"].startswith("silenced by test-admin")
    page = admin.get(f"/rooms/{room}?lang=en").text
    assert "planned encoder swap" in page and "by test-admin until" in page

    silence_id = page.split('data-silence="')[1].split('"')[0]
    assert post_htmx(admin, f"/rooms/{room}/silences/{silence_id}/cancel").status_code == 204
    unmuted = wait_for_alert(server, room, lambda a: a["id"] == alert["id"] and a["muted_reason"] is None)
    assert [t["event"] for t in unmuted["transitions"]][-1] == "unmuted"


def test_silences_need_a_sensible_length(server, room):
    # server.admin may carry another test's lang cookie: the language is asked for here.
    response = post_htmx(server.admin, f"/rooms/{room}/silences?lang=zh_CN", minutes="99999", rule_key="")
    assert response.status_code == 409 and "1 分钟到 7 天" in response.json()["detail"]
    response = post_htmx(server.admin, f"/rooms/{room}/silences?lang=zh_CN", minutes="soon")
    assert response.status_code == 422 and "分钟数" in response.json()["detail"]


def test_a_stream_interruption_mutes_traffic_alerts_of_the_room(server, room):
    assert add_rule(server.admin, key=f"low-{room}", name="人少", group="traffic", labels=f"room={room}",
                    **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": "<",
                       "condition.value": "500"}).status_code == 303
    server.post_events(room, [event("stream", status="interrupted"), event("viewers", online=100)])
    low = wait_for_alert(server, room, lambda a: a["rule"] == f"low-{room}" and a["state"] == "firing")
    assert low["muted_reason"] == "inhibited by stream-interrupted"
    # The stream comes back: the traffic alert speaks up.
    server.post_events(room, [event("stream", status="live")])
    low = wait_for_alert(server, room, lambda a: a["id"] == low["id"] and a["muted_reason"] is None)
    assert "unmuted" in [t["event"] for t in low["transitions"]]


async def test_an_unacknowledged_red_alert_escalates_to_the_tech_screen(server, room):
    assert add_rule(server.admin, key=f"esc-{room}", name="升级测试", level="red", escalate_after_s="1",
                    labels=f"room={room}",
                    **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">",
                       "condition.value": "100"}).status_code == 303
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}/tech?lang=en",
                                  additional_headers=cookie_header(server.admin)) as ws:
        await ws.recv()
        await asyncio.to_thread(server.post_events, room, [event("stream", status="live"), event("viewers", online=500)])
        frame = await frames_until(ws, lambda f: f'data-rule="esc-{room}"' in f and "escalated" in f)
    assert "the tech desk has been alerted" in frame
    alert = wait_for_alert(server, room, lambda a: a["rule"] == f"esc-{room}")
    assert [t["event"] for t in alert["transitions"]] == ["firing", "escalated"]


def test_the_rule_form_shows_errors_next_to_the_fields(server):
    response = add_rule(server.admin, "/rules?lang=zh_CN", key="Bad Key", name="", **{
        "condition.kind": "change", "condition.metric": "peak_online", "condition.op": "<=", "condition.value": "x",
    })
    assert response.status_code == 422
    html = response.text
    for field in ("key", "name", "condition.metric", "condition.value"):
        assert f'data-error-for="{field}"' in html, field
    assert "没有分钟序列" in html  # in the page's language
    # Nothing was stored.
    assert "Bad Key" not in server.admin.get("/rules").text


def test_a_pending_alert_that_clears_is_recorded_but_never_shown(server, room):
    assert add_rule(server.admin, key=f"blip-{room}", name="短暂", for_s="60", labels=f"room={room}",
                    **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">",
                       "condition.value": "100"}).status_code == 303
    server.post_events(room, [event("stream", status="live"), event("viewers", online=500)])
    pending = wait_for_alert(server, room, lambda a: a["rule"] == f"blip-{room}")
    assert pending["state"] == "pending"
    assert f'data-rule="blip-{room}"' in server.admin.get(f"/rooms/{room}").text  # waiting to see if it holds
    server.post_events(room, [event("viewers", online=50)])
    cleared = wait_for_alert(server, room, lambda a: a["id"] == pending["id"] and a["state"] == "resolved")
    assert [t["event"] for t in cleared["transitions"]] == ["pending", "resolved"]
    assert f'data-rule="blip-{room}"' not in server.admin.get(f"/rooms/{room}").text


def test_a_silence_matches_labels_too(server, room):
    for category in ("doubt", "complaint"):
        assert add_rule(server.admin, key=f"lab-{category}-{room}", name=f"标签{category}",
                        labels=f"room={room},category={category}",
                        **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">",
                           "condition.value": "100"}).status_code == 303
    assert post_htmx(server.admin, f"/rooms/{room}/silences", minutes="10", labels="category=doubt").status_code == 204
    assert post_htmx(server.admin, f"/rooms/{room}/silences", minutes="10", labels="category").status_code == 422
    server.post_events(room, [event("stream", status="live"), event("viewers", online=500)])
    doubt = wait_for_alert(server, room, lambda a: a["rule"] == f"lab-doubt-{room}" and a["state"] == "firing")
    complaint = wait_for_alert(server, room, lambda a: a["rule"] == f"lab-complaint-{room}" and a["state"] == "firing")
    assert doubt["muted_reason"].startswith("silenced by")
    assert complaint["muted_reason"] is None
