"""A red alert in a real browser: it appears, flashes, escalates, is acknowledged with
one click, and stops flashing and escalating."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.integration.test_alerts import add_rule, alerts, event
from tests.support import create_user, page_wait_until
from tests.web.test_control_room import sign_in


def test_a_red_alert_flashes_escalates_and_is_acknowledged(server, room, database_url, page):
    controller = create_user(database_url, role="controller", rooms=[room])
    response = add_rule(
        server.admin, key=f"red-{room}", name="浏览器红色预警", level="red", escalate_after_s="2",
        labels=f"room={room}", advice="马上切备用推流",
        **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">", "condition.value": "100"},
    )
    assert response.status_code == 303
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(page.locator("#alerts")).to_contain_text("暂无预警")

    server.post_events(room, [event("stream", status="live"), event("viewers", online=5000)])
    row = page.locator(f'#alerts .alert[data-rule="red-{room}"]')
    expect(row).to_have_attribute("data-state", "firing", timeout=30_000)
    expect(row).to_contain_text("浏览器红色预警")
    expect(row).to_contain_text("马上切备用推流")
    assert row.evaluate("el => getComputedStyle(el).animationName") == "flash"
    # The charts mark the minute it fired, in red.
    markers = "document.getElementById('chart-online').markers()"
    page_wait_until(page, f"{markers}.some(m => m.level === 'red')", timeout=30)

    # Nobody acknowledges it for 2 s: it escalates, louder, with a banner.
    escalated = re.compile(r"\bescalated\b")
    # A round after 2 s; late in the suite the shared server's rounds cover hundreds of rooms.
    expect(row).to_have_class(escalated, timeout=20_000)
    expect(page.locator("#alerts .escalation")).to_be_visible()
    fast = row.evaluate("el => getComputedStyle(el).animationDuration")
    assert fast == "0.4s", fast

    row.get_by_role("button", name="确认").click()
    expect(row).to_have_attribute("data-state", "acknowledged")
    expect(row).not_to_have_class(escalated)
    expect(page.locator("#alerts .escalation")).to_have_count(0)
    assert row.evaluate("el => getComputedStyle(el).animationName") == "none"
    expect(row).to_contain_text(f"{controller[0]} 于")

    # It stays acknowledged: no further escalation or re-notification.
    time.sleep(3)
    alert = next(a for a in alerts(server, room) if a["rule"] == f"red-{room}")
    assert [t["event"] for t in alert["transitions"]] == ["firing", "escalated", "acknowledged"]
    assert row.get_attribute("data-state") == "acknowledged"


def test_a_segment_running_out_alerts_and_is_extended_from_the_alert(server, room, database_url, redis_url, page):
    """SOP 12: yellow at one minute left, with +1 min and next-segment buttons in the
    alert itself; +1 min puts the segment back above a minute and the alert resolves."""
    from tests.integration.test_run_of_show import make_show
    from controlroom.shows.script import Script, Segment
    make_show(database_url, redis_url, room, Script(segments=(
        Segment("开场", "opening", 65), Segment("讲品", "product", 600),
    ), planned_total_s=665))
    sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.locator('#run-of-show [data-action="start"]').click()
    row = page.locator('#alerts .alert[data-rule="segment-ending"]')
    expect(row).to_have_attribute("data-state", "firing", timeout=20_000)
    expect(row).to_contain_text("环节即将到时")
    row.locator('[data-action="alert-extend"]').click()
    expect(row).to_have_attribute("data-state", "resolved", timeout=10_000)
    countdown = page.locator("#run-of-show [data-countdown]").inner_text()
    assert countdown > "01:00", countdown
