"""The review meeting writes down what went wrong and what to change; an open action item
shows in the script editor of the room's next show until someone ticks it there."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.runs import save_script
from controlroom.shows.schedule import add_show
from controlroom.shows.templates import flash_sale_hourly
from controlroom.sim.samples import SAMPLE_START_MS
from tests.support import create_user
from tests.web.test_control_room import sign_in
from tests.web.test_review_in_browser import sample_show

HOSTILE = "<img src=x onerror=alert(1)>开场太长"


def test_an_action_item_from_the_review_waits_in_the_next_show_s_script_until_ticked(
    server, room, database_url, refusing_page
):
    page = refusing_page
    reviewed = sample_show(server, room, database_url)
    db = make_engine(database_url)
    with transaction(session_factory(db)) as session:
        next_show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="下一场",
                             planned_start=datetime.fromtimestamp(SAMPLE_START_MS / 1000, tz=timezone.utc)
                             + timedelta(days=1))
        save_script(session, next_show, flash_sale_hourly())
        next_id = next_show.id
    db.dispose()

    controller = create_user(database_url, role="controller", rooms=[room])
    sign_in(page, server, *controller, then=f"/rooms/{room}/shows/{reviewed}/review")
    form = page.locator("form.review-item-form")
    form.locator("select[name=kind]").select_option("problem")
    form.locator("input[name=text]").fill(HOSTILE)
    form.locator("select[name=segment]").select_option("1")
    form.locator("button[type=submit]").click()
    problems = page.locator('.review-item-list[data-kind="problem"] li[data-item]')
    expect(problems).to_have_count(1)
    expect(problems.first).to_contain_text(HOSTILE)  # as text, not markup
    expect(form.locator("input[name=text]")).to_have_value("")

    form.locator("select[name=kind]").select_option("action")
    form.locator("input[name=text]").fill("福袋提前到第 5 分钟")
    form.locator("select[name=segment]").select_option("2")
    form.locator("button[type=submit]").click()
    actions = page.locator('.review-item-list[data-kind="action"] li[data-item]')
    expect(actions).to_have_count(1)
    expect(actions.first).to_contain_text("第 2 环节")

    empty = page.locator("form.review-item-form")
    empty.locator("select[name=kind]").select_option("action")
    empty.locator("input[name=text]").fill("   ")
    empty.locator("input[name=text]").evaluate("el => el.removeAttribute('required')")
    empty.locator("button[type=submit]").click()
    expect(page.locator(".feedback-note.refused")).to_contain_text("请写下问题")
    expect(actions).to_have_count(1)

    page.goto(f"{server.url}/rooms/{room}/shows/{next_id}/script")
    open_actions = page.locator("#open-actions li[data-item]")
    expect(open_actions).to_have_count(1)
    expect(open_actions.first).to_contain_text("福袋提前到第 5 分钟")
    expect(open_actions.first).to_contain_text("样例：晚间好物专场")
    assert page.locator("#open-actions").inner_text().count("开场太长") == 0  # problems are not to-dos
    open_actions.first.locator("button[data-tick]").click()
    expect(page.locator("#open-actions li[data-item]")).to_have_count(0)
    page.reload()
    expect(page.locator("#open-actions")).to_contain_text("没有待完成的改进事项")

    page.goto(f"{server.url}/rooms/{room}/shows/{reviewed}/review")
    expect(page.locator('.review-item-list[data-kind="action"] li.done')).to_contain_text("已完成")
    assert page.evaluate("window.__pwned === undefined")
