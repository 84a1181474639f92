"""Exports opened in a spreadsheet run nothing (OWASP CSV injection): what viewers and
staff typed that starts with =, +, -, @, a tab or a carriage return comes out with a
leading quote, over HTTP, for the role allowed to export — the review tables, the
engaged audience, a lexicon category and the run-of-show script — while our own
negative numbers stay numbers and what is imported again comes back unchanged."""

from __future__ import annotations

import csv
import io
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows import engine
from controlroom.shows.runs import save_script
from controlroom.shows.schedule import add_show
from controlroom.shows.script import Cue, Script, Segment
from tests.integration.test_run_of_show import make_show
from tests.support import create_user, csrf_of, login

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.text[:300]
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"), newline="")))


def _assert_defused(rows: list[list[str]], planted: list[str], *, numeric: tuple[str, ...] = ()) -> None:
    """No cell starts like a formula, but for our own numbers in the `numeric` columns
    (named by the header row), which must stay plain numbers; every planted text is
    there behind one quote."""
    exempt = {rows[0].index(name) for name in numeric}
    for row in rows:
        for index, cell in enumerate(row):
            if index in exempt and row is not rows[0]:
                float(cell)  # a number, no quote
            else:
                assert not cell.startswith(DANGEROUS), (cell, row)
    cells = [cell for row in rows for cell in row]
    for text in planted:
        assert "'" + text in cells, (text, cells)


def _reviewed_show(database_url: str, room: str, script: Script, *, started_ms: int, ended_ms: int) -> int:
    """An ended show whose segments ran 3 minutes each, from started_ms to ended_ms."""
    run = engine.start(script, engine.RunState(), started_ms)
    clock = started_ms
    for segment in script.segments[:-1]:
        clock += 180_000
        run = engine.next_segment(script, run, clock)
    run = engine.end(script, run, ended_ms)
    db = make_engine(database_url)
    with transaction(session_factory(db)) as session:
        show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="导出测试",
                        planned_start=datetime.fromtimestamp(started_ms / 1000, tz=timezone.utc), status="ended")
        save_script(session, show, script)
        show.run = run.to_json()
        show_id = show.id
    db.dispose()
    return show_id


def test_review_tables_and_the_engaged_audience_run_nothing(server, room, database_url):
    tag = uuid.uuid4().hex[:6]
    names = ["=HYPERLINK(\"http://evil.example\",\"领券\")", "+86 138 0000 0000", "-2+3", "@SUM(A1:A9)",
             "\t=1+1", "\r=cmd|' /C calc'!A0"]
    user_ids = [f"=u{tag}", f"+u{tag}", f"-u{tag}", f"@u{tag}", f"\tu{tag}", f"\ru{tag}"]
    skus = ["=A1+A2", "+B2", "-C3", "@D4"]
    now = int(time.time() * 1000)
    # The show is there before its events, as in a real show (the recorder files each
    # event under the show whose span holds it when it arrives).
    ended = now + 5_000
    titles = ["=HYPERLINK(\"http://evil.example\")", "+加购有礼", "-5 元立减", "@全体 开福袋"]
    # Each segment is planned for 5 minutes and runs 3: an over-run of -120 s each.
    script = Script(tuple(Segment(title, "product", 300, sku=sku) for title, sku in zip(titles, skus)))
    show_id = _reviewed_show(database_url, room, script, started_ms=ended - 4 * 180_000, ended_ms=ended)
    events = []
    for number, (user_id, name) in enumerate(zip(user_ids, names)):
        user = {"id": user_id, "name": name}
        events.append({"id": f"c{tag}{number}", "type": "comment", "ts": now, "user": user, "text": "=1+1 多少钱"})
    for number, sku in enumerate(skus):
        user = {"id": user_ids[number], "name": names[number]}
        events.append({"id": f"p{tag}{number}", "type": "product_click", "ts": now, "user": user, "sku": sku})
        events.append({"id": f"o{tag}{number}", "type": "order", "ts": now, "user": user, "order_id": f"{tag}{number}",
                       "status": "paid", "sku": sku, "quantity": 1, "amount_cents": 1990})
    accepted = server.post_events(room, events)
    assert accepted.json()["accepted"] == len(events), accepted.text

    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    review = f"/rooms/{room}/shows/{show_id}"
    segments = _rows(analyst.get(f"{review}/review.csv?table=segments"))
    _assert_defused(segments, titles, numeric=("over_s",))
    over = segments[0].index("over_s")
    assert [float(row[over]) for row in segments[1:]] == [-120] * 4  # our own numbers: plain numbers
    products = _rows(analyst.get(f"{review}/review.csv?table=products"))
    _assert_defused(products, skus)
    assert sorted(row[0] for row in products[1:]) == sorted("'" + sku for sku in skus)
    _assert_defused(_rows(analyst.get(f"{review}/review.csv?table=minutes")), [])

    audience = _rows(analyst.get(f"{review}/audience.csv"))
    _assert_defused(audience, names + user_ids)
    assert audience[0][:2] == ["user_id", "name"] and len(audience) == 1 + len(names)


