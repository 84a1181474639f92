"""A refusal answers in the reader's language, through the real app: Chinese by default,
English once the reader chose it (?lang=en, then the lang cookie the page sets) — the
run-of-show, a message to the host, a role or room that is not theirs (403), and a form
whose security token is missing."""

from __future__ import annotations

import httpx

from tests.integration.test_run_of_show import make_show
from tests.support import create_room, create_user, csrf_of, login


def act(client: httpx.Client, room: str, action: str, lang: str | None = None, **data) -> httpx.Response:
    return client.post(f"/rooms/{room}/show/{action}", data=data, params={"lang": lang} if lang else None,
                       headers={"hx-request": "true", "x-csrftoken": csrf_of(client)})


def test_a_refused_run_of_show_action_says_why_in_chinese_then_in_english(server, room, database_url, redis_url):
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))

    early = act(controller, room, "extend", seconds="60")
    assert (early.status_code, early.json()["detail"]) == (409, "本场还没有开始")
    early = act(controller, room, "extend", lang="en", seconds="60")
    assert (early.status_code, early.json()["detail"]) == (409, "The show has not started yet")

    assert act(controller, room, "start").status_code == 204
    odd = act(controller, room, "extend", seconds="90")
    assert (odd.status_code, odd.json()["detail"]) == (409, "秒数：只能延长或缩短 60 秒或 300 秒，不能是 90")
    typed = act(controller, room, "extend", seconds="abc")
    assert typed.json()["detail"] == "秒数：“abc”不是整数"

    # The reader switches the page to English: the page sets the lang cookie.
    assert "lang" in controller.get(f"/rooms/{room}", params={"lang": "en"}).cookies
    odd = act(controller, room, "extend", seconds="90")
    assert (odd.status_code, odd.json()["detail"]) == (409, "seconds: extend by ±60 or ±300, not 90")
    typed = act(controller, room, "extend", seconds="abc")
    assert typed.json()["detail"] == "seconds: “abc” is not a whole number"
    assert act(controller, room, "jump", segment="9").json()["detail"] == "there is no segment 9 (the script has 3)"
    # ?lang= wins over the cookie.
    assert act(controller, room, "jump", lang="zh_CN", segment="9").json()["detail"] == "没有第 9 个环节（脚本共 3 个环节）"


def test_a_refused_host_message_says_why_in_the_readers_language(server, room, database_url):
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    headers = {"hx-request": "true", "x-csrftoken": csrf_of(controller)}
    long = controller.post(f"/rooms/{room}/host-messages", data={"text": "话" * 301}, headers=headers)
    assert (long.status_code, long.json()["detail"]) == (422, "内容：最多 300 个字，现在有 301 个字")
    long = controller.post(f"/rooms/{room}/host-messages", data={"text": "话" * 301}, headers=headers,
                           params={"lang": "en"})
    assert (long.status_code, long.json()["detail"]) == (422, "text: at most 300 characters, got 301")


def test_a_role_or_a_room_that_is_not_theirs_is_refused_in_the_readers_language(server, room, database_url,
                                                                                  redis_url):
    make_show(database_url, redis_url, room)
    analyst = login(server.url, *create_user(database_url, role="analyst", rooms=[room]))
    other = create_room(database_url, redis_url)
    refused = act(analyst, room, "next")
    assert refused.status_code == 403 and "数据分析角色无权执行此操作（drive_show）" in refused.text
    elsewhere = analyst.get(f"/api/rooms/{other}/alerts")
    assert (elsewhere.status_code, elsewhere.json()["detail"]) == (403, f"你无权访问直播间 {other}")

    refused = act(analyst, room, "next", lang="en")  # the 403 page keeps the choice (lang cookie)
    assert refused.status_code == 403 and "The analyst role may not do this (drive_show)" in refused.text
    elsewhere = analyst.get(f"/api/rooms/{other}/alerts")
    assert (elsewhere.status_code, elsewhere.json()["detail"]) == (403, f"You have no access to room {other}")


def test_a_form_without_its_security_token_is_refused_in_the_readers_language(server, room, database_url):
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    refused = controller.post(f"/rooms/{room}/show/next", data={"seconds": "60"})
    assert refused.status_code == 403
    assert refused.text == "403: 表单的安全令牌（CSRF）缺失或已过期，请刷新页面后重试。\n"
    refused = controller.post(f"/rooms/{room}/show/next", data={}, params={"lang": "en"})
    assert refused.status_code == 403
    assert refused.text == (
        "403: The form's security token (CSRF) is missing or out of date. Reload the page and try again.\n")
