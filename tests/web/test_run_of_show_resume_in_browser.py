"""立即插入 in chromium: the interrupted segment comes back after the inserted one with
the time it had left, not a fresh start; with “replace” ticked it does not come back."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.integration.test_run_of_show import make_show
from tests.support import create_user
from tests.web.test_control_room import sign_in


def test_insert_then_resume_restores_the_interrupted_segments_remaining_time(server, room, database_url, redis_url,
                                                                            browser):
    make_show(database_url, redis_url, room)
    controller = create_user(database_url, role="controller", rooms=[room])
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN").new_page()
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    panel = page.locator("#run-of-show")

    panel.locator('[data-action="start"]').click()
    panel.locator('[data-action="next"]').click()
    expect(panel.locator(".now-playing")).to_contain_text("讲品：面霜")
    # Let the 10-minute product segment run a little, then insert the Q&A.
    expect(panel.locator(".countdown")).to_have_text(re.compile(r"^09:5\d$"), timeout=5000)
    insert = page.locator("#show-controls form.insert")
    insert.locator("input[name=title]").fill("专家答疑")
    insert.locator("select[name=minutes]").select_option("3")
    insert.locator('[data-action="insert"]').click()
    expect(panel.locator(".now-playing")).to_contain_text("专家答疑")
    resumed = panel.locator("tr[data-resumed]")
    expect(resumed).to_have_count(1)
    expect(resumed).to_contain_text("讲品：面霜（续）")
    expect(panel.locator(".now-playing")).to_contain_text("讲品：面霜（续）")  # what comes next

    # Next: the product segment is back with the time it had left, counting down from there.
    panel.locator('[data-action="next"]').click()
    expect(panel.locator(".now-playing")).to_contain_text("讲品：面霜（续）")
    expect(panel.locator(".countdown")).to_have_text(re.compile(r"^09:[45]\d$"))
    expect(panel.locator('tr.current')).to_have_attribute("data-resumed", "")

    # With “replace” ticked the interrupted segment ends there.
    insert.locator("#replace-current").check()
    insert.locator('[data-action="insert"]').click()
    expect(panel.locator(".now-playing strong")).to_contain_text("专家答疑")
    expect(panel.locator("tr[data-resumed]")).to_have_count(1)
    page.context.close()
