"""The agency wall: many rooms on one 1920×1080 screen, the one in trouble first and
flashing red, each card opening its room."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.support import create_room, create_user
from tests.web.test_control_room import sign_in


def test_the_wall_shows_every_room_on_one_screen_worst_first(server, database_url, redis_url, browser):
    rooms = [create_room(database_url, redis_url) for _ in range(8)]
    now = int(time.time() * 1000)
    for i, room in enumerate(rooms):
        server.post_events(room, [{"id": f"w-{i}", "type": "viewers", "ts": now, "online": 100 * (i + 1)}])
    trouble = rooms[3]
    server.post_events(trouble, [{"id": "w-down", "type": "stream", "ts": now, "status": "interrupted"}])
    analyst = create_user(database_url, role="analyst", rooms=list(rooms))
    page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(page, server, *analyst, then="/wall")

    cards = page.locator(".wall-card")
    expect(cards).to_have_count(8)
    # The wall refreshes by itself: the red alert arrives and its room moves to the front.
    expect(cards.first).to_have_attribute("data-room", trouble, timeout=15_000)
    expect(cards.first).to_have_class("wall-card worst-red firing")
    expect(cards.first.locator(".wall-alert")).to_contain_text("断流")
    # Read in one go: the wall replaces its cards on every refresh.
    boxes = page.evaluate("[...document.querySelectorAll('.wall-card')].map(c => c.getBoundingClientRect().toJSON())")
    assert len(boxes) == 8
    for i, box in enumerate(boxes):
        assert box["bottom"] <= 1080 and box["right"] <= 1920, f"card {i} at {box}"
    online = {page.locator(f'.wall-card[data-room="{room}"] [data-kpi="online"]').inner_text() for room in rooms}
    assert online == {f"{100 * (i + 1):,}" for i in range(8)}

    cards.first.click()
    page.wait_for_url(f"{server.url}/rooms/{trouble}")
