"""A seeded simulation of a live-commerce show that produces canonical events.

Pure: no I/O, no clock and no global random state. Time is passed in, so tests drive it
by hand and the runner (`controlroom.sim.runner`) drives it from the wall clock.
Events are generated one second of show time at a time and handed out by timestamp, so
the same seed and start give the same events however the caller slices time.

The show repeats the 20-minute rhythm of the run-of-show scripts in DOMAIN.md: a
plateau while products are explained, a trough as viewers drift off during a long
explanation, then the ¥9.9 flash sale, which brings a surge of viewers, clicks and
orders.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import itertools
import math
import random
import statistics
from collections import deque
from typing import Any, NamedTuple

MINUTE_MS = 60_000
# Events are generated one slot of show time at a time.
SLOT_MS = 1_000

# --- the audience -------------------------------------------------------------------

VIEWER_INTERVAL_MS = 2_000
VIEWER_JITTER_MS = 200
CYCLE_MS = 20 * MINUTE_MS
# The audience over one cycle: (offset in the cycle, multiple of the plateau audience),
# eased between the points.
AUDIENCE_KEYFRAMES = (
    (0, 1.0),
    (8 * MINUTE_MS, 1.0),  # products explained, the room holds steady
    (12 * MINUTE_MS, 0.68),  # a long explanation: a third of the room drifts off
    (14 * MINUTE_MS, 0.75),  # the flash sale is announced
    (16 * MINUTE_MS, 1.75),  # the ¥9.9 flash sale draws the crowd
    (17 * MINUTE_MS, 1.75),
    (CYCLE_MS, 1.0),  # back to the plateau for the next product
)
_KEYFRAME_TIMES = [offset for offset, _ in AUDIENCE_KEYFRAMES]
FLASH_SALE_START_MS = 14 * MINUTE_MS
FLASH_SALE_END_MS = 17 * MINUTE_MS
# The room opens with a share of its audience and fills up over the first minutes.
WARMUP_START = 0.15
WARMUP_TAU_MS = 90_000
# Online counts wander around the curve: log-scale noise with memory.
NOISE_MEMORY = 0.9
NOISE_STEP = 0.012
# Viewers stay about two minutes on average (typical of live commerce); the cumulative
# total grows by those who replace the leavers plus the audience's growth.
MEAN_STAY_MS = 120_000
# Audience size per event/s of the feed: a 3,000-viewer room produces ~20 events/s.
AUDIENCE_PER_EVENT_RATE = 150
MIN_PLATEAU = 50
# The pool of people who interact, relative to the plateau audience.
USERS_PER_VIEWER = 4

# Interaction grows more slowly than the audience (platforms merge likes and sample
# comments in a crowded room; the regulars of a quiet minute chat more than the passers-by
# of a surge), and is kept in a band so the feed stays within ±30 % of `rate`.
ACTIVITY_ELASTICITY = 0.4
ACTIVITY_RANGE = (0.88, 1.12)

# Platforms push some messages twice; controlroom drops the repeats by id.
DUPLICATE_SHARE = 0.005

# --- products and orders ------------------------------------------------------------

FLASH_SALE_SKU = "S1"
PRICES_CENTS = {FLASH_SALE_SKU: 990, "A1": 1990, "B2": 5990, "C3": 12900}
REGULAR_SKUS = ("A1", "B2", "C3")
PRODUCT_NAMES = {FLASH_SALE_SKU: "9.9元秒杀保温杯", "A1": "冰丝防晒袖套", "B2": "玻尿酸补水面膜", "C3": "桑蚕丝围巾"}
# The shop's stock: regular links hold the show; the flash-sale link is stocked afresh
# for each flash sale and taken off the shelf when it ends. The shop reports what is
# left every minute (a `product` event), and marks the product being presented (讲解中).
OPENING_STOCK = {"A1": 20_000, "B2": 8_000, "C3": 3_000}
FLASH_SALE_STOCK = 5_000
STOCK_READING_MS = MINUTE_MS
# A paid order now and then turns into a complaint filed with customer service.
COMPLAINT_SHARE = 0.004
COMPLAINT_DELAY_MS = (2 * MINUTE_MS, 30 * MINUTE_MS)
COMPLAINT_REASONS = ("发货太慢", "与描述不符", "质量问题", "客服态度差", "少发漏发")
# Each regular product is featured for a few minutes and draws most of the clicks.
FEATURE_MS = 5 * MINUTE_MS
FEATURED_SHARE = 0.6
FLASH_SALE_SKU_SHARE = 0.8
# Most orders come from someone who just clicked the product.
ORDER_AFTER_CLICK_SHARE = 0.7
RECENT_CLICKS = 200
PAY_SHARE = 0.85
REFUND_SHARE = 0.06
PAY_DELAY_MS = (3_000, 40_000)
UNPAID_TIMEOUT_MS = (2 * MINUTE_MS, 10 * MINUTE_MS)
REFUND_DELAY_MS = (MINUTE_MS, 20 * MINUTE_MS)
# created, then paid or cancelled, and a refund for some of the paid.
EVENTS_PER_ORDER = 2 + PAY_SHARE * REFUND_SHARE

# --- interactions -------------------------------------------------------------------

MAX_MERGED_LIKES = 50
MEAN_MERGED_LIKES = 8
# (name, value of one in cents): 1 Douyin coin is 0.1 yuan.
GIFTS = (("小心心", 10), ("玫瑰", 10), ("人气票", 10), ("大啤酒", 20), ("棒棒糖", 90), ("跑车", 12_000), ("嘉年华", 300_000))
GIFT_WEIGHTS = (40, 20, 10, 8, 6, 0.5, 0.05)
# Cheap gifts are sent in combos; expensive ones one at a time.
GIFT_COMBOS = (1, 1, 1, 1, 1, 2, 3, 5, 10, 66, 99)
COMBO_MAX_UNIT_CENTS = 100
FANSCLUB_JOIN_SHARE = 0.7

COMMENT_TEXTS = {
    "question": (
        "多少钱", "什么时候发货", "有没有优惠券", "尺码怎么选", "是正品吗", "怎么买", "包邮吗",
        "还有货吗", "几号链接", "有赠品吗", "能便宜点吗", "敏感肌能用吗", "保质期多久",
        "支持七天无理由吗", "160斤穿什么码",
    ),
    "praise": (
        "好看", "已下单", "主播好美", "已拍", "买了买了", "爱了爱了", "性价比绝了", "回购第三次了",
        "质量很好", "666", "主播讲得好清楚", "颜色好正",
    ),
    "greeting": ("来了来了", "主播晚上好", "大家好", "第一次来", "老粉报到", "打卡", "从推荐页刷到的", "晚上好呀"),
    "chatter": ("哈哈哈哈", "1", "111", "扣1", "在的在的", "主播喝口水", "背景音乐叫什么", "上链接", "还有吗"),
    "flash_sale": ("抢到了", "没抢到", "手慢了", "还会补货吗", "9.9太值了", "再上一波", "321上链接", "秒没了"),
    "doubt": ("是不是假货啊", "感觉有点夸大", "别骗人了", "上次买的质量差", "夸大宣传吧", "假货吧", "质量差还这么贵", "主播骗人的吧"),
    "complaint": ("我要投诉", "已经举报了", "打315投诉你们", "去消协告你们", "投诉不发货", "举报虚假宣传"),
}
QUESTION_OPENERS = ("", "", "", "主播", "请问", "主播主播")
# Douyin shows emoticons as [name] in the comment text.
FRIENDLY_ENDINGS = ("", "", "", "", "!", "~", "[比心]", "[赞]")
COMMENT_ENDINGS = {
    "question": ("", "？", "？", "?", "？？"),
    "doubt": ("", "", "?", "…"),
    "complaint": ("", "!", "！！"),
}

NICKNAME_PREFIXES = ("小", "阿", "大", "老")
NICKNAME_CORES = (
    "鱼", "花", "雪", "桃子", "橙子", "星星", "月亮", "糖糖", "可乐", "奶茶", "豆豆", "猫猫",
    "兔兔", "阳光", "晴天", "柠檬", "西瓜", "芒果", "布丁", "丸子",
)
NICKNAME_MOODS = ("快乐的", "爱笑的", "不吃香菜的", "熬夜的", "努力的", "佛系的", "想暴富的")
NICKNAME_TAILS = ("酱", "呀", "吖", "不睡觉", "本尊")


class _Weighted(NamedTuple):
    options: tuple[Any, ...]
    cum_weights: tuple[float, ...]

    @classmethod
    def of(cls, weights: dict[Any, float]) -> _Weighted:
        return cls(tuple(weights), tuple(itertools.accumulate(weights.values())))

    def pick(self, rng: random.Random) -> Any:
        return rng.choices(self.options, cum_weights=self.cum_weights)[0]


class _Phase(NamedTuple):
    """What the room does in a stretch of the show: the mix of actions and of comments."""

    actions: _Weighted
    # Orders bring their later status events with them.
    events_per_action: float
    comments: _Weighted

    @classmethod
    def of(cls, actions: dict[str, float], comments: dict[str, float]) -> _Phase:
        events = sum(weight * (EVENTS_PER_ORDER if kind == "order" else 1) for kind, weight in actions.items())
        return cls(_Weighted.of(actions), events / sum(actions.values()), _Weighted.of(comments))


REGULAR_PHASE = _Phase.of(
    {
        "comment": 34, "like": 22, "enter": 20, "gift": 5, "follow": 3, "share": 2,
        "fansclub": 1, "product_click": 10, "order": 1.5,
    },
    {"question": 30, "praise": 24, "greeting": 14, "chatter": 28, "doubt": 3.5, "complaint": 0.02},
)
FLASH_SALE_PHASE = _Phase.of(
    {
        "comment": 26, "like": 12, "enter": 14, "gift": 2, "follow": 2, "share": 1.5,
        "fansclub": 0.5, "product_click": 30, "order": 6,
    },
    {"question": 20, "praise": 18, "greeting": 4, "chatter": 15, "flash_sale": 40, "doubt": 3, "complaint": 0.02},
)
# Where viewers come from (流量结构): mostly the recommendation feed; the flash sale is
# when paid promotion is switched on and short videos teased it.
REGULAR_CHANNELS = _Weighted.of({"recommend": 46, "follow": 16, "short_video": 14, "paid": 8, "search": 6,
                                 "private": 6, "other": 4})
FLASH_SALE_CHANNELS = _Weighted.of({"recommend": 32, "paid": 30, "short_video": 16, "follow": 10, "private": 6,
                                    "search": 3, "other": 3})
_NICKNAME_STYLES = _Weighted.of({"platform_default": 15, "prefix": 30, "mood": 20, "tail": 20, "year": 15})
_GIFTS = _Weighted(GIFTS, tuple(itertools.accumulate(GIFT_WEIGHTS)))


def in_flash_sale(show_ms: int, phase_ms: int = 0) -> bool:
    """Whether the ¥9.9 flash sale is on at this point of the show (`phase_ms`: where in
    its cycle the show starts)."""
    return FLASH_SALE_START_MS <= (show_ms + phase_ms) % CYCLE_MS < FLASH_SALE_END_MS


def audience_shape(show_ms: int, phase_ms: int = 0) -> float:
    """The expected audience as a multiple of the plateau, before noise."""
    warmup = 1 - (1 - WARMUP_START) * math.exp(-show_ms / WARMUP_TAU_MS)
    offset = (show_ms + phase_ms) % CYCLE_MS
    after = bisect.bisect_right(_KEYFRAME_TIMES, offset)
    (t0, v0), (t1, v1) = AUDIENCE_KEYFRAMES[after - 1], AUDIENCE_KEYFRAMES[after]
    x = (offset - t0) / (t1 - t0)
    # Smoothstep: the curve has no kinks at the keyframes.
    return warmup * (v0 + (v1 - v0) * x * x * (3 - 2 * x))


def _banded_activity(show_ms: int, phase_ms: int = 0) -> float:
    low, high = ACTIVITY_RANGE
    return min(high, max(low, audience_shape(show_ms, phase_ms) ** ACTIVITY_ELASTICITY))


# Normalised over a whole cycle (after the warmup) so that the show averages `rate`.
_MEAN_ACTIVITY = statistics.fmean(_banded_activity(CYCLE_MS + ms) for ms in range(0, CYCLE_MS, SLOT_MS))


def _activity(show_ms: int, phase_ms: int = 0) -> float:
    return _banded_activity(show_ms, phase_ms) / _MEAN_ACTIVITY


def _nickname(rng: random.Random) -> str:
    style = _NICKNAME_STYLES.pick(rng)
    if style == "platform_default":
        return f"用户{rng.randrange(10**9, 10**10)}"
    core = rng.choice(NICKNAME_CORES)
    if style == "prefix":
        return rng.choice(NICKNAME_PREFIXES) + core
    if style == "mood":
        return rng.choice(NICKNAME_MOODS) + core
    if style == "tail":
        return core + rng.choice(NICKNAME_TAILS)
    return f"{core}{rng.randint(1985, 2008)}"


class ShowSimulator:
    """A live show's events, generated on demand up to the time the caller passes in.

    `rate` is the average number of events per second over the show (viewer readings,
    order status changes and repeated pushes included); each minute stays within ±30 %
    of it. The audience (and the pool of user ids) is sized to the rate.
    """

    def __init__(self, *, seed: int, start_ms: int, rate: float, source: str = "sim", phase_ms: int = 0) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._rng = random.Random(seed)
        # Traffic sources are drawn from their own sequence, so the rest of the show
        # (which tests and benches rely on) stays what the seed made it before.
        self._channel_rng = random.Random(f"{seed}:channels")
        self._start_ms = start_ms
        # Where in its 20-minute cycle the show starts: a script's flash sales and the
        # audience's surges fall together (see controlroom/sim/seed.py).
        self._phase_ms = phase_ms
        self._source = source
        # Ids stay unique across runs into the same room: each run starts at its own ms.
        self._id_prefix = f"{source}-{start_ms}-"
        # Viewer readings come every 2 s, but never take more than half of a tiny rate.
        self._viewer_interval_ms = max(VIEWER_INTERVAL_MS, math.ceil(2_000 / rate))
        self._action_rate = rate / (1 + DUPLICATE_SHARE) - 1_000 / self._viewer_interval_ms
        self._plateau = max(MIN_PLATEAU, round(rate * AUDIENCE_PER_EVENT_RATE))
        self._user_count = self._plateau * USERS_PER_VIEWER
        self._nicknames: dict[int, str] = {}
        self._recent_clicks: deque[tuple[str, int]] = deque(maxlen=RECENT_CLICKS)
        # (ts, order of scheduling, event): a heap of events not yet handed out.
        self._scheduled: list[tuple[int, int, dict[str, Any]]] = []
        self._schedule_order = itertools.count()
        self._event_numbers = itertools.count(1)
        self._order_numbers = itertools.count(1)
        self._now_ms = start_ms
        self._generated_until_ms = start_ms
        self._viewer_readings = 0
        self._online = 0
        self._total_viewers = 0
        self._online_noise = 0.0
        # Units paid, by when: a stock reading counts only the sales up to its own time
        # (a payment scheduled for later is not yet off the shelf).
        self._sales: list[tuple[int, str, int]] = []
        self._stock = dict(OPENING_STOCK)
        self._stock_readings = 0
        self._featured: str | None = None
        self._flash_on = False
        self._actions = {
            "comment": self._comment,
            "like": self._like,
            "gift": self._gift,
            "enter": self._enter,
            "follow": self._follow,
            "share": self._share,
            "fansclub": self._fansclub,
            "product_click": self._product_click,
            "order": self._order,
        }

    def events_until(self, now_ms: int) -> list[dict[str, Any]]:
        """The events with previous `now_ms` < ts <= `now_ms`, in ts order."""
        if now_ms < self._now_ms:
            raise ValueError(f"time went backwards: {now_ms} < {self._now_ms}")
        while self._generated_until_ms < now_ms:
            self._generate_slot(self._generated_until_ms)
            self._generated_until_ms += SLOT_MS
        due = []
        while self._scheduled and self._scheduled[0][0] <= now_ms:
            due.append(heapq.heappop(self._scheduled)[2])
        self._now_ms = now_ms
        return due

    # --- generation ----------------------------------------------------------------

    def _generate_slot(self, slot_start_ms: int) -> None:
        """Schedule the events of (slot_start_ms, slot_start_ms + SLOT_MS]; follow-ups
        such as payments may land later."""
        slot_end_ms = slot_start_ms + SLOT_MS
        while self._start_ms + (self._viewer_readings + 1) * self._viewer_interval_ms <= slot_end_ms:
            self._viewer_readings += 1
            due_ms = self._start_ms + self._viewer_readings * self._viewer_interval_ms
            self._read_viewers(due_ms + self._rng.randint(0, VIEWER_JITTER_MS))

        while self._start_ms + self._stock_readings * STOCK_READING_MS <= slot_end_ms:
            self._read_stock(self._start_ms + self._stock_readings * STOCK_READING_MS + 1)
            self._stock_readings += 1

        show_ms = slot_start_ms - self._start_ms
        self._shelf(slot_start_ms + 1, show_ms)
        phase = FLASH_SALE_PHASE if in_flash_sale(show_ms, self._phase_ms) else REGULAR_PHASE
        actions_per_ms = self._action_rate * _activity(show_ms, self._phase_ms) / phase.events_per_action / 1_000
        # A Poisson process: exponential gaps between actions.
        at = slot_start_ms + self._rng.expovariate(actions_per_ms)
        while at < slot_end_ms:
            self._actions[phase.actions.pick(self._rng)](int(at) + 1)
            at += self._rng.expovariate(actions_per_ms)

    def _schedule(self, event: dict[str, Any]) -> None:
        heapq.heappush(self._scheduled, (event["ts"], next(self._schedule_order), event))
        if self._rng.random() < DUPLICATE_SHARE:
            heapq.heappush(self._scheduled, (event["ts"], next(self._schedule_order), copy.deepcopy(event)))

    def _event(self, kind: str, ts: int, **fields: Any) -> dict[str, Any]:
        return {"id": f"{self._id_prefix}{next(self._event_numbers)}", "type": kind, "ts": ts,
                "source": self._source, **fields}

    def _read_viewers(self, ts: int) -> None:
        show_ms = ts - self._start_ms
        self._online_noise = NOISE_MEMORY * self._online_noise + self._rng.gauss(0, NOISE_STEP)
        online = round(self._plateau * audience_shape(show_ms, self._phase_ms) * math.exp(self._online_noise))
        left = self._online * self._viewer_interval_ms / MEAN_STAY_MS
        self._total_viewers += max(0, round(online - self._online + left))
        self._online = online
        self._schedule(self._event("viewers", ts, online=online, total=self._total_viewers))

    def _read_stock(self, ts: int) -> None:
        """The shop's reading of what is left, as of `ts`."""
        heapq.heapify(self._sales)
        while self._sales and self._sales[0][0] <= ts:
            _, sku, units = heapq.heappop(self._sales)
            self._stock[sku] = max(0, self._stock.get(sku, 0) - units)
        for sku, left in self._stock.items():
            if ts == self._start_ms + 1:  # the opening reading names and prices the products
                self._schedule_once(self._event("product", ts, sku=sku, name=PRODUCT_NAMES[sku],
                                                price_cents=PRICES_CENTS[sku], stock=left, on_shelf=True))
            else:
                self._schedule_once(self._event("product", ts, sku=sku, stock=left))

    def _shelf(self, ts: int, show_ms: int) -> None:
        """Links and the product presented, as the shop's console changes them."""
        flash = in_flash_sale(show_ms, self._phase_ms)
        if flash != self._flash_on:
            self._flash_on = flash
            if flash:
                self._stock[FLASH_SALE_SKU] = FLASH_SALE_STOCK
                self._schedule_once(self._event("product", ts, sku=FLASH_SALE_SKU, name=PRODUCT_NAMES[FLASH_SALE_SKU],
                                                price_cents=PRICES_CENTS[FLASH_SALE_SKU], stock=FLASH_SALE_STOCK,
                                                on_shelf=True, on_stage=True))
            else:
                self._schedule_once(self._event("product", ts, sku=FLASH_SALE_SKU, on_shelf=False, on_stage=False))
                self._featured = None
        if not flash:
            featured = REGULAR_SKUS[show_ms // FEATURE_MS % len(REGULAR_SKUS)]
            if featured != self._featured:
                self._featured = featured
                self._schedule_once(self._event("product", ts, sku=featured, on_stage=True))

    def _schedule_once(self, event: dict[str, Any]) -> None:
        """A reading of the shop's console: never repeated (a repeat of an old reading
        would put back stock that sold since)."""
        heapq.heappush(self._scheduled, (event["ts"], next(self._schedule_order), event))

    def _pick_user_number(self) -> int:
        # Regulars (the low numbers) act far more often than passers-by.
        return 1 + int(self._user_count * self._rng.random() ** 2)

    def _user(self, number: int | None = None) -> dict[str, str]:
        if number is None:
            number = self._pick_user_number()
        name = self._nicknames.get(number)
        if name is None:
            name = self._nicknames[number] = _nickname(self._rng)
        return {"id": f"u{number}", "name": name}

    def _flash_sale_at(self, ts: int) -> bool:
        return in_flash_sale(ts - self._start_ms, self._phase_ms)

    def _pick_sku(self, ts: int) -> str:
        if self._flash_sale_at(ts) and self._rng.random() < FLASH_SALE_SKU_SHARE:
            return FLASH_SALE_SKU
        if self._rng.random() < FEATURED_SHARE:
            return REGULAR_SKUS[(ts - self._start_ms) // FEATURE_MS % len(REGULAR_SKUS)]
        return self._rng.choice(REGULAR_SKUS)

    # --- actions: each schedules the events of one thing a viewer does --------------

    def _comment(self, ts: int) -> None:
        phase = FLASH_SALE_PHASE if self._flash_sale_at(ts) else REGULAR_PHASE
        category = phase.comments.pick(self._rng)
        text = self._rng.choice(COMMENT_TEXTS[category]) + self._rng.choice(
            COMMENT_ENDINGS.get(category, FRIENDLY_ENDINGS)
        )
        if category == "question":
            text = self._rng.choice(QUESTION_OPENERS) + text
        self._schedule(self._event("comment", ts, user=self._user(), text=text))

    def _like(self, ts: int) -> None:
        # Platforms merge a user's taps over a couple of seconds into one count.
        count = min(MAX_MERGED_LIKES, 1 + int(self._rng.expovariate(1 / MEAN_MERGED_LIKES)))
        self._schedule(self._event("like", ts, user=self._user(), count=count))

    def _gift(self, ts: int) -> None:
        name, unit_cents = _GIFTS.pick(self._rng)
        count = self._rng.choice(GIFT_COMBOS) if unit_cents < COMBO_MAX_UNIT_CENTS else 1
        self._schedule(self._event("gift", ts, user=self._user(), gift=name, count=count,
                                   value_cents=unit_cents * count))

    def _enter(self, ts: int) -> None:
        channels = FLASH_SALE_CHANNELS if self._flash_on else REGULAR_CHANNELS
        self._schedule(self._event("enter", ts, user=self._user(), channel=channels.pick(self._channel_rng)))

    def _follow(self, ts: int) -> None:
        self._schedule(self._event("follow", ts, user=self._user()))

    def _share(self, ts: int) -> None:
        self._schedule(self._event("share", ts, user=self._user()))

    def _fansclub(self, ts: int) -> None:
        if self._rng.random() < FANSCLUB_JOIN_SHARE:
            level, joined = 1, True
        else:
            level, joined = self._rng.randint(2, 15), False
        self._schedule(self._event("fansclub", ts, user=self._user(), level=level, joined=joined))

    def _product_click(self, ts: int) -> None:
        sku, number = self._pick_sku(ts), self._pick_user_number()
        self._recent_clicks.append((sku, number))
        self._schedule(self._event("product_click", ts, user=self._user(number), sku=sku))

    def _order(self, ts: int) -> None:
        clicked = None
        if self._recent_clicks and self._rng.random() < ORDER_AFTER_CLICK_SHARE:
            clicked = self._rng.choice(self._recent_clicks)
        # The ¥9.9 price ends with the flash sale, whatever was clicked during it.
        if clicked is not None and (clicked[0] != FLASH_SALE_SKU or self._flash_sale_at(ts)):
            sku, number = clicked
        else:
            sku, number = self._pick_sku(ts), self._pick_user_number()
        # Flash-sale items are limited to one per person.
        quantity = 1 if sku == FLASH_SALE_SKU else self._rng.choices((1, 2, 3), (80, 15, 5))[0]
        order_id = f"{self._start_ms}{next(self._order_numbers):06d}"

        def status_event(status: str, at_ms: int) -> dict[str, Any]:
            return self._event("order", at_ms, user=self._user(number), order_id=order_id, status=status,
                               sku=sku, quantity=quantity, amount_cents=PRICES_CENTS[sku] * quantity)

        self._schedule(status_event("created", ts))
        if self._rng.random() < PAY_SHARE:
            paid_ms = ts + self._rng.randint(*PAY_DELAY_MS)
            self._schedule(status_event("paid", paid_ms))
            heapq.heappush(self._sales, (paid_ms, sku, quantity))
            if self._rng.random() < COMPLAINT_SHARE:
                self._schedule(self._event("complaint", paid_ms + self._rng.randint(*COMPLAINT_DELAY_MS),
                                           user=self._user(number), order_id=order_id, sku=sku,
                                           reason=self._rng.choice(COMPLAINT_REASONS)))
            if self._rng.random() < REFUND_SHARE:
                self._schedule(status_event("refunded", paid_ms + self._rng.randint(*REFUND_DELAY_MS)))
        else:
            self._schedule(status_event("cancelled", ts + self._rng.randint(*UNPAID_TIMEOUT_MS)))
