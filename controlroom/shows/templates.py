"""Run-of-show templates to start a script from: the shapes live-selling teams plan with
(see DOMAIN.md, "What happens in a show"). Pure; each factory returns a fresh Script.

Talk points are prompts for the host, written without absolute terms (广告法 Art. 9(3)):
【商品名】-style brackets are the places to fill in. SKUs are left empty."""

from __future__ import annotations

from collections.abc import Callable

from controlroom.shows.script import Cue, Script, Segment
from controlroom.shows.script_io import parse_duration


def _s(text: str) -> int:
    return parse_duration(text)


def _cue(at: str, text: str, audience: str = "both") -> Cue:
    return Cue(_s(at), text, audience)


def _segment(title: str, kind: str, duration: str, talk_points: str, cues: tuple[Cue, ...] = (),
             notes: str = "") -> Segment:
    return Segment(title=title, kind=kind, planned_s=_s(duration), talk_points=talk_points, notes=notes, cues=cues)


# --- 10 / 20 / 30 ----------------------------------------------------------------------
# DOMAIN.md gives the shape in minutes: "10 min hook / 20 min deep explanation / 30 min
# Q&A", so one product runs a 60-minute cycle: a 10:00 hook (opening: lucky bag and a
# first look at the product to hold the incoming traffic), a 20:00 explanation (product,
# with the four steps as cues and the link going up at 14:30) and a 30:00 Q&A (qa: the
# comments' questions answered, the link and the stock called again).

def hook_10_20_30() -> Script:
    return Script(segments=(
        _segment(
            "钩子：福利开场 + 亮品", "opening", "10:00",
            "欢迎刚进直播间的家人们，左上角点个关注，今天的福利一轮一轮给大家放。\n"
            "先给大家看一眼今天的主角【商品名】，实物就在我手上，镜头拉近看细节。\n"
            "福袋马上开，评论区打「【福袋口令】」就能参与，关注了主播才能领。\n"
            "再过几分钟正式开讲，讲完有直播间专属价，先别走开。",
            cues=(
                _cue("00:00", "欢迎新进来的家人，引导点关注", "host"),
                _cue("00:30", "开福袋", "controller"),
                _cue("01:00", "口播福袋口令", "host"),
                _cue("05:00", "看在线人数，流量掉了就加一轮福袋", "controller"),
                _cue("09:00", "倒计时：福袋开奖", "both"),
                _cue("09:30", "预告：马上讲【商品名】", "host"),
            ),
            notes="福袋 10 分钟开奖；口令提前发给主播。",
        ),
        _segment(
            "深度讲解：【商品名】", "product", "20:00",
            "功能演示：现场上手，把核心卖点演示给大家看，说清楚用的是什么材料、什么工艺。\n"
            "使用场景：上班、居家、出差各是什么样，谁适合用、谁不太适合。\n"
            "价格对比：日常售价多少，今天直播间的到手价多少，赠品有哪些，一样一样算给大家听。\n"
            "限时福利：链接上来以后只在这一轮有效，拍下备注主播名字加送赠品。",
            cues=(
                _cue("00:00", "功能演示：镜头给特写", "both"),
                _cue("05:00", "使用场景", "host"),
                _cue("10:00", "价格对比：出价格牌", "both"),
                _cue("14:00", "限时福利", "host"),
                _cue("14:30", "上链接", "controller"),
                _cue("16:00", "报库存", "host"),
                _cue("19:00", "倒计时：本轮优惠还剩 1 分钟", "both"),
            ),
            notes="14:30 上架链接；库存按实时数报，不要虚报。",
        ),
        _segment(
            "答疑：评论区问题", "qa", "30:00",
            "把评论区问得多的问题挨个回答：尺码怎么选、什么时候发货、怎么退换、优惠券在哪领。\n"
            "回答质量问题时拿出检测报告、资质证书给镜头看，只说能证实的事实。\n"
            "没拍到的家人提醒一下还有少量库存，拍下尽快付款。\n"
            "答疑中间穿插福袋，留住刚进来的家人。",
            cues=(
                _cue("00:00", "场控汇总评论区高频问题发给主播", "controller"),
                _cue("05:00", "报库存", "host"),
                _cue("10:00", "开福袋", "controller"),
                _cue("15:00", "返场：再上链接", "controller"),
                _cue("20:00", "报库存", "host"),
                _cue("25:00", "倒计时：本轮福利还剩 5 分钟", "both"),
                _cue("29:00", "预告下一轮商品", "host"),
            ),
        ),
    ))


# --- hourly ¥9.9 flash sale ------------------------------------------------------------
# DOMAIN.md: "every hour three ¥9.9 flash-sale items with a countdown". One at the top of
# the hour and at :20 and :40, each followed by a 12-minute product segment and a
# 3-minute interaction, so that an interaction sits between every two products.

