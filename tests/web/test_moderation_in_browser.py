"""Moderation in the comment feed, in a real browser: hit words highlighted (and still
escaped), the feed filtered by category, live comments included."""

from __future__ import annotations

import time

from playwright.sync_api import expect
from sqlalchemy import select

from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.rooms.models import Room
from controlroom.shows.schedule import add_show

from tests.support import comment, create_user
from tests.web.test_control_room import sign_in


def _now() -> int:
    return int(time.time() * 1000)


def test_hits_are_highlighted_and_the_feed_filters_by_category(server, room, database_url, page):
    controller = create_user(database_url, role="controller", rooms=[room])
    server.post_events(room, [
        comment("m1", "这是假 货吧", ts=_now()),
        comment("m2", "我要投诉", ts=_now(), user="u2"),
        comment("m3", "主播好美", ts=_now(), user="u3"),
        comment("m4", "<img src=x onerror=alert(1)>假*货", ts=_now(), user="u4"),
    ])
    server.wait_for_state(room, lambda s: s["comments"] == 4)
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")

    feed = page.locator("#comment-feed")
    doubt = feed.locator('mark.hit[data-category="doubt"]')
    expect(doubt).to_have_count(2)
    assert doubt.all_inner_texts() == ["假*货", "假 货"]  # the original text, symbols and all
    expect(feed.locator('mark.hit[data-category="complaint"]')).to_have_text("投诉")
    hostile = feed.locator('.comment[data-seq="4"] .text')
    assert hostile.inner_text() == "<img src=x onerror=alert(1)>假*货"
    assert hostile.locator("img").count() == 0

    page.locator(".feed-filter").get_by_role("button", name="投诉与监管").click()
    visible = feed.locator(".comment:visible .text")
    expect(visible).to_have_text(["我要投诉"])
    # A comment arriving while filtered is filtered too.
    server.post_events(room, [comment("m5", "打12315举报", ts=_now(), user="u5"),
                              comment("m6", "好看", ts=_now(), user="u6")])
    expect(visible).to_have_text(["打12315举报", "我要投诉"])

    page.locator(".feed-filter").get_by_role("button", name="质疑产品").click()
    expect(visible).to_have_count(2)
    page.locator(".feed-filter").get_by_role("button", name="全部").click()
    expect(visible).to_have_count(6)


def test_hot_questions_and_a_quick_reply_pushed_to_the_host(server, room, database_url, browser, page):
    controller = create_user(database_url, role="controller", rooms=[room])
    host = create_user(database_url, role="host", rooms=[room])
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="问答场",
                 planned_start=utcnow(), status="live")
    engine.dispose()
    server.post_events(room, [
        comment("q1", "这个多少钱", ts=_now()), comment("q2", "3号链接怎么拍？", ts=_now(), user="u2"),
        comment("q3", "什么时候发货", ts=_now(), user="u3"),
    ])
    server.wait_for_state(room, lambda s: s["comments"] == 3)
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    price = page.locator('#hot-questions .question-group[data-group="price"]')
    expect(price.locator(".count")).to_have_text("2")
    expect(price.locator(".examples li")).to_have_text(["3号链接怎么拍？", "这个多少钱"])

    host_page = browser.new_context(locale="zh-CN").new_page()
    sign_in(host_page, server, *host, then="/host")
    expect(host_page.locator("#connection")).to_have_attribute("data-state", "online")

    reply = price.locator(".replies li").first
    text = reply.locator(".reply-text").inner_text()
    reply.get_by_role("button", name="推送给主播").click()
    # Every control room of the room shows it was sent.
    expect(reply).to_have_class("sent")
    expect(reply.locator(".sent-mark")).to_be_visible()
    expect(host_page.locator("#host-messages .host-message.newest")).to_contain_text(text)
    host_page.context.close()
