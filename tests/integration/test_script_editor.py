"""The script editor over HTTP: segments added and edited with errors next to their
fields, reordered, duplicated; templates; YAML and CSV round trips through export and
import; warnings; compliance hits in talk points; a live show keeps its past."""

from __future__ import annotations

import html
from datetime import datetime, timezone

from sqlalchemy import select

from tests.integration.test_run_of_show import drive, make_show
from tests.support import create_user, csrf_of, login
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.models import Show
from controlroom.shows.script import Script


def editor(server, database_url, redis_url, room):
    make_show(database_url, redis_url, room, Script())
    return login(server.url, *create_user(database_url, role="controller", rooms=[room]))


def post(client, url: str, **data):
    return client.post(url, data={"csrftoken": csrf_of(client), **data}, follow_redirects=False)


def titles(client, room) -> list[str]:
    page = client.get(f"/rooms/{room}/script").text
    return [html.unescape(part.split("</strong>")[0].split(". ", 1)[1]) for part in page.split("<strong>")[1:]
            if ". " in part.split("</strong>")[0]]


def test_segments_are_added_with_errors_next_to_their_fields(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    bad = post(client, f"/rooms/{room}/script/segments", title="", kind="product", duration="5分钟",
               cues="开福袋")
    assert bad.status_code == 422
    for field in ("title", "duration", "cues"):
        assert f'data-error-for="{field}"' in bad.text, field
    good = post(client, f"/rooms/{room}/script/segments", title="开场", kind="opening", duration="05:00",
                talk_points="欢迎！全网最低价", cues="00:30 开福袋@主播")
    assert good.status_code == 303
    page = client.get(f"/rooms/{room}/script").text
    assert "开场" in page and "1 条提示" in page
    # The talk points break the Advertising Law: shown with the rule and what to say.
    assert 'data-term="全网最低价"' in page and "直播间优惠价" in page and "广告法" in page


def test_reorder_duplicate_delete_and_warnings(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    for title, minutes in (("甲", "10:00"), ("乙", "20:00"), ("丙", "05:00")):
        assert post(client, f"/rooms/{room}/script/segments", title=title, kind="product", duration=minutes).status_code == 303
    assert post(client, f"/rooms/{room}/script/order", order="3,1,2").status_code == 303
    assert titles(client, room) == ["丙", "甲", "乙"]
    assert post(client, f"/rooms/{room}/script/segments/1/duplicate").status_code == 303
    assert post(client, f"/rooms/{room}/script/segments/2/delete").status_code == 303
    assert titles(client, room) == ["丙", "甲", "乙"]
    refused = post(client, f"/rooms/{room}/script/order", order="1,1,2")
    assert refused.status_code == 409 and "全部 3 个环节" in html.unescape(refused.text)
    assert post(client, f"/rooms/{room}/script/total", total="0:30:00").status_code == 303
    assert 'data-warning="overrun"' in client.get(f"/rooms/{room}/script").text  # 35 min in a 30 min slot
    edited = post(client, f"/rooms/{room}/script/segments/3", title="乙", kind="product", duration="20:00",
                  starts_at="16:00")
    assert edited.status_code == 303
    assert 'data-warning="gap"' in client.get(f"/rooms/{room}/script").text


def test_templates_and_round_trips_through_yaml_and_csv(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    assert post(client, f"/rooms/{room}/script/template", template="product_block").status_code == 303
    assert titles(client, room)[:4] == ["功能演示", "使用场景", "价格对比", "限时福利"]
    exported_yaml = client.get(f"/rooms/{room}/script/export.yaml")
    exported_csv = client.get(f"/rooms/{room}/script/export.csv")
    assert exported_yaml.status_code == exported_csv.status_code == 200
    assert exported_csv.content.startswith("\ufeff".encode())  # opens in a spreadsheet
    before = titles(client, room)
    headers = {"x-csrftoken": csrf_of(client)}
    for name, body in (("s.csv", exported_csv.content), ("s.yaml", exported_yaml.content)):
        assert post(client, f"/rooms/{room}/script/template", template="hook_10_20_30").status_code == 303
        response = client.post(f"/rooms/{room}/script/import", files={"file": (name, body)}, headers=headers,
                               follow_redirects=False)
        assert response.status_code == 303, response.text[:500]
        assert titles(client, room) == before
        assert client.get(f"/rooms/{room}/script/export.yaml").text == exported_yaml.text


def test_an_import_with_errors_names_rows_and_columns_and_changes_nothing(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    post(client, f"/rooms/{room}/script/segments", title="原有", kind="product", duration="10:00")
    bad = "开始,时长,环节,类型\n00:00,5分钟,开场,开场\n05:00,10:00,,讲品\n"
    response = client.post(f"/rooms/{room}/script/import", files={"file": ("bad.csv", bad.encode())},
                           headers={"x-csrftoken": csrf_of(client)})
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "row 2, 时长" in text and "row 3, 环节" in text
    assert titles(client, room) == ["原有"]


def test_a_live_show_keeps_what_already_ran(server, room, database_url, redis_url):
    client = editor(server, database_url, redis_url, room)
    for title in ("甲", "乙", "丙"):
        post(client, f"/rooms/{room}/script/segments", title=title, kind="product", duration="10:00")
    assert drive(client, room, "start").status_code == 204
    refused = post(client, f"/rooms/{room}/script/segments/1/delete")
    assert refused.status_code == 409 and "已播过或正在播" in html.unescape(refused.text)
    assert post(client, f"/rooms/{room}/script/order", order="1,3,2").status_code == 303
    assert titles(client, room) == ["甲", "丙", "乙"]
    # Editing the running segment's words is fine: the host screen shows them at once.
    assert post(client, f"/rooms/{room}/script/segments/1", title="甲", kind="product", duration="12:00",
                talk_points="新的话术").status_code == 303
    assert "新的话术" in client.get(f"/rooms/{room}").text


def test_a_show_is_planned_in_the_room_s_time_zone_from_a_template(server, room, database_url):
    client = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    bad = post(client, f"/rooms/{room}/shows", title="周末专场", planned_start="周六晚上", slot="2:00:00")
    assert bad.status_code == 422 and "不是有效的日期时间" in html.unescape(bad.text)
    made = post(client, f"/rooms/{room}/shows", title="周末专场", planned_start="2030-11-23T20:00", slot="2:00:00",
                template="flash_sale_hourly")
    assert made.status_code == 303
    page = client.get(f"/rooms/{room}/shows").text
    assert "周末专场" in page and "2030-11-23 20:00:00" in page  # shown in Asia/Shanghai
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        show = session.scalar(select(Show).join(Room).where(Room.slug == room, Show.title == "周末专场"))
        assert show.planned_start == datetime(2030, 11, 23, 12, 0, tzinfo=timezone.utc)  # stored in UTC
        assert show.planned_total_s == 7200
    engine.dispose()
    assert "秒杀" in client.get(f"/rooms/{room}/script").text
