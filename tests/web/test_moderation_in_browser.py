"""Moderation in the comment feed, in a real browser: hit words highlighted (and still
escaped), the feed filtered by category, live comments included."""

from __future__ import annotations

import time

from playwright.sync_api import expect

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
