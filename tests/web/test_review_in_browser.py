"""The review of the shipped sample recording: it renders in chromium, and its CSV and
JSON exports load back with the same numbers."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.metrics.state import RoomState
from controlroom.playbooks.service import close_run, start_run, tick_step
from controlroom.reports.recording import read_recording, recording_path
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show
from controlroom.shows import engine
from controlroom.shows.runs import save_script
from controlroom.shows.script import Script
from controlroom.shows.templates import flash_sale_hourly
from controlroom.sim.samples import SAMPLE, SAMPLE_SECONDS, SAMPLE_START_MS
from tests.support import create_user, login
from tests.web.test_control_room import sign_in


def sample_show(server, room: str, database_url: str, *, days_later: int = 0) -> int:
    """The sample's two hours as a show that ran on the hourly flash-sale script, its
    recording archived where an ended show's recording goes."""
    hour = flash_sale_hourly()
    script = Script(hour.segments + hour.segments, planned_total_s=SAMPLE_SECONDS)
    run = engine.start(script, engine.RunState(), SAMPLE_START_MS)
    clock = SAMPLE_START_MS
    for segment in script.segments[:-1]:
        clock += segment.planned_s * 1000
        run = engine.next_segment(script, run, clock)
    run = engine.end(script, run, SAMPLE_START_MS + SAMPLE_SECONDS * 1000)
    db = make_engine(database_url)
    with transaction(session_factory(db)) as session:
        show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="样例：晚间好物专场",
                        planned_start=datetime.fromtimestamp(SAMPLE_START_MS / 1000, tz=timezone.utc)
                        + timedelta(days=days_later), status="ended")
        save_script(session, show, script)
        show.run = run.to_json()
        show_id = show.id
    db.dispose()
    target = recording_path(Path(server.env["CONTROLROOM_DATA_DIR"]), room, show_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, target)
    return show_id


def test_the_sample_show_s_review_renders_and_exports_the_same_numbers(server, room, database_url, page):
    show_id = sample_show(server, room, database_url)
    expected = RoomState()
    expected.apply(read_recording(SAMPLE), {})

    analyst = create_user(database_url, role="analyst", rooms=[room])
    sign_in(page, server, *analyst, then=f"/rooms/{room}/shows/{show_id}/review")
    expect(page.locator("h1")).to_contain_text("样例：晚间好物专场")
    expect(page.locator('tr[data-metric="comments"] td').first).to_have_text(f"{expected.comments:,}")
    expect(page.locator('tr[data-metric="gmv_cents"] td').first).to_contain_text(f"{expected.gmv_cents / 100:,.2f}")
    expect(page.locator(".review-segments tbody tr")).to_have_count(18)
    expect(page.locator("#chart-online canvas")).to_have_count(1)
    assert page.evaluate("document.getElementById('chart-online').segments().length") == 18
    assert page.locator(".findings li").count() >= 1
    # Where the viewers came from, per segment and for the whole show, in Chinese.
    entries = [e for e in read_recording(SAMPLE) if e["type"] == "enter" and e.get("channel")]
    recommend = sum(e["channel"] == "recommend" for e in entries) / len(entries)
    traffic = page.locator(".review-traffic-table")
    expect(traffic.locator("thead th[data-channel=recommend]")).to_have_text("推荐")
    expect(traffic.locator("tr.total td[data-channel=recommend]")).to_have_text(f"{recommend:.1%}")
    assert traffic.locator("tbody tr[data-segment]").count() == 18
    shown = page.locator("main").inner_text()
    # Categories, levels and statuses in the reader's language, never their keys.
    assert not any(key in shown for key in ("doubt:", "after_sale:", "complaint:", ">red<", "running"))

    client = server.admin
    review = client.get(f"/rooms/{room}/shows/{show_id}/review.json").json()
    assert review["headline"]["comments"] == expected.comments and review["headline"]["gmv_cents"] == expected.gmv_cents
    assert review["final"] and review["events"] == len(read_recording(SAMPLE))

    minutes = list(csv.DictReader(io.StringIO(client.get(f"/rooms/{room}/shows/{show_id}/review.csv?table=minutes")
                                              .text.lstrip("\ufeff"))))
    assert sum(int(row["comments"]) for row in minutes) == expected.comments
    assert round(sum(float(row["gmv_yuan"]) for row in minutes) * 100) == expected.gmv_cents
    segments = list(csv.DictReader(io.StringIO(client.get(f"/rooms/{room}/shows/{show_id}/review.csv?table=segments")
                                               .text.lstrip("\ufeff"))))
    assert [int(row["gmv_cents"]) for row in segments] == [s["gmv_cents"] for s in review["segments"]]
    products = list(csv.DictReader(io.StringIO(client.get(f"/rooms/{room}/shows/{show_id}/review.csv?table=products")
                                               .text.lstrip("\ufeff"))))
    assert sum(int(row["gmv_cents"]) for row in products) == sum(p["gmv_cents"] for p in review["products"])

    audience = client.get(f"/rooms/{room}/shows/{show_id}/audience.csv")
    assert audience.status_code == 200 and "user_id,name,comments" in audience.text
    controller = create_user(database_url, role="controller", rooms=[room])
    assert login(server.url, *controller).get(f"/rooms/{room}/shows/{show_id}/audience.csv").status_code == 403


def test_two_shows_side_by_side(server, room, database_url):
    first = sample_show(server, room, database_url)
    second = sample_show(server, room, database_url, days_later=7)
    page = server.admin.get(f"/reviews/compare?a={room}/{first}&b={room}/{second}&lang=en")
    server.admin.get("/reviews?lang=zh_CN")  # the shared admin client reads Chinese again
    assert page.status_code == 200
    assert page.text.count("<th data-compared=") == 2 and 'data-metric="gmv_cents"' in page.text
    assert "样例：晚间好物专场" in page.text
    # The later show has the earlier one as its previous show.
    review = server.admin.get(f"/rooms/{room}/shows/{second}/review.json").json()
    assert review["previous"]["gmv_cents"] == review["headline"]["gmv_cents"]
    assert server.admin.get(f"/reviews/compare?a={room}/{first}&b=nowhere/1").status_code == 404


def test_the_review_keeps_the_show_s_playbook_runs_however_long_ago_they_ended(server, room, database_url):
    show_id = sample_show(server, room, database_url)
    began = datetime.fromtimestamp(SAMPLE_START_MS / 1000, tz=timezone.utc)
    db = make_engine(database_url)
    with transaction(session_factory(db)) as session:
        room_row = session.scalar(select(Room).where(Room.slug == room))
        run = start_run(session, room=room_row, key="stream-interruption", by="tech", now=began + timedelta(minutes=30))
        tick_step(session, room=room_row, run_id=run.id, number=1, by="tech", now=began + timedelta(minutes=31))
        close_run(session, room=room_row, run_id=run.id, status="completed", by="tech",
                  now=began + timedelta(minutes=40))
        # One that ran before the show is not the show's.
        start_run(session, room=room_row, key="traffic-trough", by="tech", now=began - timedelta(hours=1))
    db.dispose()
    review = server.admin.get(f"/rooms/{room}/shows/{show_id}/review.json").json()
    assert [p["key"] for p in review["playbooks"]] == ["stream-interruption"]
    [kept] = review["playbooks"]
    assert kept["status"] == "completed" and kept["steps"][0]["done"] and kept["steps"][0]["done_by"] == "tech"
    page = server.admin.get(f"/rooms/{room}/shows/{show_id}/review")
    assert kept["name"] in page.text