def test_a_lexicon_export_runs_nothing_and_imports_back_the_same(server, database_url):
    controller = login(server.url, *create_user(database_url, role="controller"))

    def post(url: str, **data):
        return controller.post(url, data={"csrftoken": csrf_of(controller, "/lexicon"), **data}, follow_redirects=False)

    first, second = f"xa{uuid.uuid4().hex[:6]}", f"xb{uuid.uuid4().hex[:6]}"
    for key in (first, second):
        assert post("/lexicon/categories", key=key, name="导出测试").status_code == 303
    # A term or wording is stripped when it is added, so no tab or CR can start one.
    terms = ["=HYPERLINK(\"http://evil.example\")", "+加微信", "-5元", "@客服小号"]
    for term in terms:
        assert post(f"/lexicon/{first}/terms", text=term, severity="3", suggestion="=换成 直播间优惠价").status_code == 303

    exported = controller.get(f"/lexicon/{first}/export")
    assert exported.status_code == 200
    lines = [line.split("\t") for line in exported.text.splitlines()]  # as the importer reads it
    _assert_defused(lines, terms + ["=换成 直播间优惠价"])
    assert sorted(line[0] for line in lines[1:]) == sorted("'" + term for term in terms)

    assert post(f"/lexicon/{second}/import", text=exported.text).status_code == 303
    again = controller.get(f"/lexicon/{second}/export").text
    assert again.splitlines()[1:] == exported.text.splitlines()[1:]  # the same terms, not "'-5元"
    assert 'data-term="-5元"' in controller.get(f"/lexicon/{second}").text


def test_a_script_csv_runs_nothing_and_imports_back_the_same(server, room, database_url, redis_url):
    script = Script(segments=(
        Segment("=HYPERLINK(\"http://evil.example\")", "opening", 300, sku="+A1", talk_points="-5 元立减",
                notes="\t=1+1", cues=(Cue(30, "开福袋"),)),
        Segment("@主播 讲品", "product", 600, sku="-B2", talk_points="\r=cmd|' /C calc'!A0", notes="'=已经带引号"),
    ), planned_total_s=900)
    make_show(database_url, redis_url, room, script)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))

    exported = controller.get(f"/rooms/{room}/script/export.csv")
    rows = _rows(exported)
    _assert_defused(rows, ["=HYPERLINK(\"http://evil.example\")", "+A1", "-5 元立减", "\t=1+1", "@主播 讲品", "-B2",
                           "\r=cmd|' /C calc'!A0"])
    assert rows[2][7] == "''=已经带引号"  # notes: one quote more, so the import can tell ours from theirs
    yaml_before = controller.get(f"/rooms/{room}/script/export.yaml").text
    assert "-5 元立减" in yaml_before and "'-5 元立减" not in yaml_before

    response = controller.post(f"/rooms/{room}/script/import", files={"file": ("script.csv", exported.content)},
                               headers={"x-csrftoken": csrf_of(controller)}, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    assert controller.get(f"/rooms/{room}/script/export.yaml").text == yaml_before
    assert controller.get(f"/rooms/{room}/script/export.csv").content == exported.content
