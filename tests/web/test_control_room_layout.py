"""The control room is one screen: at 1920×1080 everything watched during a show is in
view without scrolling (at 1366×768 the alerts, the numbers and the current segment);
panels one look away sit in tabs that stay as chosen; question groups stay as the
person left them while pushes replace the panel around them."""

from __future__ import annotations

import itertools
import threading
import time

from playwright.sync_api import expect

from tests.integration.test_run_of_show import make_show
from tests.support import comment, create_user
from tests.web.test_control_room import sign_in

WATCHED = ["#alerts", "#kpis", ".charts", "#comments", "#run-of-show .now-playing", "#run-of-show .show-actions",
           "#show-controls form.message-host"]
TOP_ROW = ["#alerts", "#kpis", "#run-of-show .now-playing"]
QUESTIONS = ["多少钱?", "怎么买啊", "多少钱一件", "有优惠券吗", "什么时候发货", "发什么快递"]


def _traffic(server, room, stop: threading.Event) -> None:
    ids = itertools.count()
    while not stop.is_set():
        now = int(time.time() * 1000)
        server.post_events(room, [comment(f"q-{next(ids)}", QUESTIONS[i % len(QUESTIONS)], ts=now, user=f"u{i}")
                                  for i in range(3)]
                           + [{"id": f"v-{next(ids)}", "type": "viewers", "ts": now, "online": 1000 + next(ids)}])
        time.sleep(0.15)


def _control_room(browser, server, room, database_url, width: int, height: int):
    controller = create_user(database_url, role="controller", rooms=[room])
    page = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN").new_page()
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    return page


def _inside(page, selector: str, width: int, height: int) -> None:
    # A pushed panel is replaced several times a second: measure the one in the page now.
    box = None
    for _ in range(20):
        box = page.evaluate("s => { const r = document.querySelector(s)?.getBoundingClientRect();"
                            " return r && r.height ? {x: r.x, y: r.y, width: r.width, height: r.height} : null; }",
                            selector)
        if box is not None:
            break
        time.sleep(0.1)
    assert box is not None, f"{selector} is not shown"
    assert box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width + 1 \
        and box["y"] + box["height"] <= height + 1, f"{selector} at {box} is outside {width}×{height}"


def test_everything_watched_is_on_one_screen(server, room, database_url, redis_url, browser):
    make_show(database_url, redis_url, room)
    stop = threading.Event()
    traffic = threading.Thread(target=_traffic, args=(server, room, stop), daemon=True)
    traffic.start()
    try:
        big = _control_room(browser, server, room, database_url, 1920, 1080)
        big.locator('#run-of-show [data-action="start"]').click()
        expect(big.locator("#run-of-show .now-playing")).to_be_visible()
        # After the start: a show's start resets the room's numbers (and its stream status).
        server.post_events(room, [{"id": "s-1", "type": "stream", "ts": int(time.time() * 1000),
                                   "status": "interrupted"}])
        expect(big.locator("#alerts [data-rule='stream-interrupted']")).to_be_visible(timeout=15_000)
        expect(big.locator("#comment-feed .comment").first).to_be_visible()
        for selector in WATCHED:
            _inside(big, selector, 1920, 1080)
        assert big.evaluate("document.documentElement.scrollHeight") <= 1080, "the page scrolls"

        laptop = _control_room(browser, server, room, database_url, 1366, 768)
        expect(laptop.locator("#run-of-show .now-playing")).to_be_visible()
        for selector in TOP_ROW:
            _inside(laptop, selector, 1366, 768)
    finally:
        stop.set()
        traffic.join()


def test_tabs_and_question_groups_stay_as_chosen(server, room, database_url, redis_url, browser):
    stop = threading.Event()
    traffic = threading.Thread(target=_traffic, args=(server, room, stop), daemon=True)
    traffic.start()
    try:
        page = _control_room(browser, server, room, database_url, 1920, 1080)
        groups = page.locator("#hot-questions details.question-group")
        expect(groups.first).to_be_visible(timeout=15_000)
        first = groups.first.get_attribute("data-group")
        group = page.locator(f'#hot-questions details[data-group="{first}"]')
        expect(group).to_have_attribute("open", "")
        group.locator("summary").click()  # the person closes it
        time.sleep(3)  # ~30 pushes of the panel meanwhile
        assert group.evaluate("el => el.open") is False

        page.locator('.room-tabs [data-tab="products"]').click()
        expect(page.locator('[data-tab-panel="products"]')).to_be_visible()
        expect(page.locator('[data-tab-panel="hot-questions"]')).to_be_hidden()
        page.reload()
        expect(page.locator('[data-tab-panel="products"]')).to_be_visible()
        expect(page.locator('.room-tabs [data-tab="products"]')).to_have_attribute("aria-selected", "true")
    finally:
        stop.set()
        traffic.join()
