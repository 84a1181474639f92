"""A controller types while the room is busy: pushes (comments, numbers, the run-of-show
countdown) arrive all the time, and none of them may empty the field, move the caret or
break an input method's composition, nor a text selection (to copy a number or a
viewer's question). Analysts and tech staff see no driving button."""

from __future__ import annotations

import itertools
import re
import threading
import time

from playwright.sync_api import expect

from tests.integration.test_run_of_show import make_show
from tests.support import comment, create_user
from tests.web.test_control_room import sign_in
from tests.web.test_run_of_show_in_browser import _pages

MESSAGE = "请主播现在讲一下面霜的成分和质量保证谢谢"  # 20 characters


def _busy_room(server, room, stop: threading.Event) -> None:
    """About 20 events a second: every push re-renders the comment feed and the numbers."""
    ids = itertools.count()
    while not stop.is_set():
        now = int(time.time() * 1000)
        server.post_events(room, [comment(f"busy-{next(ids)}", "在吗", ts=now, user=f"u{i}") for i in range(2)]
                           + [{"id": f"v-{next(ids)}", "type": "viewers", "ts": now, "online": 1000 + next(ids)}])
        time.sleep(0.1)


def test_a_message_typed_key_by_key_during_pushes_reaches_the_host_exactly(server, room, database_url, redis_url,
                                                                         browser):
    make_show(database_url, redis_url, room)
    control, host = _pages(browser, server, room, database_url)
    control.locator('#run-of-show [data-action="start"]').click()
    expect(host.locator("#prompter .countdown")).to_be_visible()
    stop = threading.Event()
    traffic = threading.Thread(target=_busy_room, args=(server, room, stop), daemon=True)
    traffic.start()
    try:
        box = control.locator("#show-controls form.message-host input[name=text]")
        box.click()
        half = len(MESSAGE) // 2
        # One key every 250 ms, as a person types.
        control.keyboard.type(MESSAGE[:half], delay=250)
        # The rest through an input method: each character composed (pinyin), then committed.
        cdp = control.context.new_cdp_session(control)
        for char in MESSAGE[half:]:
            cdp.send("Input.imeSetComposition", {"text": "pin", "selectionStart": 3, "selectionEnd": 3})
            time.sleep(0.125)
            cdp.send("Input.insertText", {"text": char})
            time.sleep(0.125)
        expect(box).to_have_value(MESSAGE)
        assert box.evaluate("el => el === document.activeElement && el.selectionStart === el.value.length")
        control.locator("#show-controls form.message-host button[type=submit]").click()
        expect(host.locator("#host-messages .host-message").first).to_contain_text(MESSAGE)
        expect(box).to_have_value("")  # sent: the box is ready for the next one
    finally:
        stop.set()
        traffic.join()
    # Exactly that text: nothing lost or doubled on the way.
    texts = host.locator("#host-messages .host-message bdi").all_inner_texts()
    assert texts[0] == MESSAGE


def test_a_text_selection_survives_pushes_and_the_panel_catches_up_after(server, room, database_url, redis_url,
                                                                        browser):
    make_show(database_url, redis_url, room)
    control, _host = _pages(browser, server, room, database_url)
    stop = threading.Event()
    traffic = threading.Thread(target=_busy_room, args=(server, room, stop), daemon=True)
    traffic.start()
    try:
        online = control.locator("#kpis [data-kpi=online] .tile-value")
        expect(online).to_have_text(re.compile(r"^1,\d{3}$"), timeout=10_000)
        # Select the online number, as someone about to copy it would.
        selected = control.evaluate("""() => {
            const range = document.createRange();
            range.selectNodeContents(document.querySelector('#kpis [data-kpi=online] .tile-value'));
            const selection = document.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
            return selection.toString();
        }""")
        assert selected.strip()
        control.wait_for_timeout(2000)  # about 20 pushes of the numbers
        assert control.evaluate("() => document.getSelection().toString()") == selected
        expect(control.locator("#kpis")).to_have_attribute("data-held", "选中文字或输入时，此处暂停更新")
        # Let go: the numbers catch up at once.
        control.evaluate("() => document.getSelection().removeAllRanges()")
        expect(control.locator("#kpis")).not_to_have_attribute("data-held", re.compile(".*"))
        expect(online).not_to_have_text(selected)
    finally:
        stop.set()
        traffic.join()


def test_the_button_under_the_pointer_stays_put_while_pushes_arrive(server, room, database_url, redis_url, browser):
    """A click is a press and a release: if a push replaced the button in between, the
    click would land on nothing. Pushes morph the panel, so the button stays the same
    element (and the countdown beside it still moves)."""
    make_show(database_url, redis_url, room)
    control, _host = _pages(browser, server, room, database_url)
    control.locator('#run-of-show [data-action="start"]').click()
    extend = control.locator('#run-of-show [data-action="extend60"]')
    expect(extend).to_be_visible()
    stop = threading.Event()
    traffic = threading.Thread(target=_busy_room, args=(server, room, stop), daemon=True)
    traffic.start()
    try:
        button = extend.element_handle()
        countdown = control.locator("#run-of-show [data-countdown]").inner_text()
        control.wait_for_timeout(3000)  # dozens of pushes, the run-of-show among them
        assert button.evaluate("el => el.isConnected"), "a push replaced the button"
        assert control.locator("#run-of-show [data-countdown]").inner_text() != countdown
        button.click()
        expect(control.locator(".feedback-note.done")).to_be_visible()
    finally:
        stop.set()
        traffic.join()


def test_an_analyst_and_tech_staff_see_no_driving_button(server, room, database_url, redis_url, browser):
    make_show(database_url, redis_url, room)
    for role in ("analyst", "tech"):
        page = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
        sign_in(page, server, *create_user(database_url, role=role, rooms=[room]), then=f"/rooms/{room}")
        expect(page.locator("#run-of-show")).to_be_visible()
        for selector in ("#run-of-show .show-actions", "#run-of-show [data-action]", "form.message-host",
                         "form.compliance-flag", "form.insert", "#alerts form[data-needs]", '[data-needs="drive_show"]'):
            visible = [el for el in page.locator(selector).all() if el.is_visible()]
            assert visible == [], f"{role} sees {selector}"
        page.context.close()
    controller = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    sign_in(controller, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
    expect(controller.locator('#run-of-show [data-action="start"]')).to_be_visible()
    expect(controller.locator("#show-controls form.message-host")).to_be_visible()
    # Pausing the comment feed and holding the whole show are different buttons, and say so.
    controller.locator('#run-of-show [data-action="start"]').click()
    hold = controller.locator('#run-of-show [data-action="hold"]')
    expect(hold).to_have_text("暂停流程")
    expect(controller.locator("#comments .when-running")).to_have_text("暂停滚动")
    controller.context.close()