def _flash_sale(number: int) -> Segment:
    return _segment(
        f"¥9.9 秒杀 {number} 号品", "flash_sale", "05:00",
        "整点福利来了！这一款今天直播间只要 9.9 元，数量有限，拼手速。\n"
        "还没点关注的家人先点关注，倒计时结束马上上链接。\n"
        "拍到的家人扣「已拍」，没拍到的别急，后面还有秒杀，留在直播间。",
        cues=(
            _cue("00:00", "预告秒杀：9.9 元，准备倒计时", "host"),
            _cue("00:30", "倒计时 10 秒", "both"),
            _cue("00:40", "上链接", "controller"),
            _cue("01:30", "报库存", "host"),
            _cue("03:30", "倒计时：秒杀还剩 1 分钟", "both"),
            _cue("04:30", "下链接", "controller"),
        ),
        notes="秒杀库存提前设好；链接上架后报剩余件数。",
    )


def _product(letter: str) -> Segment:
    return _segment(
        f"讲品：{letter} 款【商品名】", "product", "12:00",
        "先做功能演示，再讲使用场景，然后算一算价格：日常价、直播间到手价、赠品。\n"
        "链接上来以后提醒家人看好规格再拍，有问题在评论区问。",
        cues=(
            _cue("00:00", "功能演示", "host"),
            _cue("08:00", "上链接", "controller"),
            _cue("09:00", "报库存", "host"),
            _cue("11:00", "倒计时：本款优惠还剩 1 分钟", "both"),
        ),
    )


def _interaction(title: str, talk_points: str, cues: tuple[Cue, ...]) -> Segment:
    return _segment(title, "interaction", "03:00", talk_points, cues=cues)


def flash_sale_hourly() -> Script:
    return Script(segments=(
        _flash_sale(1),
        _product("A"),
        _interaction(
            "互动：福袋", "福袋来了，评论区打「【福袋口令】」参与，3 分钟开奖。\n顺手点个关注，开奖只给关注的家人。",
            (_cue("00:00", "开福袋", "controller"), _cue("00:10", "口播福袋口令", "host"),
             _cue("02:30", "倒计时：福袋开奖", "both")),
        ),
        _flash_sale(2),
        _product("B"),
        _interaction(
            "互动：点赞抽奖", "点赞到【目标点赞数】抽 5 位家人送【赠品】，评论区说说你想要哪个颜色。",
            (_cue("00:00", "报点赞数和抽奖规则", "host"), _cue("02:00", "截图抽奖", "controller"),
             _cue("02:40", "公布中奖名单", "host")),
        ),
        _flash_sale(3),
        _product("C"),
        _interaction(
            "互动：福袋 + 下小时预告", "再开一轮福袋，同时预告下一个整点的 9.9 元秒杀，提醒家人定好闹钟。",
            (_cue("00:00", "开福袋", "controller"), _cue("01:00", "预告下小时秒杀", "host"),
             _cue("02:30", "倒计时：整点秒杀马上开始", "both")),
        ),
    ))


# --- the four-step product block -------------------------------------------------------
# DOMAIN.md: 功能演示 → 使用场景 → 价格对比 → 限时福利, one segment per step, each with a
# cue at its start; 11 minutes in all, the offer step the longest (link, stock, countdown).

PRODUCT_BLOCK_STEPS = ("功能演示", "使用场景", "价格对比", "限时福利")


def product_block() -> Script:
    return Script(segments=(
        _segment(
            "功能演示", "product", "03:00",
            "拿出【商品名】当场演示：打开、上手、近景给细节。\n"
            "讲清楚它解决什么问题、用了什么材料，有检测报告的拿给镜头看。",
            cues=(_cue("00:00", "功能演示：镜头切特写", "both"), _cue("02:30", "引导评论区扣「想要」", "host")),
        ),
        _segment(
            "使用场景", "product", "03:00",
            "描述两三个日常场景：早上通勤、居家、旅行时怎么用。\n"
            "说说适合什么人、不适合什么人，让家人对号入座。",
            cues=(_cue("00:00", "使用场景：切场景展示", "host"),),
        ),
        _segment(
            "价格对比", "product", "02:00",
            "先报日常售价，再报直播间到手价，赠品逐件摆出来。\n"
            "算清楚每件、每次使用合多少钱，只报真实可查的价格。",
            cues=(_cue("00:00", "价格对比：出价格牌", "both"), _cue("01:30", "提醒准备上链接", "controller")),
        ),
        _segment(
            "限时福利", "product", "03:00",
            "福利只在这一轮：拍下加送【赠品】，前【数量】单再减【金额】元。\n"
            "链接已经上了，看好规格再拍，拍完记得付款。库存不多，以页面显示为准。",
            cues=(
                _cue("00:00", "限时福利：报福利内容", "host"),
                _cue("00:15", "上链接", "controller"),
                _cue("01:30", "报库存", "host"),
                _cue("02:30", "倒计时：福利还剩 30 秒", "both"),
            ),
        ),
    ))


TEMPLATES: dict[str, tuple[str, str, Callable[[], Script]]] = {
    "hook_10_20_30": ("10/20/30 钩子-讲解-答疑", "10/20/30 hook, explanation, Q&A", hook_10_20_30),
    "flash_sale_hourly": ("整点 ¥9.9 秒杀（每小时）", "Hourly ¥9.9 flash sale", flash_sale_hourly),
    "product_block": ("四步讲品（功能演示→使用场景→价格对比→限时福利）",
                      "Four-step product block (demo, scene, price, offer)", product_block),
}
