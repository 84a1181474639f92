"""The host screen in chromium, as the host sees it on a tablet, a portrait tablet and a
phone: everything the host reads fits on one screen without scrolling; the talk points
scroll like a prompter at the controller's speed and stop when paused, keeping their
place across pushes; an urgent message covers the screen until 收到; the mirror switch
flips the screen and is remembered; the title and the 彩排 badge follow the room's
current show; the host link follows the room and its QR code uses the public URL."""

from __future__ import annotations

import asyncio
import contextlib
import html as html_module
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from controlroom.bus.client import Bus, connect
from controlroom.clock import SystemClock
from controlroom.db.base import utcnow
from controlroom.db.session import make_engine, session_factory, transaction
from controlroom.live.projections import Projections
from controlroom.rooms.models import Room
from controlroom.screens.pages import _qr_data_uri
from controlroom.settings import Settings
from controlroom.shows.runs import SHOW, save_script
from controlroom.shows.schedule import add_show
from controlroom.shows.script import Cue, Script, Segment
from tests.integration.test_alerts import add_rule, event
from tests.support import (
    LiveServer,
    create_room,
    create_user,
    csrf_of,
    login,
    server_env,
)
from tests.web.test_control_room import sign_in

SHOTS = Path("/tmp/host-shots")
VIEWPORTS = [(1280, 800), (800, 1280), (390, 844)]
SHOTS_OF_URGENT = (390, 844)
PARAGRAPHS = "\n\n".join([
    "第一段：欢迎来到直播间，今天给大家带来的是我们自家工厂直供的保湿面霜，先点个关注不迷路。",
    "第二段：看这个质地，轻薄不油腻，上脸一抹就化开，干皮油皮都可以用，早晚各一次就够了。",
    "第三段：成分表给大家看一下，核心是神经酰胺和玻尿酸，有第三方检测报告，链接里可以看到。",
    "第四段：专柜价两百九十九，今天直播间只要一百二十九，还送同款小样两支，数量有限。",
    "第五段：还没下单的朋友抓紧，点小黄车一号链接，拍下后四十八小时内发货，七天无理由。",
])
SCRIPT = Script(segments=(
    Segment("讲品：保湿面霜", "product", 600, sku="A1", talk_points=PARAGRAPHS, cues=(Cue(1, "展示质地", "host"),)),
    Segment("福袋互动", "interaction", 180),
), planned_total_s=780)
CUE = "流量在掉，请讲一下福利"


def _add_show(database_url: str, redis_url: str, room: str, *, title: str, rehearsal: bool = False,
              start_in: timedelta = timedelta(0)) -> int:
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        show = add_show(session, room=session.scalar(select(Room).where(Room.slug == room)), title=title,
                        planned_start=utcnow() + start_in)
        show.rehearsal = rehearsal
        save_script(session, show, SCRIPT)
        show_id = show.id

    async def publish() -> None:
        client = connect(redis_url)
        await Projections(Bus.from_settings(client, Settings(mode="dev")), sessions, SystemClock()).publish(room, SHOW.name)
        await client.aclose()

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, publish()).result()
    engine.dispose()
    return show_id


def _post(client, url: str, **data):
    response = client.post(url, data=data, headers={"hx-request": "true", "x-csrftoken": csrf_of(client)})
    assert response.status_code in (204, 303), (url, response.status_code, response.text[:300])
    return response


