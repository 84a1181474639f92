"""The script editor in chromium: a segment dragged onto another takes its place, for the
room's current show and for a show planned later alike (each posts to its own address)."""

from __future__ import annotations

from tests.integration.test_run_of_show import make_show
from tests.support import create_user
from tests.web.test_control_room import sign_in


def _titles(page) -> list[str]:
    # "1. 开场" → "开场": the numbers follow the order, the titles move.
    return [t.split(". ", 1)[1] for t in page.locator(".script-segments > li > details > summary strong").all_inner_texts()]


def test_dragging_a_segment_reorders_the_script(server, room, database_url, redis_url, browser):
    show_id = make_show(database_url, redis_url, room)
    page = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN").new_page()
    sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]),
            then=f"/rooms/{room}/shows/{show_id}/script")
    before = _titles(page)
    assert len(before) >= 2, before
    with page.expect_response(lambda r: r.url.endswith(f"/rooms/{room}/shows/{show_id}/script/order")) as answer:
        page.locator(".script-segments > li").nth(1).drag_to(page.locator(".script-segments > li").nth(0))
    assert answer.value.ok, answer.value.status
    # The page reloads with the server's version.
    page.wait_for_timeout(500)
    page.wait_for_load_state()
    page.goto(f"{server.url}/rooms/{room}/shows/{show_id}/script")
    assert _titles(page) == [before[1], before[0], *before[2:]]
    page.context.close()
