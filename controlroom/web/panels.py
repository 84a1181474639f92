"""The control room's live panels: loading a room's view and rendering its partials."""

from __future__ import annotations

from typing import Any

import orjson
import redis.asyncio as aioredis

from controlroom.bus import keys
from controlroom.clock import Clock
from controlroom.metrics.state import USER_SETS, WINDOWED_SETS, RoomState
from controlroom.metrics.view import change_windows, room_view
from controlroom.moderation.lexicon import CATEGORIES
from controlroom.shows.runs import show_view
from controlroom.web.render import Renderer

# panel id -> partial; each partial's root element carries the panel id.
PANELS = {
    "alerts": "partials/_alerts.html",
    "host-cues": "partials/_host_cues.html",
    "kpis": "partials/_kpis.html",
    "feed-status": "partials/_feed_status.html",
    "funnel": "partials/_funnel.html",
    "products": "partials/_products.html",
    "hot-words": "partials/_hot_words.html",
    "hot-questions": "partials/_hot_questions.html",
    "host-messages": "partials/_host_messages.html",
    "prompter": "partials/_prompter.html",
    "run-of-show": "partials/_run_of_show.html",
    "playbooks": "partials/_playbooks.html",
    "playbook-banner": "partials/_playbook_banner.html",
    "chart-data": "partials/_chart_data.html",
    "comments": "partials/_comments.html",
}


MAX_COMMENTS_PER_PUSH = 50

# The host's second screen shows the room's numbers and cues (no comment feed, no
# alert controls); the tech screen the stream's health and the alerts.
HOST_SCREEN_PANELS = frozenset({"kpis", "host-cues", "host-messages", "prompter"})
TECH_SCREEN_PANELS = frozenset({"alerts", "feed-status", "playbooks"})
CONTROL_ROOM_PANELS = frozenset(PANELS) - {"host-cues", "host-messages", "playbooks"}
BUILTIN_CATEGORIES = [[key, label.zh_cn, label.en] for key, label in CATEGORIES.items()]
NO_ALERTS: dict[str, Any] = {"alerts": [], "markers": [], "worst_level": None, "silences": []}


async def load_room_view(
    client: aioredis.Redis, room: str, clock: Clock, *, segment_warning_s: int = 60
) -> dict[str, Any]:
    now_ms = clock.now_ms()
    windows = change_windows(now_ms)
    pipe = client.pipeline(transaction=False)
    pipe.hget(keys.checkpoint(room), "state")
    pipe.hget(keys.meta(room), "targets")
    pipe.get(keys.alerts(room))
    pipe.get(keys.LEXICON_CATEGORIES)
    pipe.get(keys.QUICK_REPLIES)
    pipe.get(keys.host_messages(room))
    pipe.get(keys.show(room))
    pipe.get(keys.playbooks(room))
    pipe.get(keys.PLAYBOOKS)
    for kind in USER_SETS:
        pipe.scard(keys.users(room, kind))
    for start, end in windows.values():
        for kind in WINDOWED_SETS:
            pipe.pfcount(*(keys.window_users(room, kind, m) for m in range(start, end, 60_000)))
    raw, targets, alerts, categories, replies, messages, show, runs, available, *counts = await pipe.execute()
    distinct = dict(zip(USER_SETS, counts[: len(USER_SETS)]))
    windowed = iter(counts[len(USER_SETS):])
    window_distinct = {name: {kind: next(windowed) for kind in WINDOWED_SETS} for name in windows}
    view = room_view(
        RoomState.from_json(raw), now_ms=now_ms, distinct=distinct, window_distinct=window_distinct,
        targets=orjson.loads(targets) if targets else None,
    )
    view["room"] = room
    view["alerts"] = orjson.loads(alerts) if alerts else NO_ALERTS
    # [key, name, name_en] of each moderation category, for the feed's filter.
    view["categories"] = orjson.loads(categories) if categories else BUILTIN_CATEGORIES
    view["quick_replies"] = orjson.loads(replies) if replies else {}
    view["host_messages"] = orjson.loads(messages) if messages else []
    view["playbooks"] = {
        "runs": orjson.loads(runs)["runs"] if runs else [],
        "available": orjson.loads(available) if available else [],
    }
    view["show"] = show_view(orjson.loads(show) if show else None, now_ms, yellow_s=segment_warning_s)
    return view


def render_panels(
    renderer: Renderer, view: dict[str, Any], locale: str, *, oob: bool, since: dict[str, Any] | None = None
) -> dict[str, str]:
    """Every panel of the room. With `since` (the view of the previous push), the comment
    feed is only the comments that are new since then, for the page to add on top."""
    panels = {
        panel: renderer.render(template, locale=locale, v=view, oob=oob)
        for panel, template in PANELS.items()
    }
    if since is not None:
        panels["comments"] = _new_comments(renderer, view, locale, since)
    return panels


def _new_comments(renderer: Renderer, view: dict[str, Any], locale: str, since: dict[str, Any]) -> str:
    seen = since["recent_comments"][0]["seq"] if since["recent_comments"] else 0
    newest = view["recent_comments"][0]["seq"] if view["recent_comments"] else 0
    if newest < seen:
        seen = 0  # the room's state was reset (a restored or emptied Redis): start over
    # Newest first; past MAX_COMMENTS_PER_PUSH (500 a second at 10 pushes a second) the
    # feed samples: nobody reads faster, and frames stay small for a hot room.
    new = [c for c in view["recent_comments"] if c["seq"] > seen][:MAX_COMMENTS_PER_PUSH]
    if not new:
        return ""
    return renderer.render("partials/_comment_items.html", locale=locale, comments=new)
