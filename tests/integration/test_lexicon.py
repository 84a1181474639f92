"""The lexicon page: edits reach the workers' matching within a second; imports are all
or nothing; export and import round-trip; the allow-list and new categories work live."""

from __future__ import annotations

import html
import time
import uuid

from tests.support import comment, csrf_of


def _now() -> int:
    return int(time.time() * 1000)


def _post(client, url: str, **data):
    return client.post(url, data={"csrftoken": csrf_of(client, "/lexicon"), **data}, follow_redirects=False)


def _hits_of(server, room, text: str) -> list:
    """Post a comment now and return the moderation hits it was tagged with."""
    before = server.state(room)["comments"]
    server.post_events(room, [comment(f"lx-{uuid.uuid4().hex[:8]}", text, ts=_now())])
    state = server.wait_for_state(room, lambda s: s["comments"] == before + 1)
    return state["recent_comments"][0]["hits"]


def test_a_term_added_on_the_page_matches_within_a_second(server, room):
    word = "塌房" + uuid.uuid4().hex[:4]
    assert _hits_of(server, room, f"主播{word}了") == []
    response = _post(server.admin, "/lexicon/complaint/terms", text=word, severity="3", suggestion="")
    assert response.status_code == 303
    time.sleep(1.0)
    assert _hits_of(server, room, f"主播{word[:1]} {word[1:]}了") == [[2, 3 + len(word), "complaint"]]

    term_id = server.admin.get("/lexicon/complaint").text.split(f'data-term="{word}"')[1].split("/terms/")[1].split("/")[0]
    assert _post(server.admin, f"/lexicon/complaint/terms/{term_id}/delete").status_code == 303
    time.sleep(1.0)
    assert _hits_of(server, room, f"主播{word}了") == []


def test_the_allow_list_is_live_too(server, room):
    assert _hits_of(server, room, "顶级好物") != []
    assert _post(server.admin, "/lexicon/allow", text="顶级好物").status_code == 303
    time.sleep(1.0)
    assert _hits_of(server, room, "顶级好物") == []
    assert _hits_of(server, room, "顶级") != []  # elsewhere the term still counts


def test_a_new_category_is_matched_and_offered_in_the_feed_filter(server, room):
    key = f"brand{uuid.uuid4().hex[:4]}"
    assert _post(server.admin, "/lexicon/categories", key=key, name="竞品", name_en="Competitors").status_code == 303
    assert _post(server.admin, f"/lexicon/{key}/terms", text="某宝同款", severity="1").status_code == 303
    time.sleep(1.0)
    assert _hits_of(server, room, "某宝同款便宜多了") == [[0, 4, key]]
    assert f'data-filter="{key}"' in server.admin.get(f"/rooms/{room}").text


def test_an_import_with_a_bad_line_changes_nothing_and_names_the_line(server):
    key = f"imp{uuid.uuid4().hex[:4]}"
    assert _post(server.admin, "/lexicon/categories", key=key, name="导入测试").status_code == 303
    def upload(text: str, **headers: str):
        return server.admin.post(f"/lexicon/{key}/import", files={"file": ("terms.txt", text.encode(), "text/plain")},
                                 headers=headers, follow_redirects=False)

    # A file upload carries its CSRF token in the header (htmx sends it).
    assert upload("甲乙\n").status_code == 403
    htmx = {"x-csrftoken": csrf_of(server.admin, "/lexicon"), "hx-request": "true"}
    response = upload("甲乙\t3\n丙丁\t9\n", **htmx)
    assert response.status_code == 422
    assert "line 2: severity '9' is not 1, 2 or 3" in html.unescape(response.text)
    assert 'data-term="甲乙"' not in server.admin.get(f"/lexicon/{key}").text

    response = upload("# exported\n甲乙\t3\t换个说法\n丙丁\n\n甲乙\n", **htmx)
    assert response.status_code == 204 and "imported=%2B2" in response.headers["hx-redirect"]
    exported = server.admin.get(f"/lexicon/{key}/export").text
    assert "甲乙\t3\t换个说法" in exported and "丙丁\t2" in exported
    # Exporting and importing again adds nothing: a round trip.
    response = server.admin.post(f"/lexicon/{key}/import", data={"csrftoken": csrf_of(server.admin, "/lexicon"),
                                                                 "text": exported}, follow_redirects=False)
    assert response.status_code == 303
    assert server.admin.get(response.headers["location"]).text.count('data-term="') == 2


def test_terms_that_could_never_match_are_refused(server):
    response = _post(server.admin, "/lexicon/doubt/terms", text=" *** ", severity="2")
    assert response.status_code == 422 and "only spaces or symbols" in html.unescape(response.text)


def test_talk_points_are_checked_against_the_live_absolute_terms(server):
    client = server.admin
    headers = {"hx-request": "true", "x-csrftoken": csrf_of(client, "/lexicon")}
    response = client.post("/lexicon/check?lang=zh_CN", data={"text": "<b>史上最低价</b>，快抢"}, headers=headers)
    assert response.status_code == 200
    page = html.unescape(response.text)
    assert 'data-term="史上最低价"' in response.text and "今天的优惠价" in page and "广告法" in page
    assert "<b>" not in response.text.split('class="marked">')[1].split("</p>")[0].replace("&lt;b&gt;", "")
    # A term the team adds is checked at once.
    word = "天花板" + uuid.uuid4().hex[:3]
    assert _post(client, "/lexicon/absolute/terms", text=word, severity="2", suggestion="很出色").status_code == 303
    page = client.post("/lexicon/check", data={"text": f"这是{word}级别"}, headers=headers).text
    assert f'data-term="{word}"' in page and "很出色" in page
