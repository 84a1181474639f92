"""Bidi controls a viewer types stay inside what they typed: a nickname ending in a
right-to-left override (U+202E) must not turn the comment after it around, neither in
the page as served nor in a comment pushed over the websocket."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.support import comment, create_user
from tests.web.test_control_room import sign_in

TEXT = "订单 123 已付款"
RLO_NAME = "abc\u202e"

# Where each character of an element's text is drawn: one rect per character (its
# first client rect: the text is short and the feed wide, so nothing wraps).
CHARACTER_BOXES = """(element) => {
  const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
  const boxes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = range.getClientRects()[0];
      if (rect) boxes.push({ch: node.data[i], left: rect.left, right: rect.right, top: rect.top});
    }
  }
  return boxes;
}"""


def _now() -> int:
    return int(time.time() * 1000)


def _assert_reads_left_to_right(item) -> None:
    """The comment's text keeps its logical order, and comes after the nickname."""
    text = item.locator(".text")
    assert text.inner_text() == TEXT
    assert item.locator(".nick").inner_text() == RLO_NAME
    boxes = text.evaluate(CHARACTER_BOXES)
    assert "".join(b["ch"] for b in boxes) == TEXT
    assert len({round(b["top"]) for b in boxes}) == 1, boxes  # one line: x order is reading order
    lefts = [b["left"] for b in boxes]
    assert lefts[0] < lefts[-1], boxes  # 订 drawn left of 款, not mirrored
    assert lefts == sorted(lefts), boxes  # every character after the one before it
    nick = item.locator(".nick").evaluate(CHARACTER_BOXES)
    assert max(b["right"] for b in nick) <= lefts[0] + 0.5, (nick, boxes)  # the nickname stays in front
    # Isolated by the markup itself, not only by the stylesheet's belt and braces.
    assert item.locator(".nick > bdi").count() == 1 and item.locator(".text > bdi").count() == 1


def test_a_right_to_left_override_in_a_nickname_does_not_reverse_the_comment(server, room, database_url, page):
    controller = create_user(database_url, role="controller", rooms=[room])
    # One comment rendered into the page, one pushed while the page is open.
    server.post_events(room, [comment("b1", TEXT, ts=_now(), user="rlo1", name=RLO_NAME)])
    server.wait_for_state(room, lambda s: s["comments"] == 1)
    sign_in(page, server, *controller, then=f"/rooms/{room}")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    feed = page.locator("#comment-feed .comment")
    expect(feed).to_have_count(1)
    _assert_reads_left_to_right(feed.first)

    server.post_events(room, [comment("b2", TEXT, ts=_now(), user="rlo2", name=RLO_NAME)])
    expect(feed).to_have_count(2)
    _assert_reads_left_to_right(feed.first)
    _assert_reads_left_to_right(feed.nth(1))
