"""The alert sound control and the charts' time axis and marks, in chromium."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.integration.test_alerts import add_rule, event
from tests.integration.test_run_of_show import make_show
from tests.support import create_user, page_wait_until
from tests.web.test_control_room import sign_in

# Headless chromium never blocks sound (not even with --autoplay-policy): this stands in
# for a browser that does. An AudioContext made before the page had a user gesture
# stays suspended, and resume() works only once the page was clicked.
BLOCKING_AUTOPLAY = """
(() => {
  const Real = window.AudioContext;
  window.AudioContext = class extends Real {
    constructor(...args) {
      super(...args);
      if (!navigator.userActivation.hasBeenActive) super.suspend();
    }
    resume() {
      return navigator.userActivation.hasBeenActive ? super.resume() : Promise.resolve();
    }
  };
})();
"""


def test_the_sound_control_is_remembered_in_this_browser(server, room, database_url, page):
    sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    toggle = page.locator("#sound-toggle")
    # On unless turned off; this browser lets it play, so no banner.
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(toggle.locator(".when-on")).to_be_visible()
    expect(toggle.locator(".when-on")).to_have_text("声音已开启")
    expect(toggle.locator(".when-off")).to_be_hidden()
    expect(toggle).to_have_attribute("data-audio", "running")
    page.wait_for_timeout(700)
    expect(page.locator("#sound-blocked")).to_be_hidden()

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    expect(toggle.locator(".when-off")).to_be_visible()
    expect(toggle.locator(".when-off")).to_have_text("开启提示音")
    expect(toggle.locator(".when-on")).to_be_hidden()
    page.reload()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    assert page.evaluate("localStorage.getItem('controlroom.sound')") == "off"

    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    page.reload()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("localStorage.getItem('controlroom.sound')") == "on"


def test_the_tech_screen_has_the_sound_control(server, room, database_url, page):
    sign_in(page, server, *create_user(database_url, role="tech", rooms=[room]), then=f"/rooms/{room}/tech")
    expect(page.locator("#sound-toggle")).to_be_visible()
    expect(page.locator("#sound-toggle")).to_have_attribute("aria-pressed", "true")


def test_a_banner_shows_while_the_browser_blocks_sound(server, room, database_url, page):
    page.context.add_init_script(BLOCKING_AUTOPLAY)
    sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    banner = page.locator("#sound-blocked")
    toggle = page.locator("#sound-toggle")
    # The login form's click counted as a gesture on that page; this one has had none.
    page.reload()
    expect(banner).to_be_visible()
    expect(banner).to_have_text("浏览器已阻止提示音，点击此处开启")
    expect(toggle).to_have_attribute("data-audio", "suspended")

    banner.click()
    expect(toggle).to_have_attribute("data-audio", "running")
    expect(banner).to_be_hidden()

    # Sound turned off: nothing to unblock, no banner.
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")
    page.reload()
    page.wait_for_timeout(800)
    expect(banner).to_be_hidden()


def test_charts_read_hh_mm_in_the_show_time_zone_with_labelled_marks(server, room, database_url, redis_url, browser):
    make_show(database_url, redis_url, room)
    key = f"chart-red-{room}"
    assert add_rule(
        server.admin, key=key, name="图表红色预警", level="red", labels=f"room={room}",
        **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">", "condition.value": "100"},
    ).status_code == 303
    # A browser in another time zone: the charts read the show's (Asia/Shanghai).
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN",
                                  timezone_id="America/New_York")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        page.locator('#run-of-show [data-action="start"]').click()
        server.post_events(room, [event("stream", status="live"), event("viewers", online=5000)])
        chart = "document.getElementById('chart-online')"
        # Late in the suite the shared server runs rounds for hundreds of rooms: allow for it.
        page_wait_until(page, f"{chart}.marks().some(m => m.kind === 'alert' && m.level === 'red')", timeout=45)
        page_wait_until(page, f"{chart}.marks().some(m => m.kind === 'segment')")
        page_wait_until(page, f"{chart}.marks().some(m => m.kind === 'cue' && m.text === '开福袋')")  # 1 s in
        server.post_events(room, [event("viewers", online=5200)])  # the minute the marks are in
        page_wait_until(page, f"{chart}.chart.data[0].length > 0")

        # The time axis: 24-hour HH:mm in the show's zone.
        labels = page.evaluate(f"{chart}.axisLabels()")
        assert labels and all(re.fullmatch(r"\d{2}:\d{2}", label) for label in labels), labels
        first = page.evaluate(f"{chart}.chart.data[0][0]")
        expected = datetime.fromtimestamp(first, ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        locator = page.locator("#chart-online")
        locator.scroll_into_view_if_needed()
        over = page.locator("#chart-online .u-over").bounding_box()
        left = page.evaluate(f"{chart}.chart.valToPos({first}, 'x')")
        page.mouse.move(over["x"] + left + 1, over["y"] + over["height"] / 2)
        expect(page.locator("#chart-online .u-legend .u-series").first).to_contain_text(expected)

        # The legend names each kind of mark.
        legend = page.locator(".charts .chart-legend")
        expect(legend).to_have_count(1)
        assert legend.locator("li").all_inner_texts() == ["环节切换", "预警", "提示", "预案"]

        # Hovering the alert's line names it, with its time.
        # The panel's data is replaced by pushes: read the mark and its position in one go.
        find_alert = f"{chart}.marks().find(m => m.kind === 'alert' && m.text === '图表红色预警')"
        page_wait_until(page, f"!!{find_alert}")
        alert_x, left = page.evaluate(f"(() => {{ const m = {find_alert}; return m ? [m.x, {chart}.chart.valToPos(m.x, 'x')] : [null, null]; }})()")
        assert alert_x is not None, "the alert's mark went away"
        over = page.locator("#chart-online .u-over").bounding_box()
        page.mouse.move(over["x"] + left, over["y"] + over["height"] / 2)
        tip = page.locator("#chart-online .chart-tip")
        expect(tip).to_be_visible()
        when = datetime.fromtimestamp(alert_x, ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
        expect(tip).to_contain_text(f"{when} 预警：图表红色预警")  # other marks near it may be listed too
        # Away from every mark (the spot of the plot furthest from all of them) the tip goes.
        quiet_x, distance = page.evaluate(f"""(() => {{
            const c = {chart}, xs = c.marks().map(m => c.chart.valToPos(m.x, 'x'));
            let best = [0, -1];
            for (let x = 0; x <= c.chart.over.clientWidth; x += 2) {{
                const d = Math.min(...xs.map(m => Math.abs(m - x)));
                if (d > best[1]) best = [x, d];
            }}
            return best;
        }})()""")
        if distance > 20:  # (a plot crowded with marks has no such spot)
            page.mouse.move(over["x"] + quiet_x, over["y"] + over["height"] / 2)
            expect(tip).to_be_hidden()
    finally:
        context.close()
    assert errors == []
