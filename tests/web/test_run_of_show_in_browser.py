"""The run-of-show with two pages open, controller and host, in chromium: "next" on one
moves the other; an urgent message flashes until the host taps 收到; the host page
survives a server restart and resyncs to the true state."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.integration.test_run_of_show import make_show
from tests.support import LiveServer, create_room, create_user, page_wait_until, server_env
from tests.web.test_control_room import sign_in


def _pages(browser, server, room, database_url):
    controller = create_user(database_url, role="controller", rooms=[room])
    host = create_user(database_url, role="host", rooms=[room])
    control_page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    host_page = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN").new_page()
    sign_in(control_page, server, *controller, then=f"/rooms/{room}")
    sign_in(host_page, server, *host, then="/host")
    for page in (control_page, host_page):
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    return control_page, host_page


def test_next_on_the_control_room_moves_the_host_screen_within_a_second(server, room, database_url, redis_url, browser):
    make_show(database_url, redis_url, room)
    control, host = _pages(browser, server, room, database_url)
    expect(host.locator("#prompter")).to_contain_text("第一个环节: 开场")

    control.locator('#run-of-show [data-action="start"]').click()
    expect(host.locator("#prompter .segment-title")).to_contain_text("开场")
    expect(host.locator("#prompter .talk-points")).to_have_text("欢迎来到直播间")
    # The countdown moves on its own, green at first.
    expect(host.locator("#prompter")).to_have_class(re.compile(r"phase-green"))
    first = host.locator("#prompter .countdown").inner_text()
    expect(host.locator("#prompter .countdown")).not_to_have_text(first, timeout=3000)

    control.locator('#run-of-show [data-action="next"]').click()
    expect(host.locator("#prompter .segment-title")).to_contain_text("讲品：面霜", timeout=1000)
    expect(host.locator("#prompter .next-segment")).to_contain_text("福袋互动")
    # The control room's mirror shows the same.
    expect(control.locator(".mirror #prompter .segment-title")).to_contain_text("讲品：面霜")
    expect(control.locator('#run-of-show tr[data-segment="2"]')).to_have_class(re.compile("current"))
    # The product on stage is marked among the products; the charts mark the segment changes.
    server.post_events(room, [{"id": f"pc-{room}", "type": "product_click", "ts": int(time.time() * 1000),
                               "user": {"id": "u1"}, "sku": "A1"}])
    expect(control.locator('#products tr[data-sku="A1"]')).to_have_class(re.compile("on-stage"))
    page_wait_until(control, "document.getElementById('chart-online').segments().length === 2")
    assert control.evaluate("document.getElementById('chart-online').segments()[1][1]") == "讲品：面霜"

    # Extend -1 min twice: 8 minutes left is still green; the yellow comes in the last minute.
    control.locator('#run-of-show [data-action="extend-60"]').click()
    expect(control.locator("#run-of-show .countdown")).to_contain_text("08:")
    for context in (control.context, host.context):
        context.close()


def test_an_urgent_message_flashes_until_the_host_taps_it(server, room, database_url, redis_url, browser):
    make_show(database_url, redis_url, room)
    control, host = _pages(browser, server, room, database_url)
    form = control.locator("#show-controls form.message-host")
    form.locator("input[name=text]").fill("讲一下质量")
    form.locator("input[name=urgent]").check()
    form.get_by_role("button", name="发送").click()

    message = host.locator("#host-messages .host-message").first
    expect(message).to_contain_text("讲一下质量")
    expect(message).to_have_class(re.compile(r"\burgent\b"))
    # It covers the host screen, flashing (web/static/css/host.css).
    assert message.evaluate("el => getComputedStyle(el).animationName") == "host-urgent"
    expect(control.locator("#run-of-show .sent-messages li").first).to_contain_text("等待主播确认")

    message.get_by_role("button", name="收到").click()
    expect(message).not_to_have_class(re.compile(r"\burgent\b"))
    expect(message).to_contain_text("已收到")
    expect(control.locator("#run-of-show .sent-messages li").first).to_contain_text("已收到")
    expect(form.locator("input[name=text]")).to_have_value("")
    for context in (control.context, host.context):
        context.close()


def test_the_host_page_survives_a_server_restart_and_resyncs(own_redis_url, database_url, browser, tmp_path):
    env = server_env(redis_url=own_redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_AUTH_RECHECK_S="0.5")
    first = LiveServer(env, tmp_path / "first.log").start()
    try:
        room = create_room(database_url, own_redis_url)
        make_show(database_url, own_redis_url, room)
        control, host = _pages(browser, first, room, database_url)
        control.locator('#run-of-show [data-action="start"]').click()
        # Live (a countdown runs), not just "starting with 开场" of a scheduled show.
        expect(host.locator("#prompter .countdown")).to_be_visible()
        expect(host.locator("#prompter .segment-title")).to_contain_text("开场")
    finally:
        first.terminate()
    # Offline: the last state stays, with a clear badge.
    expect(host.locator("#connection")).to_have_attribute("data-state", "offline")
    expect(host.locator("#prompter .segment-title")).to_contain_text("开场")

    # The show moves on while the screen is offline (the controller uses another server).
    second = LiveServer(env, tmp_path / "second.log", port=first.port).start()
    try:
        control.goto(f"{second.url}/rooms/{room}")
        control.locator('#run-of-show [data-action="next"]').click()
        # The host page reconnects by itself and shows the true state.
        expect(host.locator("#connection")).to_have_attribute("data-state", "online", timeout=30_000)
        expect(host.locator("#prompter .segment-title")).to_contain_text("讲品：面霜", timeout=10_000)
    finally:
        for context in (control.context, host.context):
            context.close()
        second.terminate()
