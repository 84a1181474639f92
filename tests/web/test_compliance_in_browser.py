"""SOP 15 in the browser: a controller clicks a comment that quotes what the host said,
checks the line in the correction box and sends 合规更正; the host's tablet flashes the
correction with the neutral wording until the host taps 收到."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.integration.test_run_of_show import make_show
from tests.support import comment
from tests.web.test_run_of_show_in_browser import _pages

QUOTED = "主播刚说这是全网最低价？"


def test_a_comment_picked_from_the_feed_becomes_the_host_s_correction_cue(server, room, database_url, redis_url,
                                                                       browser):
    make_show(database_url, redis_url, room)
    control, host = _pages(browser, server, room, database_url)
    now = int(time.time() * 1000)
    assert server.post_events(room, [comment("quote-1", QUOTED, ts=now, name="<小明>")]).status_code == 200
    quoted = control.locator("#comment-feed .comment .text", has_text=QUOTED)
    expect(quoted).to_be_visible(timeout=10_000)

    quoted.click()
    line = control.locator("#show-controls form.compliance-flag input[name=line]")
    expect(line).to_have_value(QUOTED)  # the viewer's words only, not the nickname or the time
    expect(line).to_be_focused()
    control.locator("#show-controls form.compliance-flag button[type=submit]").click()

    urgent = host.locator("#host-messages .host-message.urgent-newest")
    expect(urgent).to_be_visible()
    expect(urgent).to_contain_text("合规更正：刚才“全网最低价”改说“直播间优惠价”，请向观众更正。")
    host.locator("#host-messages .host-message.urgent-newest .ack-message").click()
    expect(host.locator("#host-messages .host-message.urgent")).to_have_count(0)
    expect(host.locator("#host-messages .host-message").first).to_contain_text("全网最低价")
