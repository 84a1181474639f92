"""Playbooks over HTTP: started from the tech screen and from an alert, steps ticked,
the host receives a step's cue, audit rows and the timeline are written, the alert stops
calling for attention while its playbook runs."""

from __future__ import annotations

import html
import time

from sqlalchemy import select

from controlroom.audit.models import AuditEntry
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from tests.integration.test_alerts import add_rule, event, wait_for_alert
from tests.support import create_user, csrf_of, login


def htmx_post(client, url: str, **data):
    return client.post(url, data=data, headers={"hx-request": "true", "x-csrftoken": csrf_of(client)})


def runs(server, room) -> list[dict]:
    return server.admin.get(f"/api/rooms/{room}/playbook-runs").json()


def test_started_from_the_tech_screen_ticked_with_a_cue_to_the_host(server, room, database_url):
    tech = login(server.url, *create_user(database_url, role="tech", rooms=[room]))
    assert "断流/黑屏" in tech.get(f"/rooms/{room}/tech").text  # the trigger button
    assert htmx_post(tech, f"/rooms/{room}/playbooks/stream-interruption/start").status_code == 204
    again = htmx_post(tech, f"/rooms/{room}/playbooks/stream-interruption/start")
    assert again.status_code == 409 and "执行中" in again.json()["detail"]
    (run,) = runs(server, room)
    assert run["status"] == "running" and run["timeline"][0]["kind"] == "started"

    assert htmx_post(tech, f"/rooms/{room}/playbook-runs/{run['id']}/steps/1/done").status_code == 204
    # Step 2 is current now: its cue is on the host screen, flashing until acknowledged.
    control = server.admin.get(f"/rooms/{room}?lang=zh_CN").text
    assert "画面中断，请在备用机位说等待话术" in control  # messages to the host, in the run-of-show panel
    assert "预案执行中" in control  # the banner everyone sees

    assert htmx_post(tech, f"/rooms/{room}/playbook-runs/{run['id']}/notes", text="备用编码器已上线").status_code == 204
    done_twice = htmx_post(tech, f"/rooms/{room}/playbook-runs/{run['id']}/steps/1/done")
    assert done_twice.status_code == 409 and "已由" in done_twice.json()["detail"]
    assert htmx_post(tech, f"/rooms/{room}/playbook-runs/{run['id']}/close", status="completed").status_code == 204

    (run,) = runs(server, room)
    assert run["status"] == "completed"
    assert [e["kind"] for e in run["timeline"]] == ["started", "step_done", "cue_sent", "note", "completed"]
    assert run["timeline"][1]["late"] is False
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        actions = list(session.scalars(select(AuditEntry.action).join(Room, Room.id == AuditEntry.room_id)
                                       .where(Room.slug == room).order_by(AuditEntry.id)))
    engine.dispose()
    assert actions == ["playbook.start", "playbook.step", "playbook.note", "playbook.close"]


def test_started_from_an_alert_it_stops_the_alert_calling(server, room, database_url):
    assert add_rule(server.admin, key=f"pb-{room}", name="断流测试", level="red", escalate_after_s="3",
                    renotify_s="2", playbook="stream-interruption", labels=f"room={room}",
                    **{"condition.kind": "status", "condition.status": "interrupted"}).status_code == 303
    server.post_events(room, [event("stream", status="interrupted")])
    alert = wait_for_alert(server, room, lambda a: a["rule"] == f"pb-{room}" and a["state"] == "firing")
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    page = controller.get(f"/rooms/{room}").text
    assert f'/rooms/{room}/playbooks/stream-interruption/start' in page  # one click from the alert
    response = htmx_post(controller, f"/rooms/{room}/playbooks/stream-interruption/start", alert_id=str(alert["id"]))
    assert response.status_code == 204
    (run,) = runs(server, room)
    assert run["alert"] == alert["id"]
    assert "预案执行中" in controller.get(f"/rooms/{room}").text
    time.sleep(5)  # past both the re-notify and the escalation time
    alert = wait_for_alert(server, room, lambda a: a["id"] == alert["id"])
    assert [t["event"] for t in alert["transitions"]] == ["firing"]
    # A controller may start playbooks but ticking steps is the tech desk's.
    refused = htmx_post(controller, f"/rooms/{room}/playbook-runs/{run['id']}/steps/1/done")
    assert refused.status_code == 403


def test_playbooks_are_edited_as_yaml_with_errors_that_say_where(server):
    admin = server.admin
    page = admin.get("/playbooks").text
    assert "stock-out" in page
    bad = admin.post("/playbooks/new", data={"csrftoken": csrf_of(admin), "text": "key: x\nname: [oops"})
    assert bad.status_code == 422 and "line 2" in html.unescape(bad.text)
    wrong = admin.post("/playbooks/new", data={"csrftoken": csrf_of(admin), "text": (
        "key: drill\nname: 演练\nlevel: yellow\nsteps:\n  - {title: a, owner: intern, deadline_s: 60}\n")})
    assert wrong.status_code == 422 and "steps.0.owner" in html.unescape(wrong.text)
    good = admin.post("/playbooks/new", data={"csrftoken": csrf_of(admin), "text": (
        "key: drill\nname: 演练\nlevel: yellow\nsteps:\n  - {title: 第一步, owner: tech, deadline_s: 60}\n")},
        follow_redirects=False)
    assert good.status_code == 303
    assert "演练" in admin.get("/playbooks").text
