"""The control room in a real browser (chromium driven by Playwright)."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from controlroom.screens.panels import MAX_COMMENTS_PER_PUSH
from tests.support import BASE_TS, Process, comment, create_user, page_wait_until


def sign_in(page, server, username: str, password: str, then: str) -> None:
    page.goto(f"{server.url}{then}")  # a page that needs a login answers with the login form
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{server.url}{then}")


@pytest.fixture
def controller(database_url, room):
    return create_user(database_url, role="controller", rooms=[room])

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>window.__pwned = true</script>好看",
    '"><svg onload=alert(2)>',
]


def _tile_value(page, kpi: str) -> str:
    return page.locator(f'[data-kpi="{kpi}"] .tile-value').inner_text()


def test_the_demo_page_shows_the_numbers_changing_while_a_show_runs(server, room, controller, page, tmp_path):
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    assert _tile_value(page, "online") == "0"
    simulator = Process(
        ["simulate", "--room", room, "--rate", "60", "--url", server.url, "--seed", "3", "--api-key", room.api_key],
        dict(server.env),
        tmp_path / "sim.log",
    ).start()
    try:
        page.click("[data-tab=traffic]")  # the traffic structure (流量结构) tab
        seen_online, seen_comments, seen_chart, seen_traffic = set(), set(), set(), set()
        chart_comments = "JSON.stringify(document.getElementById('chart-comments').chart.data[1])"
        traffic = "Array.from(document.querySelectorAll('#traffic tr[data-channel]'), r => r.innerText).join('|')"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (len(seen_online) < 3 or len(seen_comments) < 3 or len(seen_chart) < 3
                                               or len(seen_traffic) < 3):
            seen_online.add(_tile_value(page, "online"))
            seen_comments.add(_tile_value(page, "comments"))
            seen_chart.add(page.evaluate(chart_comments))
            seen_traffic.add(page.evaluate(traffic))
            page.wait_for_timeout(250)
        # Pushed over the websocket, without reloading: the values moved several times.
        assert len(seen_online - {"0"}) >= 2, seen_online
        assert len(seen_comments - {"0"}) >= 2, seen_comments
        assert len(seen_chart - {"[]"}) >= 2, seen_chart  # the chart's current minute grew
        # The simulator's entries name where viewers came from: the sources' counts moved,
        # the recommendation feed (most of them) in the panel with its share.
        assert len(seen_traffic - {""}) >= 2, seen_traffic
        recommend = page.locator("#traffic tr[data-channel=recommend]")
        expect(recommend.locator(".traffic-share")).to_contain_text("%")
        assert int(recommend.locator(".traffic-count").inner_text().replace(",", "")) > 0
        assert page.locator("#comments .comment").count() > 0
        assert page.locator("#hot-words li").count() > 0
    finally:
        simulator.terminate()


def test_a_hostile_comment_stays_text_in_the_page_and_in_pushes(server, room, controller, page):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    # One comment before the page loads (rendered into the page), the rest pushed live.
    server.post_events(room, [comment("h0", HOSTILE[0], name="<b>坏人</b>")])
    server.wait_for_state(room, lambda s: s["comments"] == 1)
    sign_in(page, server, *controller, then=f"/rooms/{room}?lang=en")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    server.post_events(room, [comment(f"h{i}", text, ts=BASE_TS + i) for i, text in enumerate(HOSTILE[1:], 1)])
    texts = page.locator("#comments .comment .text")
    expect(texts).to_have_count(3)
    assert sorted(texts.all_inner_texts()) == sorted(HOSTILE)
    assert page.locator("#comments .nick").first.inner_text() in {"<b>坏人</b>", "小明"}
    assert page.locator("#comments img, #comments script, #comments svg, #comments b").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("window.__pwned === undefined")


def test_the_page_speaks_chinese_first_and_english_on_request(server, room, controller, page):
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator('[data-kpi="online"] .tile-label')).to_have_text("实时在线")
    page.get_by_role("link", name="English").click()
    expect(page.locator('[data-kpi="online"] .tile-label')).to_have_text("Online now")
    page.goto(f"{server.url}/rooms/{room}")  # the choice is remembered
    expect(page.locator('[data-kpi="gmv"] .tile-label')).to_have_text("GMV")


def test_the_per_minute_charts_draw_the_show_and_grow_with_it(server, room, controller, page):
    minute = 60_000
    server.post_events(room, [
        {"id": f"cv{i}", "type": "viewers", "ts": BASE_TS + i * minute, "online": 1000 + 100 * i} for i in range(3)
    ])
    server.wait_for_state(room, lambda s: s["online"] == 1200)
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#chart-online canvas")).to_have_count(1)
    points = "document.getElementById('chart-online').chart.data"
    assert page.evaluate(f"{points}[1]") == [1000, 1100, 1200]
    server.post_events(room, [{"id": "cv3", "type": "viewers", "ts": BASE_TS + 3 * minute, "online": 900}])
    page_wait_until(page, f"{points}[1].length === 4")
    assert page.evaluate(f"{points}[1]")[-1] == 900
    # Hovering shows the minute's values in the legend.
    page.locator("#chart-online").scroll_into_view_if_needed()
    box = page.locator("#chart-online .u-over").bounding_box()
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    expect(page.locator("#chart-online .u-legend")).to_contain_text("900")


def test_the_comment_feed_keeps_hundreds_and_pauses_with_a_count(server, room, controller, page):
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    feed = page.locator("#comment-feed .comment")
    per_push = MAX_COMMENTS_PER_PUSH  # a push carries at most this many (a hotter feed is sampled)
    for batch in range(120 // per_push):  # 120 comments: more than the 50 the server keeps for a snapshot
        server.post_events(room, [
            comment(f"f{batch}-{i}", f"第{batch * per_push + i}条", ts=BASE_TS + batch * per_push + i)
            for i in range(per_push)])
        expect(feed).to_have_count(per_push * (batch + 1))
    expect(feed.first.locator(".text")).to_have_text("第119条")  # newest first

    page.get_by_role("button", name="暂停滚动").click()
    server.post_events(room, [comment(f"p{i}", f"暂停时{i}", ts=BASE_TS + 200 + i) for i in range(5)])
    expect(page.locator(".feed-waiting")).to_have_text("5")
    expect(feed).to_have_count(120)
    expect(feed.first.locator(".text")).to_have_text("第119条")  # nothing moved while paused
    page.get_by_role("button", name="继续").click()
    expect(feed).to_have_count(125)
    expect(feed.first.locator(".text")).to_have_text("暂停时4")

    page.locator("#comment-feed").hover()  # reading: the pointer over the feed pauses it
    server.post_events(room, [comment("h1", "悬停时", ts=BASE_TS + 300)])
    expect(page.locator(".feed-waiting")).to_have_text("1")
    page.mouse.move(5, 5)
    expect(feed.first.locator(".text")).to_have_text("悬停时")


def test_a_controller_sets_the_show_s_targets_and_the_tiles_follow(server, room, controller, page, database_url):
    from sqlalchemy import select

    from controlroom.db.base import utcnow
    from controlroom.db.session import make_engine, session_factory, transaction
    from controlroom.rooms.models import Room
    from controlroom.shows.schedule import add_show

    with transaction(session_factory(make_engine(database_url))) as session:
        add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title="目标测试",
                 planned_start=utcnow())
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    target_label = page.locator('[data-target="interaction_rate"] span')
    expect(target_label).to_have_text("目标 15.0%")  # the default
    page.locator(".room-tabs [data-tab=\"targets\"]").click()  # one tab away from the numbers
    page.locator("#targets summary").click()
    # Past the browser's own check (a script could send anything): the server's error shows.
    page.evaluate("document.querySelector('input[name=interaction_rate]').removeAttribute('max')")
    page.fill("input[name=interaction_rate]", "150")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#targets .error")).to_contain_text("interaction_rate")
    page.fill("input[name=interaction_rate]", "22.5")
    page.get_by_role("button", name="保存").click()
    expect(page.locator("#targets .saved")).to_be_visible()
    expect(target_label).to_have_text("目标 22.5%")  # pushed to the tile, no reload
    page.reload()
    expect(target_label).to_have_text("目标 22.5%")