@contextlib.contextmanager
def _tab(browser, width: int, height: int, **options):
    """A tab of the given size that must log no script or htmx errors."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", **options)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" or "htmx:" in m.text else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert [p for p in problems if "Failed to load resource" not in p] == []


@pytest.fixture(scope="module")
def live_room(server, database_url, redis_url):
    """A live show on its five-paragraph product segment, a scripted cue for the host
    fired, an alert whose cue is for the host firing, and a message from control."""
    room = create_room(database_url, redis_url)
    _add_show(database_url, redis_url, room, title="周五晚场")
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    host = create_user(database_url, role="host", rooms=[room])
    assert add_rule(server.admin, key=f"cue-{room}", name="主播提示", level="yellow", labels=f"room={room}", cue=CUE,
                    **{"condition.kind": "threshold", "condition.metric": "online", "condition.op": ">",
                       "condition.value": "100"}).status_code == 303
    _post(controller, f"/rooms/{room}/show/start")
    server.post_events(room, [event("stream", status="live"), event("viewers", online=5000)])
    _post(controller, f"/rooms/{room}/host-messages", text="语速慢一点")
    return {"room": room, "controller": controller, "host": host}


def _open_host_screen(page, server, live_room) -> None:
    sign_in(page, server, *live_room["host"], then="/host")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(page.locator("#host-cues .host-cue.latest")).to_contain_text(CUE, timeout=15_000)
    expect(page.locator("#prompter .prompter-cue")).to_contain_text("展示质地", timeout=10_000)
    expect(page.locator("#host-messages .host-message.newest")).to_be_visible()


PARTS = {
    "countdown": "#prompter .countdown",
    "segment title": "#prompter .segment-title",
    "talk points": "#prompter .talk-points",
    "next segment": "#prompter .next-segment",
    "scripted cue": "#prompter .prompter-cue",
    "alert cue": "#host-cues .host-cue.latest",
    "message": "#host-messages .host-message.newest",
    "show title": "#prompter .show-title",
}


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_everything_the_host_reads_fits_the_screen(server, live_room, browser, width, height):
    with _tab(browser, width, height) as page:
        _open_host_screen(page, server, live_room)
        page.wait_for_timeout(300)  # fonts and the first frame of the prompter
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"host-{width}x{height}.png"))
        # Measured in one go: a push replaces panels every second, and an element
        # measured in two steps may be gone by the second.
        seen = page.evaluate(MEASURE, PARTS)
        missing = [name for name, box in seen["boxes"].items() if box is None or not box["width"] or not box["height"]]
        assert missing == [], missing
        outside = {name: box for name, box in seen["boxes"].items()
                   if not (box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width + 0.5
                           and box["y"] + box["height"] <= height + 0.5)}
        assert outside == {}, f"outside the {width}×{height} viewport: {outside}"
        # Nothing to scroll: the page is exactly the screen.
        assert seen["page"][0] <= width and seen["page"][1] <= height, seen["page"]
        # The talk points get a real share of the screen, in type readable from two metres.
        assert seen["boxes"]["talk points"]["height"] >= 0.3 * height, seen["boxes"]["talk points"]
        assert seen["fonts"]["talk points"] >= 20 and seen["fonts"]["countdown"] >= 80, seen["fonts"]
        # The numbers the host sees stay inside their tiles and the screen.
        for tile in seen["tiles"]:
            assert tile["right"] <= width + 0.5 and tile["bottom"] <= height + 0.5 and tile["fits"], tile


MEASURE = """parts => {
  const boxes = {}, fonts = {};
  for (const [name, selector] of Object.entries(parts)) {
    const el = document.querySelector(selector);
    const r = el && el.getClientRects().length ? el.getBoundingClientRect() : null;
    boxes[name] = r && {x: r.x, y: r.y, width: r.width, height: r.height};
    fonts[name] = el ? parseFloat(getComputedStyle(el).fontSize) : null;
  }
  const tiles = [...document.querySelectorAll("#kpis .tile")].filter(t => t.getClientRects().length).map(t => {
    const r = t.getBoundingClientRect();
    return {kpi: t.dataset.kpi, right: r.right, bottom: r.bottom,
            fits: [...t.children].every(c => c.scrollWidth <= c.clientWidth + 1)};
  });
  const page = [document.scrollingElement.scrollWidth, document.scrollingElement.scrollHeight];
  return {boxes, fonts, tiles, page};
}"""


def _scroll_top(page) -> float:
    # One evaluation: the element is replaced by pushes, so never resolve it twice.
    return page.evaluate("() => document.querySelector('#prompter .talk-points').scrollTop")


def _wait_until(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_prompter_scrolls_at_the_controllers_speed_and_stops_when_paused(server, live_room, browser):
    room, controller = live_room["room"], live_room["controller"]
    talk = "#prompter .talk-points"
    with _tab(browser, 1280, 800) as page:
        _open_host_screen(page, server, live_room)
        _post(controller, f"/rooms/{room}/prompter", action="top")
        _post(controller, f"/rooms/{room}/prompter", action="pause")
        expect(page.locator(talk)).to_have_attribute("data-scroll-paused", "true")
        assert page.evaluate(f"() => (el => el.scrollHeight > el.clientHeight + 50)(document.querySelector('{talk}'))"), \
            "nothing to scroll"
        page.wait_for_timeout(500)
        assert _scroll_top(page) == 0

        _post(controller, f"/rooms/{room}/prompter", action="play", speed="10")
        expect(page.locator(talk)).to_have_attribute("data-scroll-speed", "10")
        _wait_until(lambda: _scroll_top(page) > 40)

        _post(controller, f"/rooms/{room}/prompter", action="pause")
        expect(page.locator(talk)).to_have_attribute("data-scroll-paused", "true")
        page.wait_for_timeout(300)
        stopped = _scroll_top(page)
        assert stopped > 40
        # Pushes replace the panel (the clock moves every second): the place is kept.
        page.wait_for_timeout(2500)
        assert abs(_scroll_top(page) - stopped) <= 1

        # "From the top", from the control room.
        _post(controller, f"/rooms/{room}/prompter", action="top")
        _wait_until(lambda: _scroll_top(page) == 0)

    # The control room's mirror of the host screen carries the buttons and the speed.
    mirror = controller.get(f"/rooms/{room}").text
    assert 'data-prompter-action="play"' in mirror and "data-prompter-speed" in mirror


def test_the_control_rooms_mirror_reads_along_with_the_host(server, live_room, database_url, browser):
    room, controller = live_room["room"], live_room["controller"]
    mirror_talk = ".mirror #prompter .talk-points"
    with _tab(browser, 1920, 1080) as page:
        sign_in(page, server, *create_user(database_url, role="controller", rooms=[room]), then=f"/rooms/{room}")
        _post(controller, f"/rooms/{room}/prompter", action="top")
        _post(controller, f"/rooms/{room}/prompter", action="pause")
        page.locator('[data-tab="mirror"]').click()
        expect(page.locator(mirror_talk)).to_have_attribute("data-scroll-paused", "true")
        page.wait_for_timeout(500)
        top = f"() => document.querySelector('{mirror_talk}').scrollTop"
        assert page.evaluate(top) == 0
        assert page.evaluate(f"() => (el => el.scrollHeight > el.clientHeight + 20)(document.querySelector('{mirror_talk}'))"), \
            "the mirror shows all the talk points at once: nothing to read along"
        _post(controller, f"/rooms/{room}/prompter", action="play", speed="10")
        _wait_until(lambda: page.evaluate(top) > 10)
        _post(controller, f"/rooms/{room}/prompter", action="pause")
        expect(page.locator(mirror_talk)).to_have_attribute("data-scroll-paused", "true")
        page.wait_for_timeout(300)
        stopped = page.evaluate(top)
        page.wait_for_timeout(1500)
        assert abs(page.evaluate(top) - stopped) <= 1


def test_the_prompter_setting_is_for_drivers_only_and_checked(server, live_room, database_url):
    room = live_room["room"]
    host = login(server.url, *live_room["host"])
    refused = host.post(f"/rooms/{room}/prompter", data={"action": "play"},
                        headers={"hx-request": "true", "x-csrftoken": csrf_of(host)})
    assert refused.status_code == 403
    controller = live_room["controller"]
    bad = controller.post(f"/rooms/{room}/prompter", data={"action": "sideways"},
                          headers={"hx-request": "true", "x-csrftoken": csrf_of(controller)})
    assert bad.status_code == 422 and "action" in bad.json()["detail"]


def test_an_urgent_message_covers_the_screen_until_the_host_taps_got_it(server, live_room, browser):
    room, controller = live_room["room"], live_room["controller"]
    for width, height in VIEWPORTS:
        with _tab(browser, width, height) as page:
            _open_host_screen(page, server, live_room)
            _post(controller, f"/rooms/{room}/host-messages", text=f"马上上链接 {width}", urgent="on")
            urgent = page.locator("#host-messages .host-message.urgent")
            expect(urgent).to_contain_text(f"马上上链接 {width}")
            box = urgent.bounding_box()
            assert box["width"] * box["height"] >= 0.9 * width * height, box
            assert urgent.evaluate("el => getComputedStyle(el).animationName") == "host-urgent"
            if (width, height) == SHOTS_OF_URGENT:
                page.screenshot(path=str(SHOTS / f"host-urgent-{width}x{height}.png"))
            urgent.get_by_role("button", name="收到").click()
            expect(page.locator("#host-messages .host-message.urgent")).to_have_count(0)
            expect(page.locator("#host-messages .host-message.newest")).to_contain_text("已收到")
            expect(page.locator("#prompter .countdown")).to_be_visible()


def test_with_two_urgent_messages_waiting_the_newest_is_on_top(server, live_room, browser):
    """Seen in the drive: a playbook's urgent cue (画面中断) still waiting, then the
    controller's newer urgent message — the tablet must show the newer one first, and its
    收到 must take the tap."""
    room, controller = live_room["room"], live_room["controller"]
    with _tab(browser, 1280, 800) as page:
        _open_host_screen(page, server, live_room)
        _post(controller, f"/rooms/{room}/host-messages", text="画面中断，请说等待话术", urgent="on")
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(1)
        _post(controller, f"/rooms/{room}/host-messages", text="现在上一号链接", urgent="on")
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(2)
        on_top = page.evaluate("() => document.elementFromPoint(innerWidth / 2, innerHeight / 2)"
                               ".closest('.host-message').innerText")
        assert "现在上一号链接" in on_top
        page.get_by_role("button", name="收到").first.click()
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(1)
        expect(page.locator("#host-messages .host-message.urgent")).to_contain_text("画面中断")
        page.locator("#host-messages .host-message.urgent").get_by_role("button", name="收到").click()
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(0)


def test_an_urgent_message_is_steady_for_reduced_motion(server, live_room, browser):
    room, controller = live_room["room"], live_room["controller"]
    with _tab(browser, 1280, 800, reduced_motion="reduce") as page:
        _open_host_screen(page, server, live_room)
        _post(controller, f"/rooms/{room}/host-messages", text="稳定显示", urgent="on")
        urgent = page.locator("#host-messages .host-message.urgent")
        expect(urgent).to_contain_text("稳定显示")
        assert urgent.evaluate("el => getComputedStyle(el).animationName") == "none"
        assert urgent.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(185, 28, 28)"
        urgent.get_by_role("button", name="收到").click()
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(0)


def test_the_mirror_switch_flips_the_screen_and_is_remembered(server, live_room, browser):
    with _tab(browser, 1280, 800) as page:
        _open_host_screen(page, server, live_room)
        host = page.locator(".host")
        assert host.evaluate("el => getComputedStyle(el).transform") == "none"
        page.get_by_role("button", name="镜像").click()
        expect(page.locator("body")).to_have_class(re.compile(r"\bis-mirrored\b"))
        assert host.evaluate("el => getComputedStyle(el).transform") == "matrix(-1, 0, 0, 1, 0, 0)"
        expect(page.get_by_role("button", name="镜像")).to_have_attribute("aria-pressed", "true")
        page.reload()
        expect(page.locator("body")).to_have_class(re.compile(r"\bis-mirrored\b"))
        page.get_by_role("button", name="镜像").click()
        assert host.evaluate("el => getComputedStyle(el).transform") == "none"


def test_the_host_link_follows_the_rooms_current_show(server, database_url, redis_url, browser):
    room = create_room(database_url, redis_url)
    _add_show(database_url, redis_url, room, title="周四早场", start_in=timedelta(minutes=-30))
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    page_html = controller.post(f"/rooms/{room}/host-link",
                                data={"csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "create"},
                                follow_redirects=True).text
    url = re.search(r'id="host-url" href="([^"]+)"', page_html).group(1)
    with _tab(browser, 800, 1280) as page:
        page.goto(url)
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        expect(page.locator("#prompter .show-title")).to_have_text("周四早场")
        expect(page.locator("#prompter .rehearsal-badge")).to_have_count(0)

        # The next show of the room, a rehearsal: the open tablet moves on by itself.
        _add_show(database_url, redis_url, room, title="周四彩排场", rehearsal=True)
        expect(page.locator("#prompter .show-title")).to_have_text("周四彩排场", timeout=10_000)
        expect(page.locator("#prompter .rehearsal-badge")).to_have_text("彩排")
        _wait_until(lambda: page.title().startswith("周四彩排场"))

        # The link page shows the link that drives the tablet, for the current show.
        link_page = controller.get(f"/rooms/{room}/host-link").text
        assert f'href="{url}"' in link_page and "没有有效链接" not in link_page and "周四彩排场" in link_page
        # Opened again (a tablet restarted), the same link still works.
        page.reload()
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        expect(page.locator("#prompter .show-title")).to_have_text("周四彩排场")

        # A new link ends the old one: the page says so, and the tablet goes dark.
        controller.post(f"/rooms/{room}/host-link",
                        data={"csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "create"})
        assert f'href="{url}"' not in controller.get(f"/rooms/{room}/host-link").text
        expect(page.locator("#connection")).not_to_have_attribute("data-state", "online", timeout=10_000)


def test_the_qr_code_uses_the_public_url(database_url, own_redis_url, tmp_path):
    redis_url = own_redis_url
    public = "http://192.168.1.20:8000"
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_PUBLIC_URL=public + "/")
    web = LiveServer(env, tmp_path / "log", worker=False).start()
    try:
        room = create_room(database_url, redis_url)
        _add_show(database_url, redis_url, room, title="二维码场")
        controller = login(web.url, *create_user(database_url, role="controller", rooms=[room]))
        html = controller.post(f"/rooms/{room}/host-link",
                               data={"csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "create"},
                               follow_redirects=True).text
        url = re.search(r'id="host-url" href="([^"]+)"', html).group(1)
        assert url.startswith(f"{public}/host/"), url
        qr = re.search(r'<img class="qr" src="([^"]+)"', html).group(1)
        assert html_module.unescape(qr) == _qr_data_uri(url)
    finally:
        web.terminate()


def test_a_republish_keeps_the_controllers_prompter_setting(database_url, redis_url):
    """The safety net rewrites every projection from its build (the default here): the
    controller's speed and pause must survive it, and a room never set gets the default."""
    from controlroom.bus import keys
    from controlroom.shows.prompter import DEFAULT, PROMPTER, setting_key

    room, untouched = create_room(database_url, redis_url), create_room(database_url, redis_url)
    engine = make_engine(database_url)
    sessions = session_factory(engine)

    async def run() -> tuple[bytes, bytes]:
        client = connect(redis_url)
        projections = Projections(Bus.from_settings(client, Settings(mode="dev")), sessions, SystemClock())
        await client.set(setting_key(room), b'{"speed":9,"paused":false,"epoch":2}')
        await projections.publish(room, PROMPTER.name)
        await projections.publish(untouched, PROMPTER.name)
        found = await client.get(keys.projection(room, PROMPTER.name)), await client.get(keys.projection(untouched, PROMPTER.name))
        await client.aclose()
        return found

    with ThreadPoolExecutor(1) as thread:
        kept, default = thread.submit(asyncio.run, run()).result()
    engine.dispose()
    assert orjson.loads(kept) == {"speed": 9, "paused": False, "epoch": 2}
    assert orjson.loads(default) == DEFAULT


