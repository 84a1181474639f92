"""The shipped rules against the situations of the SOP table (../shared/DOMAIN.md):
each fires on the situation, and stays quiet just below its threshold."""

from __future__ import annotations

import itertools

import pytest

from controlroom.alerts import lifecycle
from controlroom.alerts.service import timing_of
from controlroom.clock import FakeClock
from controlroom.metrics.state import RoomState
from controlroom.moderation.live import default_tagger
from controlroom.rules.evaluator import evaluate
from controlroom.rules.service import default_rules
from controlroom.rules.signals import Baseline, build_signals

START = 1_763_700_000_000 - 1_763_700_000_000 % 60_000  # a minute boundary
RULES = {rule.key: rule for rule in default_rules()}
_ids = itertools.count()


def rule(key: str):
    return RULES[key]


class Room:
    """A live room fed by hand, read through the shipped rules."""

    def __init__(self) -> None:
        self.state = RoomState()
        self.ledger: dict[str, int] = {}
        self.clock = FakeClock(START)
        self.tagger = default_tagger()
        self.minute_distinct: dict[int, dict[str, int]] = {}
        self.distinct: dict[str, int] = {}
        self.baselines: dict[str, Baseline] = {}

    def feed(self, *events: dict) -> None:
        self.state.apply([{"id": f"e{next(_ids)}", "ts": self.clock.now_ms(), **e} for e in events], self.ledger, self.tagger)

    def online(self, count: int) -> None:
        self.feed({"type": "viewers", "online": count})

    def comments(self, *texts: str) -> None:
        self.feed(*({"type": "comment", "user": {"id": f"u{i}"}, "text": t} for i, t in enumerate(texts)))

    def at(self, *, seconds: float) -> "Room":
        self.clock.set(START + int(seconds * 1000))
        return self

    def signals(self):
        return build_signals(
            self.state, now_ms=self.clock.now_ms(), live=True, distinct=self.distinct,
            minute_distinct=self.minute_distinct, show_started_ms=START, room_baselines=self.baselines,
        )

    def holds(self, key: str) -> bool:
        return evaluate(rule(key), self.signals()).holds

    def run(self, key: str, *, seconds: float, step: float = 1.0) -> str | None:
        """Evaluate the rule every `step` seconds for `seconds` from now; the alert's state."""
        alert = None
        begin = self.clock.now_ms()
        timing = timing_of(rule(key), red_escalation_s=30)
        for tick in range(int(seconds / step) + 1):
            self.clock.set(begin + int(tick * step * 1000))
            alert, _ = lifecycle.step(alert, evaluate(rule(key), self.signals()), now_ms=self.clock.now_ms(), timing=timing)
        return alert.state if alert else None


def steady_online(room: Room, level: int, minutes: int) -> None:
    for minute in range(minutes):
        room.at(seconds=minute * 60)
        room.online(level)


# --- SOP 1, 2: traffic -------------------------------------------------------------------


@pytest.mark.parametrize(("now_online", "fires"), [(790, True), (810, False)])
def test_traffic_trough_when_online_falls_20_percent_within_5_minutes(now_online: int, fires: bool) -> None:
    room = Room()
    steady_online(room, 1000, 10)
    room.at(seconds=600).online(now_online)
    assert room.holds("traffic-trough") is fires
    assert (room.run("traffic-trough", seconds=15) == "firing") is fires


@pytest.mark.parametrize(("now_online", "fires"), [(2100, True), (1900, False)])
def test_traffic_surge_when_online_doubles_within_5_minutes(now_online: int, fires: bool) -> None:
    room = Room()
    steady_online(room, 1000, 10)
    room.at(seconds=600).online(now_online)
    assert (room.run("traffic-surge", seconds=15) == "firing") is fires


@pytest.mark.parametrize(("online", "fires"), [(50_001, True), (50_000, False)])
def test_over_capacity(online: int, fires: bool) -> None:
    room = Room()
    room.online(online)
    assert (room.run("over-capacity", seconds=15) == "firing") is fires


