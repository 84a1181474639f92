"""Fan-out pieces that need no server: bounded client queues and shared partials."""

from __future__ import annotations

import asyncio
import copy
import html as html_lib
import json
import re

from dataclasses import asdict

import pytest

from controlroom.screens.hub import RESYNC, Client
from controlroom.metrics.state import RoomState
from controlroom.live.view import RoomView
from controlroom.shows import engine
from controlroom.shows.engine import RunState
from controlroom.shows.runs import show_view
from controlroom.shows.script import Script, Segment
from controlroom.screens.panels import MAX_COMMENTS_PER_PUSH, feed_sample, render_panels
from controlroom.web.render import Renderer
from zoneinfo import ZoneInfo


async def test_a_client_that_falls_behind_is_resynced_instead_of_buffered():
    client = Client(room="r", locale="en", queue=asyncio.Queue(maxsize=3))
    for i in range(10):
        client.offer(f"frame {i}")
    assert client.queue.qsize() <= 3
    frames = [client.queue.get_nowait() for _ in range(client.queue.qsize())]
    assert RESYNC in frames
    assert client.dropped >= 1
    # After the resync marker only newer frames follow, never the dropped ones.
    assert all(f in (RESYNC, "frame 8", "frame 9") for f in frames)


def _view() -> RoomView:
    state = RoomState()
    state.apply(
        [
            {"type": "viewers", "ts": 1_763_700_000_000, "online": 1234},
            {"type": "comment", "ts": 1_763_700_000_100, "user": {"id": "u", "name": "<i>x</i>"}, "text": "<script>"},
        ],
        {},
    )
    firing = {
        "id": 7, "rule_key": "stream-interrupted", "level": "red", "name": "断流/黑屏", "name_en": "Stream interrupted",
        "state": "firing", "labels": {}, "advice": "切备用推流", "playbook": "stream-interruption",
        "cue": "请说等待话术", "started_at": 1_763_700_000_000, "fired_at": 1_763_700_000_000, "acked_at": None,
        "acked_by": "", "resolved_at": None, "resolved_by": "", "escalated": True,
        "last_notified_at": 1_763_700_000_000, "muted": False, "muted_reason": None, "value": None, "reference": None,
    }
    projections = {
        "alerts": {"alerts": [firing], "worst_level": "red", "silences": [], "markers": []},
        "quick-replies": {"price": [[1, "点小黄车 <1> 号链接"]]}, "lexicon-categories": [["doubt", "质疑产品", "Product doubt"]],
        "host-messages": [{"id": 1, "text": "<b>看镜头</b>", "source": "manual", "sent_by": "c", "sent_at": 1_763_700_000_000}],
        "show": _show(),
        "playbook-catalogue": [["stream-interruption", "断流/黑屏", "Stream interruption", "red", []]],
        "playbooks": {"runs": [{
            "id": 3, "key": "stream-interruption", "name": "断流/黑屏", "name_en": "", "level": "red",
            "status": "running", "alert_id": 7, "started_at": 1_763_700_000_000, "started_by": "<b>tech</b>",
            "ended_at": None, "late": 0, "done": 0, "notes": [{"at": 1_763_700_000_000, "by": "t", "text": "<i>备用机</i>"}],
            "steps": [{"title": "确认断流", "owner": "tech", "deadline_s": 30, "deadline_at": 1_763_700_030_000,
                       "warn_s": 7, "instructions": "", "checklist": [], "cue": None, "done": False, "late": False,
                       "current": True, "phase": "green", "done_at": None, "done_by": ""}],
        }]},
    }
    view = RoomView.of(state, room="r1", now_ms=1_763_700_001_000, projections=projections)
    view.hot_questions = [{"group": "price", "count": 3, "examples": ["<i>多少钱</i>"]}]
    return view


