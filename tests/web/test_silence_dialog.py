"""Silencing an alert from the control room: the form is static, so what the person
types survives the alerts panel being pushed meanwhile; the silence then shows on
every screen with its reason."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.support import create_user
from tests.web.test_control_room import sign_in


def test_a_silence_typed_while_alerts_move_is_set_with_its_reason(server, room, database_url, browser):
    now = int(time.time() * 1000)
    server.post_events(room, [{"id": "sd-1", "type": "stream", "ts": now, "status": "interrupted"}])
    manager = create_user(database_url, role="admin")
    page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(page, server, *manager, then=f"/rooms/{room}")
    alert = page.locator("#alerts [data-rule='stream-interrupted']")
    expect(alert).to_be_visible(timeout=15_000)  # the first alert round of a busy CI machine
    alert.locator(".open-silence").click()
    dialog = page.locator("#silence-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".silence-alert-name")).to_have_text("断流/黑屏")
    reason = "备用推流已接上，技术在排查"
    dialog.locator("input[name=comment]").click()
    for i, char in enumerate(reason):
        page.keyboard.type(char)
        # Meanwhile the alerts panel is pushed again (a yellow alert comes and goes).
        server.post_events(room, [{"id": f"sd-v{i}", "type": "viewers", "ts": int(time.time() * 1000),
                                   "online": 1000 + i}])
        time.sleep(0.1)
    expect(dialog.locator("input[name=comment]")).to_have_value(reason)
    dialog.locator("select[name=minutes]").select_option("30")
    dialog.locator("button[type=submit]").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#alerts .silence-list")).to_contain_text(reason)
    expect(alert).to_have_class(__import__("re").compile(r"\bmuted\b"), timeout=15_000)  # the next alert round, on a loaded machine