def test_traffic_rules_need_an_earlier_window_to_compare_with() -> None:
    room = Room()
    steady_online(room, 1000, 3)  # the show began three minutes ago
    room.at(seconds=180).online(100)
    assert not room.holds("traffic-trough")


# --- SOP 3, 4: the stream ----------------------------------------------------------------


@pytest.mark.parametrize(("status", "fires"), [("interrupted", True), ("live", False)])
def test_stream_interruption_from_the_stream_status(status: str, fires: bool) -> None:
    room = Room()
    room.feed({"type": "stream", "status": status})
    assert (room.run("stream-interrupted", seconds=0) == "firing") is fires


@pytest.mark.parametrize(("silent_s", "fires"), [(15, True), (14, False)])
def test_feed_silent_when_no_event_for_15_seconds(silent_s: int, fires: bool) -> None:
    room = Room()
    room.online(1000)
    room.at(seconds=silent_s)
    assert room.holds("feed-silent") is fires


def test_feed_silence_is_not_an_alert_when_the_show_is_not_live() -> None:
    room = Room()
    room.online(1000)
    room.at(seconds=100)
    signals = build_signals(room.state, now_ms=room.clock.now_ms(), live=False, show_started_ms=START)
    assert not evaluate(rule("feed-silent"), signals).holds


@pytest.mark.parametrize(("latency", "fires"), [(3100, True), (3000, False)])
def test_stutter_when_latency_is_above_3_seconds(latency: int, fires: bool) -> None:
    room = Room()
    room.feed({"type": "stream", "status": "live", "latency_ms": latency})
    assert (room.run("stream-latency", seconds=0) == "firing") is fires


@pytest.mark.parametrize(("sustained_s", "state"), [(60, "firing"), (59, "pending")])
def test_latency_goes_red_when_sustained_for_a_minute(sustained_s: int, state: str) -> None:
    room = Room()
    room.feed({"type": "stream", "status": "live", "latency_ms": 4000})
    assert room.run("stream-latency-sustained", seconds=sustained_s) == state
    assert rule("stream-latency-sustained").level == "red"


# --- SOP 6, 7, 8, 9: comments and complaints ------------------------------------------------


@pytest.mark.parametrize(("doubting", "state"), [(4, "firing"), (3, None)])
def test_negative_comments_above_5_percent_of_comments_for_half_a_minute(doubting: int, state: str | None) -> None:
    room = Room()
    room.online(1000)
    room.comments(*(["这个是假货吧"] * doubting + ["主播好美", "好看", "多少钱"] * 20)[:60])  # 6.7 % / 5 %
    assert room.run("negative-comments", seconds=30) == state


def test_negative_comments_need_enough_comments_to_judge_a_share() -> None:
    room = Room()
    room.comments("这个是假货吧", "好看")
    assert not room.holds("negative-comments")


def test_a_comment_with_two_complaint_words_is_one_complaint() -> None:
    room = Room()
    room.comments("打315投诉你们", "12315举报")
    assert room.state.category_hits["complaint"] == 2


@pytest.mark.parametrize(("complaints", "fires"), [(3, True), (2, False)])
def test_complaint_words_3_a_minute(complaints: int, fires: bool) -> None:
    room = Room()
    room.comments(*["我要投诉你们"] * complaints, "好看")
    assert (room.run("complaint-words", seconds=0) == "firing") is fires


def test_complaint_words_evade_nothing_with_symbols_in_between() -> None:
    room = Room()
    room.comments("我要投*诉", "举 报你们", "打 3 1 5")
    assert room.holds("complaint-words")


@pytest.mark.parametrize(("now_doubts", "fires"), [(4, True), (3, False)])
def test_sudden_product_doubt_is_a_doubling_of_the_doubt_share(now_doubts: int, fires: bool) -> None:
    room = Room()
    room.comments(*["是不是假货"] * 2, *["好看"] * 38)  # a minute ago: 5 % doubted
    room.at(seconds=60).comments(*["是不是假货"] * now_doubts, *["好看"] * (40 - now_doubts))
    assert room.holds("product-doubt-spike") is fires