def _show() -> dict:
    """A live show two minutes into its <script>-titled first segment."""
    script = Script(segments=(Segment("<script>开场</script>", "opening", 300, talk_points="<b>欢迎</b>"),
                              Segment("讲品", "product", 600, sku="A1")), planned_total_s=900)
    start = 1_763_700_000_000 - 120_000
    run = engine.start(script, RunState(), start)
    projection = {"id": 1, "title": "测试场", "status": "live", "planned_start": start, "planned_total_s": 900,
                  "run": run.to_json(), "segments": [asdict(s) for s in script.segments], "cues": []}
    return show_view(projection, 1_763_700_001_000)


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_every_panel_renders_the_same_in_the_page_and_in_a_push(locale):
    renderer = Renderer(tz=ZoneInfo("Asia/Shanghai"))
    view = _view()
    page = render_panels(renderer, view, locale, oob=False)
    push = render_panels(renderer, view, locale, oob=True)
    assert page.keys() == push.keys()
    for panel in page:
        assert re.search(rf'^\s*<\w+ id="{panel}"', push[panel], re.M), panel
        assert push[panel].count('hx-swap-oob="morph"') == 1
        assert push[panel].replace(' hx-swap-oob="morph"', "") == page[panel]
    assert "&lt;script&gt;" in page["comments"] and "<script>" not in page["comments"]
    assert 'data-rule="stream-interrupted"' in page["alerts"] and "escalated" in page["alerts"]
    assert "请说等待话术" in page["host-cues"]
    assert "&lt;i&gt;多少钱&lt;/i&gt;" in page["hot-questions"] and "点小黄车 &lt;1&gt; 号链接" in page["hot-questions"]
    assert "&lt;b&gt;看镜头&lt;/b&gt;" in page["host-messages"]
    assert "&lt;script&gt;开场&lt;/script&gt;" in page["prompter"] and "&lt;b&gt;欢迎&lt;/b&gt;" in page["prompter"]
    assert "&lt;i&gt;备用机&lt;/i&gt;" in page["playbooks"] and "&lt;b&gt;tech&lt;/b&gt;" in page["playbooks"]
    assert "断流/黑屏" in page["playbook-banner"]
    assert 'data-countdown' in page["run-of-show"] and "02:59" in page["run-of-show"]


def test_times_show_in_the_show_time_zone():
    view = _view()
    html = render_panels(Renderer(tz=ZoneInfo("Asia/Shanghai")), view, "en", oob=False)["comments"]
    assert "12:40:00" in html  # 04:40:00 UTC
    html = render_panels(Renderer(tz=ZoneInfo("Europe/London")), view, "en", oob=False)["comments"]
    assert "04:40:00" in html


def test_a_push_carries_only_the_chart_minutes_that_are_new_or_changed():
    """A long show's per-minute series rides the page once; each push carries the minutes
    new since the last push, and a past minute that late events changed."""
    renderer = Renderer(tz=ZoneInfo("Asia/Shanghai"))
    before = _view()
    minutes = [1_763_700_000 + 60 * i for i in range(600)]  # ten hours of minutes
    before.series = {"x": minutes, "online": [100] * 600, "comments": [5] * 600, "likes": [0] * 600,
                     "gmv": [0.0] * 600}
    after = copy.deepcopy(before)
    after.series["online"][300] = 101  # a late reading for a past minute
    after.series["online"][-1] = 120  # the minute still filling
    for name, value in (("x", minutes[-1] + 60), ("online", 130), ("comments", 1), ("likes", 0), ("gmv", 0.0)):
        after.series[name].append(value)  # a new minute

    def series_of(html: str) -> dict:
        return json.loads(html_lib.unescape(re.search(r"data-series='([^']*)'", html).group(1)))

    page = series_of(render_panels(renderer, after, "zh_CN", oob=False)["chart-data"])
    assert len(page["x"]) == 601, "the page carries the whole show"
    push = render_panels(renderer, after, "zh_CN", oob=True, appending=True, since=before)["chart-data"]
    assert series_of(push) == {"x": [minutes[300], minutes[-1], minutes[-1] + 60], "online": [101, 120, 130],
                               "comments": [5, 5, 1], "likes": [0, 0, 0], "gmv": [0.0, 0.0, 0.0]}
    quiet = render_panels(renderer, after, "zh_CN", oob=True, appending=True, since=after)["chart-data"]
    assert series_of(quiet)["x"] == []


def test_a_hot_feed_is_sampled_keeping_the_comments_that_hit_a_category():
    new = [{"seq": seq, "text": f"第{seq}条", **({"hits": [[0, 2, "complaint"]]} if seq % 30 == 0 else {})}
           for seq in range(300, 0, -1)]  # newest first, one in thirty flagged
    sample = feed_sample(new)
    assert len(sample) == MAX_COMMENTS_PER_PUSH
    flagged = [c["seq"] for c in new if c.get("hits")][:MAX_COMMENTS_PER_PUSH]
    assert [c["seq"] for c in sample if c.get("hits")] == flagged == list(range(300, 0, -30)), "every flagged one"
    assert [c["seq"] for c in sample if not c.get("hits")] == list(range(299, 289, -1)), \
        "then the newest of the rest"
    assert [c["seq"] for c in sample] == sorted((c["seq"] for c in sample), reverse=True), "still newest first"
    few = new[:5]
    assert feed_sample(few) == few
