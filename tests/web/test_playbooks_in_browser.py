"""The tech screen in chromium: trigger a stream-interruption playbook, tick the first
step before its deadline, watch the second go yellow, then red."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.support import create_user, csrf_of
from tests.web.test_control_room import sign_in


def test_trigger_tick_and_watch_the_next_step_go_yellow_then_red(server, room, database_url, page):
    # The shipped stream-interruption playbook with deadlines short enough to watch:
    # step 2 turns yellow 5 s before its 12 s deadline, red after it.
    key = f"drill-{uuid.uuid4().hex[:6]}"
    text = (f"key: {key}\nname: 断流/黑屏（演练 {key}）\nlevel: red\nsteps:\n"
            "  - {title: 确认断流并通知全员, owner: tech, deadline_s: 6}\n"
            "  - {title: 切换备用推流, owner: tech, deadline_s: 12, cue: 画面中断，请说等待话术}\n")
    saved = server.admin.post("/playbooks/new", data={"csrftoken": csrf_of(server.admin), "text": text},
                              follow_redirects=False)
    assert saved.status_code == 303
    tech = create_user(database_url, role="tech", rooms=[room])
    sign_in(page, server, *tech, then=f"/rooms/{room}/tech")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")

    page.once("dialog", lambda dialog: dialog.accept())  # "Start … now?"
    page.locator(f'#playbooks button.trigger[data-playbook="{key}"]').click()
    run = page.locator(f'#playbooks .playbook-run[data-playbook="{key}"]')
    first, second = run.locator('.step[data-step="1"]'), run.locator('.step[data-step="2"]')
    expect(first).to_have_class(re.compile(r"phase-green"))
    first.get_by_role("button", name="完成").click()
    expect(first).to_have_class(re.compile(r"\bdone\b"))
    expect(first.locator(".ticked")).to_contain_text(tech[0])
    assert "超时" not in first.locator(".ticked").inner_text()  # ticked before its deadline

    expect(second).to_have_class(re.compile(r"phase-green"))
    expect(second).to_have_class(re.compile(r"phase-yellow"), timeout=10_000)
    expect(second).to_have_class(re.compile(r"phase-red"), timeout=10_000)
    expect(second.locator(".step-countdown")).to_have_text(re.compile(r"^\+00:0\d$"))

    # Every step ticked: the control room's banner says only the closing is left, and
    # stops looking like an emergency.
    second.get_by_role("button", name="完成").click()
    expect(second).to_have_class(re.compile(r"\bdone\b"))
    controller = page.context.browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(controller, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    banner = controller.locator("#playbook-banner .banner")
    expect(banner).to_contain_text("步骤已全部完成")
    expect(banner).to_have_class(re.compile(r"\ball-done\b"))
    controller.context.close()
