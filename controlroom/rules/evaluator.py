"""Does a rule's condition hold for a room right now? Pure: signals in, observation out.

An observation carries the measured value and what it was compared with, so an alert
can say "online 780, 22 % below 1,000" rather than just "traffic trough".
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from statistics import fmean, pstdev
from typing import Callable

from controlroom.metrics.state import ALL_COMMENTS, HIT_BUCKET_MS
from controlroom.rules.schemas import (
    Absence,
    Baseline,
    Change,
    Condition,
    KeywordRate,
    Ratio,
    RuleDefinition,
    Status,
    Threshold,
)
from controlroom.rules.signals import FLOW, GAUGE, METRICS, RoomSignals

COMPARE: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


@dataclass(frozen=True)
class Observation:
    holds: bool
    value: float | None = None  # what was measured
    reference: float | None = None  # what it was compared with (threshold, earlier level)

    @classmethod
    def unknown(cls) -> "Observation":
        """Not enough data to say (no earlier window, no viewers yet): does not hold."""
        return cls(False)


def evaluate(rule: RuleDefinition, signals: RoomSignals) -> Observation:
    if rule.only_live and not signals.live:
        return Observation.unknown()
    return _EVALUATORS[type(rule.condition)](rule.condition, signals)


def _threshold(c: Threshold, s: RoomSignals) -> Observation:
    value = s.values.get(c.metric)
    if value is None:
        return Observation.unknown()
    return Observation(COMPARE[c.op](value, c.value), value, c.value)


def _window(s: RoomSignals, metric: str, window_s: int, windows_back: int) -> list[float] | None:
    """The metric's per-minute values of one window of complete minutes, counted back
    from the current minute (0: the latest window); None unless every minute is there."""
    minutes = window_s // 60
    current = s.now_ms - s.now_ms % 60_000
    end = current - windows_back * minutes * 60_000
    start = end - minutes * 60_000
    values = [v for m, v in s.minutes.get(metric, ()) if start <= m < end]
    return values if len(values) == minutes else None


def _level(values: list[float], metric: str) -> float:
    return sum(values) if METRICS[metric][2] == FLOW else fmean(values)


def _change(c: Change, s: RoomSignals) -> Observation:
    before = _window(s, c.metric, c.window_s, 1)
    if not before:
        return Observation.unknown()
    if METRICS[c.metric][2] == GAUGE:
        now = s.values.get(c.metric)
    else:
        recent = _window(s, c.metric, c.window_s, 0)
        now = _level(recent, c.metric) if recent else None
    reference = _level(before, c.metric)
    if now is None or reference <= 0:
        return Observation.unknown()
    change = (now - reference) / reference
    return Observation(COMPARE[c.op](change, c.value), now, reference)


def _baseline(c: Baseline, s: RoomSignals) -> Observation:
    recent = _window(s, c.metric, c.window_s, 0)
    if not recent:
        return Observation.unknown()
    now = fmean(recent)
    if c.source == "room":
        baseline = s.room_baselines.get(c.metric)
        if baseline is None or baseline.points < c.min_points:
            return Observation.unknown()
        mean, std = baseline.mean, baseline.std
    else:
        window_start = s.now_ms - s.now_ms % 60_000 - c.window_s // 60 * 60_000
        earlier = [v for m, v in s.minutes.get(c.metric, ()) if m < window_start]
        if len(earlier) < c.min_points:
            return Observation.unknown()
        mean, std = fmean(earlier), pstdev(earlier)
    sign = -1 if c.direction == "below" else 1
    fires = False
    if c.sigmas is not None and std > 0:
        fires |= sign * (now - mean) >= c.sigmas * std
    if c.drop is not None and mean > 0:
        fires |= sign * (now - mean) / mean >= c.drop
    return Observation(fires, now, mean)


def _hits(s: RoomSignals, category: str, start_ms: int, end_ms: int) -> tuple[int, int]:
    """(category hits, comments) in 10-second buckets within [start, end)."""
    hits = comments = 0
    for bucket, counts in s.hit_buckets.items():
        if start_ms <= bucket < end_ms:
            hits += counts.get(category, 0)
            comments += counts.get(ALL_COMMENTS, 0)
    return hits, comments


def _keyword_rate(c: KeywordRate, s: RoomSignals) -> Observation:
    # Buckets are 10 s; the window ends with the bucket now is in.
    end = s.now_ms - s.now_ms % HIT_BUCKET_MS + HIT_BUCKET_MS
    window_ms = c.window_s * 1000

    def rate(start: int, stop: int) -> float | None:
        hits, comments = _hits(s, c.category, start, stop)
        if c.per == "minute":
            return hits * 60 / c.window_s
        return hits / comments if comments >= c.min_comments else None

    now = rate(end - window_ms, end)
    if now is None:
        return Observation.unknown()
    fires = COMPARE[c.op](now, c.value)
    reference: float | None = c.value
    if c.min_rise is not None:
        # A spike needs a room that was talking before: after a silence (or at the
        # start of the show) any rate would look like one.
        _, before_comments = _hits(s, c.category, end - 2 * window_ms, end - window_ms)
        if before_comments < c.min_comments:
            return Observation(False, now, None)
        before = rate(end - 2 * window_ms, end - window_ms) or 0.0
        reference = before
        fires &= now >= before * (1 + c.min_rise) and now > before
    return Observation(fires, now, reference)


def _absence(c: Absence, s: RoomSignals) -> Observation:
    last = s.last_seen.get(c.event_type or "*") or s.show_started_ms
    if last is None:
        return Observation.unknown()
    silent_s = max(0.0, (s.now_ms - last) / 1000)
    return Observation(silent_s >= c.seconds, silent_s, c.seconds)


def _ratio(c: Ratio, s: RoomSignals) -> Observation:
    numerator = s.values.get(c.numerator) or 0.0
    denominator = s.values.get(c.denominator)
    if denominator is None or denominator < c.min_denominator:
        return Observation.unknown()
    value = numerator / denominator
    return Observation(COMPARE[c.op](value, c.value), value, c.value)


def _status(c: Status, s: RoomSignals) -> Observation:
    if c.status is not None and s.stream_status == c.status:
        return Observation(True, s.latency_ms, None)
    if c.latency_ms_above is not None and s.latency_ms is not None:
        return Observation(s.latency_ms > c.latency_ms_above, s.latency_ms, c.latency_ms_above)
    return Observation.unknown()


_EVALUATORS: dict[type, Callable[[Condition, RoomSignals], Observation]] = {
    Threshold: _threshold, Change: _change, Baseline: _baseline, KeywordRate: _keyword_rate,
    Absence: _absence, Ratio: _ratio, Status: _status,
}
