"""Hot questions: viewers' questions grouped over the last five minutes (fake clock)."""

from __future__ import annotations

import itertools

from controlroom.metrics.state import RoomState
from controlroom.moderation.live import default_tagger

START = 1_763_700_000_000 - 1_763_700_000_000 % 60_000
_ids = itertools.count()


def ask(state: RoomState, at_s: float, *texts: str) -> None:
    state.apply(
        [{"id": f"q{next(_ids)}", "type": "comment", "ts": START + int(at_s * 1000), "user": {"id": "u"}, "text": t}
         for t in texts],
        {}, default_tagger(),
    )


def test_questions_are_grouped_and_counted_most_asked_first():
    state = RoomState()
    ask(state, 0, "这个多少钱", "3号链接怎么拍？", "什么时候发货", "主播好美", "有没有优惠券", "多少钱啊")
    groups = {g: (count, examples) for g, count, examples in state.hot_questions(START + 10_000)}
    assert [g for g, _, _ in state.hot_questions(START + 10_000)] == ["price", "coupon", "shipping"]
    assert groups["price"] == (3, ["多少钱啊", "3号链接怎么拍？", "这个多少钱"])  # newest first
    assert "主播好美" not in str(groups)


def test_a_topic_counts_only_in_a_question():
    state = RoomState()
    ask(state, 0, "价格不错", "快递很快", "价格呢", "快递几天到？")
    assert {g: c for g, c, _ in state.hot_questions(START + 1000)} == {"price": 1, "shipping": 1}


def test_questions_older_than_five_minutes_drop_out():
    state = RoomState()
    ask(state, 0, "多少钱")
    ask(state, 250, "尺码怎么选", "选几码")
    assert {g: c for g, c, _ in state.hot_questions(START + 260_000)} == {"price": 1, "size": 2}
    assert {g: c for g, c, _ in state.hot_questions(START + 301_000)} == {"size": 2}


def test_question_words_are_not_moderation_hits():
    state = RoomState()
    ask(state, 0, "是正品吗？多少钱")
    assert state.recent_comments[-1]["hits"] == []
    assert state.category_hits == {}


def test_hot_questions_survive_a_checkpoint():
    state = RoomState()
    ask(state, 0, "多少钱", "包邮吗")
    restored = RoomState.from_json(state.to_json())
    assert restored.hot_questions(START + 1000) == state.hot_questions(START + 1000)
