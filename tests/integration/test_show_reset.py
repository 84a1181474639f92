"""When a show starts, the room's live numbers start over for it (yesterday's comments are
not today's), while late events of the previous show stay out and the stream keeps all."""

from __future__ import annotations

import time

from tests.integration.test_run_of_show import drive, make_show
from tests.support import comment, create_user, login


def _now() -> int:
    return int(time.time() * 1000)


def test_starting_a_show_starts_the_numbers_over(server, room, database_url, redis_url):
    server.post_events(room, [comment("old1", "昨天的评论", ts=_now() - 60_000, user="y1"),
                              {"id": "oldv", "type": "viewers", "ts": _now() - 60_000, "online": 5000}])
    server.wait_for_state(room, lambda s: s["comments"] == 1 and s["peak_online"] == 5000)
    make_show(database_url, redis_url, room)
    controller = login(server.url, *create_user(database_url, role="controller", rooms=[room]))
    assert drive(controller, room, "start").status_code == 204
    state = server.wait_for_state(room, lambda s: s["comments"] == 0 and s["peak_online"] == 0, timeout=10)
    assert state["viewers"] == 0 and state["recent_comments"] == []
    server.post_events(room, [comment("new1", "今天的评论", ts=_now() + 10, user="t1"),
                              comment("late", "昨天迟到的推送", ts=_now() - 120_000, user="y2")])
    state = server.wait_for_state(room, lambda s: s["events_applied"] == 1, timeout=10)
    assert state["comments"] == 1 and state["viewers"] == 1
    assert [c["text"] for c in state["recent_comments"]] == ["今天的评论"]