def test_the_controllers_buttons_change_the_setting():
    from controlroom.shows.prompter import changed

    assert changed({}, "") == {"speed": 4, "paused": True, "epoch": 0}
    assert changed({}, "play")["paused"] is False and changed({"paused": False}, "pause")["paused"] is True
    assert changed({"speed": 10}, "faster")["speed"] == 10 and changed({"speed": 1}, "slower")["speed"] == 1
    assert changed({"speed": 4}, "faster")["speed"] == 5 and changed({}, "play", "12")["speed"] == 10
    assert changed({"epoch": 3}, "top")["epoch"] == 4
    with pytest.raises(ValueError):
        changed({}, "sideways")


def test_a_tablet_opened_from_the_link_can_tap_got_it(server, database_url, redis_url, browser):
    """The tablet beside the camera has no login, only its link: its 收到 must show and work."""
    room = create_room(database_url, redis_url)
    _add_show(database_url, redis_url, room, title="周六晚场", start_in=timedelta(minutes=-5))
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    page_html = controller.post(f"/rooms/{room}/host-link",
                                data={"csrftoken": csrf_of(controller, f"/rooms/{room}/host-link"), "action": "create"},
                                follow_redirects=True).text
    url = re.search(r'id="host-url" href="([^"]+)"', page_html).group(1)
    with _tab(browser, 1280, 800) as page:
        page.goto(url)
        expect(page.locator("#connection")).to_have_attribute("data-state", "online")
        _post(controller, f"/rooms/{room}/host-messages", text="马上上链接", urgent="on")
        urgent = page.locator("#host-messages .host-message.urgent")
        expect(urgent).to_contain_text("马上上链接")
        got_it = urgent.get_by_role("button", name="收到")
        expect(got_it).to_be_visible()
        got_it.click()
        expect(page.locator("#host-messages .host-message.urgent")).to_have_count(0)
