"""Hot words: segmentation, stop words, the five-minute window."""

from __future__ import annotations

from controlroom.metrics.hotwords import words_of
from controlroom.metrics.state import MAX_WORDS_PER_MINUTE, RoomState

T0 = 1_763_700_000_000
MIN = 60_000


def comment(ts: int, text: str) -> dict:
    return {"type": "comment", "ts": ts, "user": {"id": "u"}, "text": text}


def test_words_worth_counting():
    assert words_of("这个是正品吗多少钱") == ["正品", "多少"]  # 这个 is a stop word, 是/吗/钱 single characters
    assert words_of("主播好美，已下单！！") == ["下单"]  # 主播 is a stop word
    assert words_of("2024 666 ???") == []  # digits and symbols say nothing
    assert words_of("<script>alert(1)</script>") == ["script", "alert", "script"]


def test_the_top_words_of_the_last_five_minutes():
    state = RoomState()
    state.apply([comment(T0, "什么时候发货") for _ in range(3)], {})  # 6 minutes before "now"
    state.apply([comment(T0 + 2 * MIN, "什么时候发货"), comment(T0 + 2 * MIN, "有没有优惠券"),
                 comment(T0 + 5 * MIN, "优惠券在哪里领"), comment(T0 + 6 * MIN, "正品吗")], {})
    now = T0 + 6 * MIN + 30_000
    top = dict(state.hot_words(now))
    assert top["优惠券"] == 2
    assert top["发货"] == 1  # the three of minute 0 are outside the window
    assert top["正品"] == 1
    state.prune(now)
    assert T0 not in state.word_minutes
    assert dict(RoomState.from_json(state.to_json()).hot_words(now)) == top


def test_a_flood_of_distinct_words_stays_bounded_and_new_words_still_count():
    state = RoomState()
    # Many words said twice: a trim that only dropped words said once would keep them all.
    state.apply([comment(T0, f"sku{i:05d}") for i in range(5 * MAX_WORDS_PER_MINUTE) for _ in range(2)], {})
    state.apply([comment(T0 + 1000, "退款太慢") for _ in range(50)], {})
    counts = state.word_minutes[T0]
    assert len(counts) < 2 * MAX_WORDS_PER_MINUTE
    assert counts["退款"] == 50  # a word arriving after the flood is counted
    assert state.hot_words(T0 + 1000, limit=2) == [("太慢", 50), ("退款", 50)]  # ties by word