def test_doubt_after_a_silence_is_not_called_a_spike() -> None:
    room = Room()
    room.comments("好看")  # the room barely talked the minute before
    room.at(seconds=60).comments(*["是不是假货"] * 10, *["好看"] * 20)
    assert not room.holds("product-doubt-spike")


def test_more_viewers_saying_the_same_is_not_a_spike() -> None:
    room = Room()
    room.comments(*["是不是假货"] * 2, *["好看"] * 38)
    room.at(seconds=60).comments(*["是不是假货"] * 10, *["好看"] * 190)  # five times the talk, same 5 %
    assert not room.holds("product-doubt-spike")


def _paid_orders(room: Room, count: int) -> None:
    room.feed(*(
        {"type": "order", "user": {"id": f"p{i}"}, "order_id": f"o{i}", "status": "paid", "amount_cents": 100}
        for i in range(count)
    ))


@pytest.mark.parametrize(("complaints", "fires"), [(2, True), (1, False)])
def test_complaint_rate_above_1_5_percent_of_paid_orders(complaints: int, fires: bool) -> None:
    room = Room()
    _paid_orders(room, 100)
    room.comments(*["我要投诉"] * complaints)
    assert room.holds("complaint-rate") is fires


@pytest.mark.parametrize(("complaints", "fires"), [(101, True), (100, False)])
def test_level_one_plan_past_100_complaints(complaints: int, fires: bool) -> None:
    room = Room()
    room.comments(*["我要投诉"] * complaints)
    assert room.holds("complaints-level-one") is fires


# --- SOP 10, 11, 13: sales and audience ----------------------------------------------------


def _conversion_minutes(room: Room, early: float, late: float) -> None:
    for minute in range(20):
        rate = early if minute < 10 else late
        room.minute_distinct[START + minute * 60_000] = {"viewers": 1000, "payers": round(rate * 1000)}
        room.at(seconds=minute * 60).online(1000)
    room.at(seconds=20 * 60 + 5)


@pytest.mark.parametrize(("late", "fires"), [(0.039, True), (0.041, False)])
def test_conversion_20_percent_below_the_show_running_level(late: float, fires: bool) -> None:
    room = Room()
    _conversion_minutes(room, 0.05, late)
    assert room.holds("conversion-drop") is fires


@pytest.mark.parametrize(("late", "fires"), [(0.039, True), (0.041, False)])
def test_conversion_2_sigma_below_the_room_baseline(late: float, fires: bool) -> None:
    room = Room()
    room.baselines = {"conversion_rate": Baseline(mean=0.05, std=0.005, points=500)}
    _conversion_minutes(room, late, late)
    assert room.holds("conversion-below-room") is fires


@pytest.mark.parametrize(("watched_s", "fires"), [(490, True), (470, False)])
def test_long_stay_above_8_minutes(watched_s: int, fires: bool) -> None:
    room = Room()
    room.distinct = {"viewers": 10}
    for second in range(0, watched_s + 1, 10):
        room.at(seconds=second).online(10)
    assert room.holds("long-stay") is fires


@pytest.mark.parametrize(("comments", "state"), [(2, "firing"), (3, None)])
def test_dead_air_when_comments_stay_near_zero_for_2_minutes(comments: int, state: str | None) -> None:
    room = Room()
    room.online(1000)
    room.comments(*["好"] * comments)
    room.at(seconds=59)
    # Comments keep trickling in at that rate for the two minutes.
    alert = None
    timing = timing_of(rule("dead-air"), red_escalation_s=30)
    for second in range(59, 59 + 125):
        room.at(seconds=second)
        if second % 60 == 0:
            room.comments(*["好"] * comments)
        alert, _ = lifecycle.step(alert, evaluate(rule("dead-air"), room.signals()), now_ms=room.clock.now_ms(), timing=timing)
    assert (alert.state if alert else None) == state
