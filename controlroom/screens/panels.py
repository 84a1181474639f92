"""The panel registry: each live panel of a room, the partial that renders it, and the
screens that show it. A partial renders the same for the page, an htmx response and a
websocket push (with `oob=True`); its root element carries the panel id.

Adding a live panel: declare its projection (controlroom/live/projections.py) if it
shows SQL state, write its partial, add one line here. A panel not `placed` by a page's
layout is shown at the end of each of its screens.
"""

from __future__ import annotations

from dataclasses import dataclass

from controlroom.live.view import RoomView
from controlroom.metrics.view import changed_points
from controlroom.web.render import Renderer

CONTROL_ROOM = "control-room"
HOST = "host"
TECH = "tech"


@dataclass(frozen=True)
class Panel:
    partial: str
    screens: frozenset[str]
    # The pages' layouts place the built-in panels themselves.
    placed: bool = False


def _panel(partial: str, *screens: str, placed: bool = True) -> Panel:
    return Panel(partial, frozenset(screens), placed)


PANELS: dict[str, Panel] = {
    "alerts": _panel("partials/_alerts.html", CONTROL_ROOM, TECH),
    "host-cues": _panel("partials/_host_cues.html", HOST),
    "kpis": _panel("partials/_kpis.html", CONTROL_ROOM, HOST),
    "feed-status": _panel("partials/_feed_status.html", CONTROL_ROOM, TECH),
    "connectors": _panel("partials/_connectors.html", TECH),
    "funnel": _panel("partials/_funnel.html", CONTROL_ROOM),
    "traffic": _panel("partials/_traffic.html", CONTROL_ROOM),
    "products": _panel("partials/_products.html", CONTROL_ROOM),
    "hot-words": _panel("partials/_hot_words.html", CONTROL_ROOM),
    "hot-questions": _panel("partials/_hot_questions.html", CONTROL_ROOM),
    "host-messages": _panel("partials/_host_messages.html", HOST),
    "prompter": _panel("partials/_prompter.html", CONTROL_ROOM, HOST),
    "run-of-show": _panel("partials/_run_of_show.html", CONTROL_ROOM),
    "playbooks": _panel("partials/_playbooks.html", TECH),
    "playbook-banner": _panel("partials/_playbook_banner.html", CONTROL_ROOM),
    "chart-data": _panel("partials/_chart_data.html", CONTROL_ROOM),
    "comments": _panel("partials/_comments.html", CONTROL_ROOM),
}

# 200 comments a second at 10 pushes a second: more than anyone reads.
MAX_COMMENTS_PER_PUSH = 20


def screen_panels(screen: str) -> frozenset[str]:
    return frozenset(name for name, panel in PANELS.items() if screen in panel.screens)


def unplaced_panels(screen: str) -> list[tuple[str, str]]:
    """(panel id, partial) of the screen's panels that its page layout does not place."""
    return [(name, panel.partial) for name, panel in PANELS.items() if screen in panel.screens and not panel.placed]


def render_panels(
    renderer: Renderer, view: RoomView, locale: str, *, oob: bool, appending: bool = False,
    since: RoomView | None = None,
) -> dict[str, str]:
    """Every panel of the room. `appending` (a push): the comment feed is only the
    comments that are new since `since` (the view of the previous push; None: from
    nothing), for the page to add on top."""
    pushed_apart = {"comments", "chart-data"} if appending and since is not None else set()
    panels = {name: renderer.render(panel.partial, locale=locale, v=view, oob=oob)
              for name, panel in PANELS.items() if name not in pushed_apart}
    if appending:
        panels["comments"] = _new_comments(renderer, view, locale, since)
    if "chart-data" in pushed_apart:
        # The charts keep every minute they were given: a push carries only the minutes
        # that are new or changed (a long show's series would otherwise ride every frame).
        panels["chart-data"] = renderer.render(PANELS["chart-data"].partial, locale=locale, v=view, oob=oob,
                                               series=changed_points(since.series, view.series))
    return panels


def _new_comments(renderer: Renderer, view: RoomView, locale: str, since: RoomView | None) -> str:
    seen = since.recent_comments[0]["seq"] if since is not None and since.recent_comments else 0
    newest = view.recent_comments[0]["seq"] if view.recent_comments else 0
    if newest < seen:
        seen = 0  # the room's state was reset (a restored or emptied Redis): start over
    new = [c for c in view.recent_comments if c["seq"] > seen]
    if not new:
        return ""
    return renderer.render("partials/_comment_items.html", locale=locale, comments=feed_sample(new))


def feed_sample(new: list[dict]) -> list[dict]:
    """At most MAX_COMMENTS_PER_PUSH of the comments new since the last push (newest
    first): past that nobody reads them, and every screen's frame would carry them. The
    sample keeps the comments that hit a category (questions, complaints, banned words)
    first, then the newest of the rest; the feed stays in arrival order."""
    if len(new) <= MAX_COMMENTS_PER_PUSH:
        return new
    flagged = [c for c in new if c.get("hits")][:MAX_COMMENTS_PER_PUSH]
    kept = {c["seq"] for c in flagged}
    kept.update(c["seq"] for c in [c for c in new if not c.get("hits")][:MAX_COMMENTS_PER_PUSH - len(flagged)])
    return [c for c in new if c["seq"] in kept]
