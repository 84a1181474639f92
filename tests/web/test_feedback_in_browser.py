"""Every action answers, in chromium: a refused one shows its reason next to its button,
a done one says so; and each role sees only the buttons it may use."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.integration.test_alerts import add_rule, event
from tests.integration.test_run_of_show import make_show
from tests.support import create_user
from tests.web.test_control_room import sign_in

# htmx logs every refused request on the console: expected where a test asks for one.
VISIBLE_POSTS = "[...document.querySelectorAll('[hx-post]')].filter(e => e.checkVisibility()).map(e => e.getAttribute('hx-post'))"


@pytest.fixture
def page(refusing_page):
    """A refusal the test provokes may be logged."""
    return refusing_page


def _red_alert(server, room) -> str:
    key = f"fb-red-{room}"
    response = add_rule(
        server.admin, key=key, name="反馈测试预警", level="red", labels=f"room={room}",
        **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">", "condition.value": "100"},
    )
    assert response.status_code == 303
    server.post_events(room, [event("stream", status="live"), event("viewers", online=5000)])
    return key


@pytest.mark.parametrize("role", ["analyst", "tech"])
def test_an_analyst_or_a_tech_sees_no_driving_button(server, room, database_url, redis_url, page, role):
    make_show(database_url, redis_url, room)
    key = _red_alert(server, room)
    sign_in(page, server, *create_user(database_url, role=role, rooms=[room]), then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(page.locator(f'#alerts .alert[data-rule="{key}"]')).to_have_attribute("data-state", "firing",
                                                                                      timeout=15_000)
    expect(page.locator("#run-of-show")).to_contain_text("测试直播")

    # None of the run-of-show's actions, no message box, no insert form.
    assert page.locator("#run-of-show [data-action]").count() > 0  # in the page, for those allowed
    for selector in ("#run-of-show [data-action]", "form.message-host", "form.insert", "[data-needs=drive_show]",
                     "[data-needs=message_host]"):
        visible = page.locator(selector).evaluate_all("els => els.filter(e => e.checkVisibility()).length")
        assert visible == 0, selector
    posts = page.evaluate(VISIBLE_POSTS)
    if role == "analyst":
        assert posts == []
    else:  # a tech acknowledges alerts (nothing else here: resolving and silencing are the controller's)
        assert posts and all(post.endswith("/ack") for post in posts), posts


def test_a_host_sees_no_alert_actions(server, room, database_url, redis_url, page):
    make_show(database_url, redis_url, room)
    _red_alert(server, room)
    sign_in(page, server, *create_user(database_url, role="host", rooms=[room]), then="/host")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.wait_for_timeout(500)
    posts = page.evaluate(VISIBLE_POSTS)
    assert not [post for post in posts if re.search(r"/alerts/|/silences|/playbook|/show/", post)], posts


def test_a_refused_extend_shows_its_reason_and_a_done_action_says_so(server, room, database_url, redis_url, page):
    make_show(database_url, redis_url, room)
    sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")

    page.locator('#run-of-show [data-action="start"]').click()
    done = page.locator(".feedback-note.done")
    expect(done).to_have_text("已完成")
    expect(done).to_have_attribute("role", "status")
    expect(done).to_have_count(0, timeout=5000)  # brief

    # The first segment plans 5 minutes: −5 min would leave nothing. Refused, with its reason.
    button = page.locator('#run-of-show [data-action="extend-300"]')
    expect(button).to_be_visible()
    where = button.bounding_box()
    button.click()
    note = page.locator(".feedback-note.refused")
    expect(note).to_be_visible()
    expect(note).to_have_attribute("role", "alert")
    expect(note).to_have_text(re.compile(r"^未执行：.*(one minute|一分钟)"))
    # Next to the button: just under it.
    box = note.bounding_box()
    assert 0 <= box["y"] - (where["y"] + where["height"]) <= 30, (box, where)
    assert abs(box["x"] - where["x"]) <= 200, (box, where)
    expect(page.locator(".feedback-note.done")).to_have_count(0)
    # It goes away by itself.
    expect(note).to_have_count(0, timeout=8000)


def test_a_forbidden_action_and_a_network_error_say_so(server, room, database_url, redis_url, page):
    make_show(database_url, redis_url, room)
    sign_in(page, server, *create_user(database_url, role="analyst", rooms=[room]), then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    # A button the analyst should not have had (a stale page, a role changed meanwhile).
    page.evaluate("document.querySelector('#run-of-show .show-actions').removeAttribute('data-needs')")
    page.locator('#run-of-show [data-action="start"]').click()
    note = page.locator(".feedback-note.refused")
    expect(note).to_have_text(re.compile(r"^未执行：.*drive_show"))
    note.click()  # a click closes it
    expect(note).to_have_count(0)

    page.route("**/show/start", lambda route: route.abort())
    page.locator('#run-of-show [data-action="start"]').click()
    expect(note).to_have_text(re.compile(r"^未执行：网络错误"))
