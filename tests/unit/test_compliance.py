"""Talk points against the absolute terms: each hit where it stands, with its rule and
something to say instead."""

from __future__ import annotations

from controlroom.moderation.compliance import ABSOLUTE_RULE, check_script, suggest_wording
from controlroom.moderation.live import default_matcher_and_suggestions

MATCHER, _ = default_matcher_and_suggestions()


def test_each_absolute_term_is_found_with_its_rule_and_a_neutral_wording():
    script = "这款是全网最低价，国家级工艺，买它！"
    hits = check_script(script, MATCHER)
    assert [(h.text, script[h.start:h.end]) for h in hits] == [("全网最低价", "全网最低价"), ("国家级", "国家级")]
    assert all(h.rule == ABSOLUTE_RULE and "广告法" in h.rule for h in hits)
    assert hits[0].suggestion == "直播间优惠价"
    assert hits[1].suggestion == "（删去）"


def test_evasions_in_a_script_are_found_on_the_original_text():
    script = "效果 最 好 的面霜"
    (hit,) = check_script(script, MATCHER)
    assert hit.text == "最 好" and hit.suggestion == "很好"


def test_only_the_absolute_category_counts_and_the_team_suggestion_wins():
    script = "不是假货，销量第一"
    hits = check_script(script, MATCHER, {"销量第一": "卖得很好"})
    assert [(h.term, h.suggestion) for h in hits] == [("销量第一", "卖得很好")]


def test_families_without_a_listed_wording_still_get_advice():
    assert suggest_wording("最耐用") == "很耐用"
    assert "领先" in suggest_wording("品类第一")
