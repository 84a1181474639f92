"""Text typed by viewers (and free text typed by staff) is isolated for bidirectional
rendering: each piece sits in its own <bdi>, so a right-to-left override (U+202E) or
another bidi control in a nickname cannot reorder the comment after it."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from zoneinfo import ZoneInfo

from controlroom.web.render import Renderer, highlight

RLO = "\u202e"
NICK = f"<b>坏{RLO}</b>"
TEXT = "订单 123 已付款"
HIT_TEXT = "这是假货吗"  # 假货 (2..4) marked as a moderation hit
TS = 1_763_700_000_000


class _Pieces(HTMLParser):
    """Each run of text with the elements it sits in, outermost first, as (tag, class)."""

    VOID = {"input", "br", "img", "meta", "link", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, str]] = []
        self.pieces: list[tuple[str, tuple[tuple[str, str], ...]]] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append((tag, dict(attrs).get("class") or ""))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert tag in [t for t, _ in self.stack], (tag, self.stack)
        while self.stack.pop()[0] != tag:  # an <option> or <li> may end without its end tag
            pass

    def handle_data(self, data):
        if data.strip():
            self.pieces.append((data, tuple(self.stack)))


def _pieces(html: str) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    parser = _Pieces()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], parser.stack
    return parser.pieces


def _isolated(html: str, text: str, *, inside: str | None = None) -> int:
    """How many times `text` is rendered; every time within a <bdi> (below the element of
    class `inside`, when given) that holds nothing but that text."""
    found = 0
    for data, ancestors in _pieces(html):
        if text not in data:
            continue
        found += 1
        tags = [tag for tag, _ in ancestors]
        assert "bdi" in tags, (text, ancestors)
        if inside is not None:
            holder = next(i for i, (_, cls) in enumerate(ancestors) if inside in cls.split())
            assert "bdi" in tags[holder + 1:], (text, ancestors)
    return found


def _comments() -> list[dict]:
    return [
        {"seq": 2, "ts": TS + 1, "user": "u2", "name": NICK, "text": HIT_TEXT, "hits": [(2, 4, "doubt")]},
        {"seq": 1, "ts": TS, "user": "u1", "name": NICK, "text": TEXT, "hits": []},
    ]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(tz=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_a_comment_has_its_nickname_and_its_text_each_in_a_bdi(renderer, locale):
    for c in _comments():
        html = renderer.render("partials/_comment.html", locale=locale, c=c)
        assert _isolated(html, "坏" + RLO, inside="nick") == 1
        assert "<b>" not in html and "&lt;b&gt;" in html  # still escaped
        for piece in (TEXT,) if c["seq"] == 1 else ("这是", "假货", "吗"):
            assert _isolated(html, piece, inside="text") == 1, piece
        # The nickname's <bdi> is closed before the comment's text starts.
        assert html.index("</bdi></span> <span class=\"text\"><bdi>") < html.index(c["text"][:2])


def test_the_highlight_marks_sit_inside_the_comments_bdi(renderer):
    html = renderer.render("partials/_comment.html", locale="zh_CN", c=_comments()[0])
    assert '<span class="text"><bdi>这是<mark class="hit" data-category="doubt">假货</mark>吗</bdi></span>' in html
    assert "<bdi" not in str(highlight(HIT_TEXT, [(2, 4, "doubt")]))  # the filter itself adds none


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
def test_the_feed_and_a_push_isolate_every_comment(renderer, locale):
    comments = _comments()
    feed = renderer.render("partials/_comments.html", locale=locale, oob=False,
                           v=SimpleNamespace(categories=[["doubt", "质疑产品", "Product doubt"]], recent_comments=comments))
    push = renderer.render("partials/_comment_items.html", locale=locale, comments=comments)
    for html in (feed, push):
        assert _isolated(html, "坏" + RLO, inside="nick") == 2
        assert _isolated(html, TEXT, inside="text") == 1
        assert _isolated(html, "假货", inside="text") == 1
        assert html.count("<bdi>") == 4


def test_hot_words_questions_and_staff_text_are_isolated_too(renderer):
    message = {"id": 1, "text": f"看镜头{RLO}", "source": "manual", "sent_by": "c", "sent_at": TS, "urgent": True}
    v = SimpleNamespace(
        room="r1", show=None, hot_words=[(f"假货{RLO}", 3)],
        hot_questions=[{"group": "price", "count": 2, "examples": [f"多少钱{RLO}"]}],
        quick_replies={"price": [[1, f"点小黄车{RLO}"]]}, host_messages=[message],
        playbooks={"runs": [{
            "id": 3, "key": "k", "name": "断流", "name_en": "", "level": "red", "status": "running",
            "started_at": TS, "started_by": "tech", "ended_at": None, "late": 0, "done": 0, "steps": [],
            "notes": [{"at": TS, "by": f"tech{RLO}", "text": f"备用机{RLO}"}],
        }], "available": []},
    )
    render = lambda partial: renderer.render(partial, locale="zh_CN", v=v, oob=False)  # noqa: E731
    assert _isolated(render("partials/_hot_words.html"), f"假货{RLO}", inside="word") == 1
    questions = render("partials/_hot_questions.html")
    assert _isolated(questions, f"多少钱{RLO}", inside="examples") == 1
    assert _isolated(questions, f"点小黄车{RLO}", inside="reply-text") == 1
    assert _isolated(render("partials/_host_messages.html"), f"看镜头{RLO}", inside="host-message") == 1
    assert _isolated(render("partials/_run_of_show.html"), f"看镜头{RLO}", inside="sent-messages") == 1
    notes = render("partials/_playbooks.html")
    assert _isolated(notes, f"tech{RLO}", inside="run-notes") == 1
    assert _isolated(notes, f"备用机{RLO}", inside="run-notes") == 1
