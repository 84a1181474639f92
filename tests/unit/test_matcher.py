"""Comment matcher: evasions still hit, hits point at what the viewer typed, the
allow-list spares harmless phrases only, and the default lexicon is sound."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from controlroom.moderation.lexicon import CATEGORIES, Term, default_allow, default_terms
from controlroom.moderation.matcher import (
    _BATCH_SEPARATOR,
    Hit,
    Matcher,
    _batch_fold,
    default_matcher,
)
from controlroom.moderation.normalise import normalise, translation_table


def spans(matcher: Matcher, text: str) -> list[tuple[str, str]]:
    """(what the viewer typed, lexicon term) per hit: what a moderator sees highlighted."""
    return [(hit.text_original, hit.term) for hit in matcher.scan(text)]


@pytest.mark.parametrize("typed", [
    "假货", "假 货", "假*货", "假.货", "假  货", "假　货", "假-_-货", "假😀货", "假\u200b货",
    "假\u0336货", "假󠄀货", "假貨", "假 * 貨",
])
def test_each_way_of_dodging_still_hits_and_reports_what_was_typed(typed):
    hits = default_matcher().scan(f"这是{typed}吧")
    assert hits == [Hit(2, 2 + len(typed), typed, "假货", "doubt", 3)]


def test_hit_offsets_point_into_the_original_comment():
    text = "这是假 *货吧"
    [hit] = default_matcher().scan(text)
    assert (hit.start, hit.end) == (2, 6)
    assert text[hit.start:hit.end] == hit.text_original == "假 *货"


def test_offsets_count_emoji_before_the_hit_as_single_characters():
    text = "😀👨‍👩‍👧 退款!!"
    [hit] = default_matcher().scan(text)
    assert text[hit.start:hit.end] == "退款"
    assert hit.start == 7


def test_full_width_and_case_are_folded_for_terms_and_comments():
    matcher = Matcher.build([Term("ABC", "brand", 2)])
    assert spans(matcher, "买ＡＢＣ的") == [("ＡＢＣ", "ABC")]
    assert spans(matcher, "abc和Abc") == [("abc", "ABC"), ("Abc", "ABC")]
    assert spans(default_matcher(), "国货ＮＯ．１，100％有效") == [("ＮＯ．１", "no.1"), ("100％有效", "100%有效")]


def test_traditional_characters_hit_simplified_terms_and_the_other_way_round():
    assert spans(default_matcher(), "這是騙人的假貨") == [("騙人", "骗人"), ("假貨", "假货")]
    traditional_term = Matcher.build([Term("發錯貨", "after_sale", 2)])
    assert spans(traditional_term, "又发错货了") == [("发错货", "發錯貨")]


def test_an_expanding_character_maps_back_to_the_one_the_viewer_typed():
    matcher = Matcher.build([Term("10件", "brand", 1)])
    assert spans(matcher, "买⑩件") == [("⑩件", "10件")]


def test_digits_survive_and_percent_is_significant():
    matcher = default_matcher()
    assert spans(matcher, "去3·15曝光你") == [("3·15", "315"), ("曝光", "曝光")]
    assert spans(matcher, "打12315") == [("12315", "12315")]
    assert spans(matcher, "100块一件") == []  # "100%" must not turn every price into a hit


def test_the_allow_list_spares_a_harmless_phrase_but_not_a_real_hit_in_the_same_comment():
    matcher = default_matcher()
    assert spans(matcher, "第一次来") == []
    assert spans(matcher, "第一次来，销量第一吗") == [("销量第一", "销量第一")]
    assert spans(matcher, "第一次买，第一名的牌子") == [("第一", "第一")]
    assert spans(matcher, "买个垃圾袋") == []
    assert spans(matcher, "垃圾袋也是垃圾") == [("垃圾", "垃圾")]
    assert spans(matcher, "100%纯棉的吗") == []
    assert spans(matcher, "100%纯棉？100%有效？") == [("100%有效", "100%有效")]


def test_allow_phrases_are_folded_like_comments():
    matcher = Matcher.build([Term("最", "absolute", 1)], allow=["最近", "最後"])
    assert spans(matcher, "最 近很火，最後一件，最便宜") == [("最", "最")]
    assert matcher.scan("最 近很火，最後一件，最便宜")[0].start == 11


def test_a_hit_that_only_starts_inside_an_allow_phrase_is_kept():
    matcher = Matcher.build([Term("第一", "absolute", 1), Term("次品", "doubt", 2)], allow=["第一次"])
    assert spans(matcher, "第一次品") == [("次品", "次品")]


def test_leftmost_longest_reports_one_hit_for_the_longest_term():
    matcher = default_matcher()
    assert spans(matcher, "全网最低价") == [("全网最低价", "全网最低价")]
    assert spans(matcher, "是最低价吗") == [("最低价", "最低价")]
    assert spans(matcher, "还不发货") == [("还不发货", "还不发货")]


def test_hits_come_in_order_and_never_overlap():
    hits = default_matcher().scan("假货！还不发货，我要投诉，退款，假货")
    assert [hit.term for hit in hits] == ["假货", "还不发货", "投诉", "退款", "假货"]
    assert all(earlier.end <= later.start for earlier, later in zip(hits, hits[1:]))


def test_categories_count_hits_per_category():
    matcher = default_matcher()
    text = "假货！还不发货，我要投诉，退款，假货"
    assert matcher.categories(text) == {"doubt": 2, "after_sale": 2, "complaint": 1}
    assert matcher.categories("主播好美") == {}
    assert matcher.categories("第一次来") == {}


def test_categories_many_agrees_with_categories_comment_by_comment():
    matcher = default_matcher()
    texts = ["假 货", "", "第一次来", "全网最低价，退款", "😀", "第一次来\x00假货", "垃圾袋", "垃圾"] * 3
    assert matcher.categories_many(texts) == [matcher.categories(text) for text in texts]
    assert matcher.categories_many([]) == []


# Comments that exercise every path of the batch scan: evasions of every kind, hits at the
# very start and end of a comment and of the batch, allow-listed phrases around hits,
# characters that expand (⑩ → 10) or lie beyond the BMP, emoji, empty comments, and
# comments whose end and the next one's start would make a term if joined.
VARIED_COMMENTS = [
    "假货", "这是假 *货吧", "假😀货", "假\u200b货！", "這是騙人的假貨", "国货ＮＯ．１，100％有效", "", "   ",
    "😀👨‍👩‍👧 退款!!", "第一次来", "第一次来，销量第一吗", "第一次买，第一名的牌子", "垃圾袋也是垃圾",
    "100%纯棉？100%有效？", "全网最低价", "假货！还不发货，我要投诉，退款，假货", "去3·15曝光你", "打12315",
    "😀", "👨‍👩‍👧❤️🔥", "！？。…", "\u200b\u200d", "真假", "货到了吗", "假！", "！货", "假", "货",
    "<img src=x onerror=\"alert(1)\">假货</script>", "Ｈello 假　货 ＷＯＲＬＤ", "𠀀假货𠀀", "假𝐀货",
    "主播好美", "多少钱，什么时候发货？", "最低价" * 5, "骗子" + "😀" * 40 + "骗子",
]


def test_scan_many_agrees_with_scan_comment_by_comment():
    matcher = default_matcher()
    texts = VARIED_COMMENTS * 3
    assert matcher.scan_many(texts) == [matcher.scan(text) for text in texts]
    assert any(matcher.scan_many(texts)) and not all(matcher.scan_many(texts))


def test_scan_many_reports_hits_at_the_edges_of_comments_and_of_the_batch():
    matcher = default_matcher()
    texts = ["假货", "假货，真的", "真的，假货", "假货"]
    assert [[(hit.start, hit.end, hit.text_original) for hit in hits]
            for hits in matcher.scan_many(texts)] == \
        [[(0, 2, "假货")], [(0, 2, "假货")], [(3, 5, "假货")], [(0, 2, "假货")]]


def test_an_expanding_character_maps_back_in_a_batch_too():
    matcher = Matcher.build([Term("10件", "brand", 1), Term("假货", "doubt", 3)])
    texts = ["买⑩件", "⑩假货", "假货⑩件", "假 货，买⑩件", "买10件"]
    assert matcher.scan_many(texts) == [matcher.scan(text) for text in texts]
    assert [hit.text_original for hits in matcher.scan_many(texts) for hit in hits] == \
        ["⑩件", "假货", "假货", "⑩件", "假 货", "⑩件", "10件"]


def test_no_comment_of_a_batch_leaks_a_match_into_its_neighbour():
    matcher = default_matcher()
    # Joined without a separator these would read 假货, 假货 and 退款.
    texts = ["真假", "货到了", "假！", "！货", "退", "款"]
    assert matcher.scan_many(texts) == [[] for _ in texts]
    assert matcher.categories_many(texts) == [{} for _ in texts]


def test_a_comment_containing_the_batch_separator_is_scanned_like_any_other():
    matcher = default_matcher()
    texts = ["假\x00货", "假\x00", "\x00货", "退款\x00", _BATCH_SEPARATOR * 3, "第一次来\x00假货"]
    assert matcher.scan_many(texts) == [matcher.scan(text) for text in texts]
    assert [hit.text_original for hit in matcher.scan_many(texts)[0]] == ["假\x00货"]
    assert matcher.categories_many(texts) == [matcher.categories(text) for text in texts]


def test_scan_many_gives_every_comment_a_list_of_its_own():
    results = default_matcher().scan_many(["主播好美", "", "多少钱"])
    assert results == [[], [], []]
    assert len({id(hits) for hits in results}) == 3


def test_scan_many_of_an_empty_batch_or_with_an_empty_lexicon():
    assert default_matcher().scan_many([]) == []
    assert Matcher.build([]).scan_many(["假货", ""]) == [[], []]


def test_scan_many_finds_a_term_around_any_character_at_the_right_offsets():
    """Every 61st code point (the BMP and beyond), before, inside and after a hit."""
    matcher = Matcher.build([Term("假货", "doubt", 3)])
    texts = [template.format(chr(code_point)) for code_point in range(1, 0x110000, 61)
             for template in ("{0}假{0}货{0}", "假货{0}", "{0}假货")]
    assert matcher.scan_many(texts) == [matcher.scan(text) for text in texts]


def test_the_batch_fold_is_the_fold_of_every_code_point():
    """The batch paths fold a whole batch at once (``_BatchFold``); for every code point it
    must give what folding each comment on its own gives, and never the separator."""
    table = translation_table()
    every = "".join(map(chr, range(1, 0x110000)))
    assert _BATCH_SEPARATOR not in every.translate(table)
    texts = [every[start:start + 37] for start in range(0, len(every), 37)]
    assert _batch_fold()(texts) == \
        _BATCH_SEPARATOR.join(text.translate(table) for text in texts).encode()


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "👨‍👩‍👧❤️🔥", "！？。…", "\u200b\u200d"])
def test_an_empty_or_emoji_only_comment_has_no_hits(text):
    matcher = default_matcher()
    assert matcher.scan(text) == []
    assert matcher.categories(text) == {}


def test_a_hostile_html_comment_is_just_text():
    text = '<img src=x onerror="alert(1)">假货</script><script>'
    [hit] = default_matcher().scan(text)
    assert text[hit.start:hit.end] == hit.text_original == "假货"
    assert default_matcher().scan("<script>alert(document.cookie)</script>") == []


@pytest.mark.parametrize("severities", [(1, 3), (3, 1)])
def test_terms_folding_to_the_same_text_keep_the_higher_severity(severities):
    matcher = Matcher.build([Term("假貨", "doubt", severities[0]), Term("假 货", "doubt", severities[1])])
    assert len(matcher.terms) == 1
    assert [hit.severity for hit in matcher.scan("假货")] == [3]


@pytest.mark.parametrize("term", ["* *", "😀", "！！"])
def test_a_term_that_folds_to_nothing_is_refused_by_name(term):
    with pytest.raises(ValueError, match=re.escape(repr(term))):
        Matcher.build([Term("假货", "doubt", 3), Term(term, "abuse", 2)])


def test_an_empty_lexicon_matches_nothing():
    matcher = Matcher.build([])
    assert matcher.scan("假货") == []
    assert matcher.categories("假货") == {}
    assert matcher.categories_many(["假货"]) == [{}]


def test_the_matcher_cannot_be_changed_after_build():
    matcher = Matcher.build([Term("假货", "doubt", 3)])
    with pytest.raises(AttributeError):
        matcher._terms = ()  # type: ignore[misc]
    assert default_matcher() is default_matcher()


def test_term_severity_is_one_to_three():
    with pytest.raises(ValueError, match="severity"):
        Term("假货", "doubt", 4)


def test_the_default_lexicon_covers_every_category_without_shadowed_terms():
    terms = default_terms()
    per_category = Counter(term.category for term in terms)
    assert set(per_category) == set(CATEGORIES)
    assert all(count >= 24 for count in per_category.values()), per_category
    folded = Counter(normalise(term.text) for term in terms)
    assert [text for text, count in folded.items() if count > 1] == []
    assert "最" not in folded  # it would hit 最近 and 最后 everywhere
    assert all(normalise(phrase) for phrase in default_allow())
