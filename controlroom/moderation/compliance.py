"""Host-script compliance: talk points checked against the absolute-term category, each
hit with the rule it breaks and a neutral wording to say instead; and during the show,
the correction cue for a line staff flag (SOP 15). Pure."""

from __future__ import annotations

from dataclasses import dataclass

from controlroom.moderation.matcher import Matcher

# What an absolute term breaks (and the guide that spells it out).
ABSOLUTE_RULE = "《广告法》第九条第（三）项：不得使用“国家级”“最高级”“最佳”等用语（市场监管总局《广告绝对化用语执法指南》2023）"

# Neutral wordings for the commonest absolute terms; others by their family below.
WORDINGS = {
    "最低价": "优惠价 / 到手价", "全网最低": "很优惠", "全网最低价": "直播间优惠价", "史上最低价": "今天的优惠价",
    "最便宜": "很实惠", "全网最便宜": "很实惠", "最佳": "很好", "最好": "很好", "最优": "优选", "最强": "很强",
    "最先进": "先进", "最权威": "专业", "最专业": "专业", "最正宗": "正宗", "最有效": "有效", "最安全": "安全可靠",
    "最畅销": "热销", "最受欢迎": "很受欢迎", "最热销": "热销", "最火": "很火", "最实惠": "很实惠",
    "最划算": "很划算", "最超值": "超值", "顶级": "高品质", "顶尖": "优秀", "极品": "精选", "极致": "精心",
    "万能": "多用途", "百分百": "高度", "100%": "高度", "100%有效": "有效（以实际效果为准）", "首选": "推荐",
    "国家级": "（删去）", "世界级": "（删去）", "最高级": "高级", "独一无二": "很有特色", "无与伦比": "出色",
    "销量第一": "热销", "全网第一": "热门", "全国第一": "热门", "世界第一": "出色", "行业第一": "行业领先之一",
    "第一品牌": "知名品牌", "遥遥领先": "领先", "王牌": "主推", "销冠": "热销款", "史上最强": "很强",
}


def suggest_wording(term: str) -> str:
    if term in WORDINGS:
        return WORDINGS[term]
    if term.startswith("最"):
        return "很" + term[1:]
    if "第一" in term:
        return "热销 / 领先之一"
    if term.startswith("首"):
        return "推荐"
    return "（换成可证实的具体描述）"


@dataclass(frozen=True)
class ScriptHit:
    start: int
    end: int
    text: str  # as written in the script
    term: str
    severity: int
    rule: str
    suggestion: str


def check_script(text: str, matcher: Matcher, suggestions: dict[str, str] | None = None) -> list[ScriptHit]:
    """Absolute terms in a talk point, in order, with what to say instead (the team's
    own suggestion for the term if the lexicon has one)."""
    suggestions = suggestions or {}
    return [
        ScriptHit(
            start=hit.start, end=hit.end, text=text[hit.start:hit.end], term=hit.term, severity=hit.severity,
            rule=ABSOLUTE_RULE, suggestion=suggestions.get(hit.term) or suggest_wording(hit.term),
        )
        for hit in matcher.scan(text)
        if hit.category == "absolute"
    ]


# A flagged line is one sentence said on air (or a comment quoting it), not a script.
MAX_FLAGGED_LINE = 300
QUOTED_CHARS = 40


def correction_cue(line: str, hits: list[ScriptHit]) -> str:
    """What the host reads when staff flag a line said on air: each absolute term with
    its neutral wording, and that the audience should hear the correction; with no term
    the lexicon knows, the line itself and a plain request to restate it. Chinese, as it
    is said on air and the wordings are Chinese."""
    pairs: dict[str, str] = {}
    for hit in hits:
        pairs.setdefault(hit.text, hit.suggestion)
    if pairs:
        fixes = "；".join(f"“{said}”改说“{instead}”" for said, instead in pairs.items())
        return f"合规更正：刚才{fixes}，请向观众更正。"
    quoted = line if len(line) <= QUOTED_CHARS else line[: QUOTED_CHARS - 1] + "…"
    return f"合规更正：请更正刚才的说法“{quoted}”，换成可证实的具体描述。"

