"""Does a rule's condition hold for a room right now? Pure: signals in, observation out.

An observation carries the measured value and what it was compared with, so an alert
can say "online 780, 22 % below 1,000" rather than just "traffic trough".
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from math import sqrt
from statistics import NormalDist, fmean, pstdev
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


def instances(rule: RuleDefinition, signals: RoomSignals) -> list[RuleDefinition]:
    """The rule as evaluated: a rule watching each source ("*") becomes one rule per
    source the room has heard from, labelled and named with it, so each source's
    silence is its own alert; any other rule is itself."""
    condition = rule.condition
    if not isinstance(condition, Absence) or not condition.each_source:
        return [rule]
    return [
        rule.model_copy(update={
            "condition": condition.model_copy(update={"from_source": source}),
            "labels": {**rule.labels, "source": source},
            "name": f"{rule.name}：{source}",
            "name_en": f"{rule.name_en}: {source}" if rule.name_en else "",
        })
        for source in sorted(signals.source_arrivals)
    ]


def instance_key(rule: RuleDefinition) -> str:
    """What a round's observations are keyed by: the rule's key, with the source for a
    rule evaluated once per source."""
    source = rule.labels.get("source")
    return rule.key if source is None else f"{rule.key}|source={source}"


def evaluate(rule: RuleDefinition, signals: RoomSignals) -> Observation:
    if rule.only_live and not signals.live:
        return Observation.unknown()
    return _EVALUATORS[type(rule.condition)](rule.condition, signals)


def _threshold(c: Threshold, s: RoomSignals) -> Observation:
    value = s.values.get(c.metric)
    if value is None:
        return Observation.unknown()
    return Observation(COMPARE[c.op](value, c.value), value, c.value)


def _window_rows(s: RoomSignals, metric: str, window_s: int, windows_back: int) -> list[tuple[int, float]] | None:
    """The metric's (minute, value) of one window of complete minutes, counted back from
    the current minute (0: the latest window); None unless every minute is there."""
    minutes = window_s // 60
    current = s.now_ms - s.now_ms % 60_000
    end = current - windows_back * minutes * 60_000
    start = end - minutes * 60_000
    rows = [(m, v) for m, v in s.minutes.get(metric, ()) if start <= m < end]
    return rows if len(rows) == minutes else None


def _window(s: RoomSignals, metric: str, window_s: int, windows_back: int) -> list[float] | None:
    rows = _window_rows(s, metric, window_s, windows_back)
    return [v for _, v in rows] if rows is not None else None


def _level(values: list[float], metric: str) -> float:
    return sum(values) if METRICS[metric][2] == FLOW else fmean(values)


def _boosted(s: RoomSignals, minute_ms: int) -> bool:
    return any(start < minute_ms + 60_000 and minute_ms < end for start, end in s.boosted)


# The room fills up as a show opens: not a surge to staff up for.
OPENING_MS = 2 * 60_000


def _against_recent(c: Change, s: RoomSignals) -> Observation:
    """A gauge's latest reading against the highest (for a fall) or lowest (for a rise)
    complete minute of the last window."""
    now = s.values.get(c.metric)
    current = s.now_ms - s.now_ms % 60_000
    start = current - c.window_s // 60 * 60_000
    if c.against == "recent_max":
        recent = [v for m, v in s.minutes.get(c.metric, ()) if start <= m < current and not _boosted(s, m)]
    else:
        opened = (s.show_started_ms or 0) + OPENING_MS
        recent = [v for m, v in s.minutes.get(c.metric, ()) if max(start, opened) <= m < current]
    if now is None or len(recent) < c.min_points:
        return Observation.unknown()
    reference = max(recent) if c.against == "recent_max" else min(recent)
    if reference <= 0:
        return Observation.unknown()
    return Observation(COMPARE[c.op]((now - reference) / reference, c.value), now, reference)


def _change(c: Change, s: RoomSignals) -> Observation:
    if c.against != "window_before" and METRICS[c.metric][2] == GAUGE:
        return _against_recent(c, s)
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
    """Against the show's own level, flash-sale and lucky-bag minutes (and the two after)
    are left out of both sides: their conversion is not the room's, so the minutes after
    a flash sale are not a drop, nor does a flash sale hide one. At least half of the
    window must be ordinary minutes."""
    rows = _window_rows(s, c.metric, c.window_s, 0)
    if not rows:
        return Observation.unknown()
    if c.source == "show":
        rows = [(m, v) for m, v in rows if not _boosted(s, m)]
        if len(rows) * 2 < c.window_s // 60:
            return Observation.unknown()
    now = fmean(v for _, v in rows)
    if c.source == "room":
        baseline = s.room_baselines.get(c.metric)
        if baseline is None or baseline.points < c.min_points:
            return Observation.unknown()
        mean, std = baseline.mean, baseline.std
    else:
        window_start = s.now_ms - s.now_ms % 60_000 - c.window_s // 60 * 60_000
        earlier_rows = [(m, v) for m, v in s.minutes.get(c.metric, ()) if m < window_start and not _boosted(s, m)]
        if len(earlier_rows) < c.min_points:
            return Observation.unknown()
        shares = s.minute_shares.get(c.metric)
        if shares is not None and c.drop is not None:
            return _share_against_show(c, shares, [m for m, _ in rows], [m for m, _ in earlier_rows])
        earlier = [v for _, v in earlier_rows]
        mean, std = fmean(earlier), pstdev(earlier)
    sign = -1 if c.direction == "below" else 1
    fires = False
    if c.sigmas is not None and std > 0:
        fires |= sign * (now - mean) >= c.sigmas * std
    if c.drop is not None and mean > 0:
        fires |= sign * (now - mean) / mean >= c.drop
    return Observation(fires, now, mean)


def _share_against_show(c: Baseline, shares, window: list[int], earlier: list[int]) -> Observation:
    """A rate of people in the window (pooled: buyers over viewers of its minutes) against
    the show's level (pooled over the earlier minutes); it fires when even the far end of
    the window's rate is `drop` away from the level (or `sigmas` minute-to-minute
    deviations, judged as before)."""
    part, whole = (sum(shares[m][i] for m in window) for i in (0, 1))
    level_part, level_whole = (sum(shares[m][i] for m in earlier) for i in (0, 1))
    if not whole or not level_whole:
        return Observation.unknown()
    now, level = part / whole, level_part / level_whole
    low, high = wilson_interval(part, whole, c.confidence)
    if c.direction == "below":
        fires = level > 0 and (level - high) / level >= c.drop
    else:
        fires = level > 0 and (low - level) / level >= c.drop
    if c.sigmas is not None and not fires:
        values = [shares[m][0] / shares[m][1] for m in earlier]
        std = pstdev(values)
        fires = std > 0 and (-1 if c.direction == "below" else 1) * (now - fmean(values)) >= c.sigmas * std
    return Observation(fires, now, level)


def _hits(s: RoomSignals, category: str, start_ms: int, end_ms: int) -> tuple[int, int]:
    """(category hits, comments) in 10-second buckets within [start, end)."""
    hits = comments = 0
    for bucket, counts in s.hit_buckets.items():
        if start_ms <= bucket < end_ms:
            hits += counts.get(category, 0)
            comments += counts.get(ALL_COMMENTS, 0)
    return hits, comments


def wilson_interval(hits: int, n: int, confidence: float) -> tuple[float, float]:
    """The low and high ends of the share `hits / n` could stand for (Wilson score
    interval, each end one-sided at `confidence`)."""
    if n <= 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(confidence)
    share = hits / n
    centre = share + z * z / (2 * n)
    margin = z * sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    scale = 1 + z * z / n
    return max(0.0, (centre - margin) / scale), min(1.0, (centre + margin) / scale)


def wilson_lower(hits: int, n: int, confidence: float) -> float:
    """The low end of the share `hits / n` could stand for: 3 of 30 is not yet evidence
    of 10 %, 300 of 3,000 is."""
    return wilson_interval(hits, n, confidence)[0]


# What a spike (min_rise) is measured against: the level of this long before the window
# (hit buckets are kept 15 minutes).
RISE_REFERENCE_MS = 10 * 60_000


def _keyword_rate(c: KeywordRate, s: RoomSignals) -> Observation:
    # Buckets are 10 s; the window ends with the bucket now is in.
    end = s.now_ms - s.now_ms % HIT_BUCKET_MS + HIT_BUCKET_MS
    window_ms = c.window_s * 1000
    start = end - window_ms
    if c.on_stage:
        if s.on_stage_sku is None or s.on_stage_since_ms is None:
            return Observation.unknown()
        start = max(start, s.on_stage_since_ms - s.on_stage_since_ms % HIT_BUCKET_MS)
    hits, comments = _hits(s, c.category, start, end)
    if c.per == "minute":
        now = evidence = hits * 60 / c.window_s
    elif comments < c.min_comments:
        return Observation.unknown()
    else:
        now, evidence = hits / comments, wilson_lower(hits, comments, c.confidence)
    fires = COMPARE[c.op](evidence, c.value)
    reference: float | None = c.value
    if c.min_rise is not None:
        # Against the level of the ten minutes before the window: a minute before holds
        # too few comments in a small room, and one quiet minute would make any next
        # one look like a spike. A spike needs a room that was talking before: after a
        # silence (or at the start of the show) any rate would look like one.
        hits_before, comments_before = _hits(s, c.category, end - window_ms - RISE_REFERENCE_MS, end - window_ms)
        if comments_before < c.min_comments:
            return Observation(False, now, None)
        before = hits_before * 60 / c.window_s if c.per == "minute" else hits_before / comments_before
        reference = before
        # The rise must be evidenced too: for a share, its low end now against the share
        # before (2 % → 3.5 % on a few hundred comments is no doubling).
        fires &= evidence >= before * (1 + c.min_rise) and evidence > before
    return Observation(fires, now, reference)


def _absence(c: Absence, s: RoomSignals) -> Observation:
    """Silence of the whole feed is measured where the feed arrives (ingest), so a worker
    that runs behind never reads as a silent feed; silence of one kind of event is read
    at the point processing has reached (now minus how far it trails ingest). A source
    is judged once it has been heard from during the show: a feed used in an earlier
    show, or never, has nothing to miss."""
    if c.from_source is not None:
        heard = s.source_arrivals.get(c.from_source)
        if heard is None or (s.show_started_ms is not None and heard < s.show_started_ms):
            return Observation.unknown()
        silent_s = max(0.0, (s.now_ms - heard) / 1000)
        return Observation(silent_s >= c.seconds, silent_s, c.seconds)
    last = s.last_seen.get(c.event_type or "*") or s.show_started_ms
    if c.event_type is None and s.last_arrived_ms is not None:
        last = max(last or 0, s.last_arrived_ms)
        now = s.now_ms
    else:
        now = s.now_ms - s.behind_ms
    if last is None:
        return Observation.unknown()
    silent_s = max(0.0, (now - last) / 1000)
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
