"""The post-show review (复盘): pure. The show's recorded events are applied to a fresh
room state (the same code as live, so every number has the live definition), split by
the segments' actual spans, and set beside the script, the alerts, the playbook runs,
the cues and the messages. A running show gives a draft; an ended one, the final review.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any, Iterable

from controlroom.metrics.state import M_COMMENTS, M_GMV, M_LIKES, M_ONLINE, P_CLICKS, P_GMV, P_ORDERS, P_REFUNDS
from controlroom.metrics.state import RoomState, Tagger
from controlroom.metrics.view import DEFAULT_TARGETS, room_view
from controlroom.shows import engine
from controlroom.shows.engine import RunState
from controlroom.shows.script import Script

HEADLINE = (
    "peak_online", "avg_online", "viewers", "views", "avg_stay_s", "interaction_rate", "follows", "comments",
    "likes", "gift_value_cents", "orders_paid", "gmv_cents", "refund_cents", "conversion_rate", "aov_cents",
    "uv_value_cents", "gpm_cents",
)
# A dip worth a finding: online down this much within five minutes.
DIP = 0.2
INTERACTION_KINDS = {"comment", "like", "gift", "share", "follow"}


PEOPLE = ("viewers", "interacting", "likers", "clickers", "orderers", "payers")


def _collect(people: dict[str, set[str]], events: Iterable[dict]) -> None:
    for e in events:
        user = e.get("user")
        if not user:
            continue
        uid = user["id"]
        people["viewers"].add(uid)
        kind = e["type"]
        if kind in INTERACTION_KINDS:
            people["interacting"].add(uid)
        if kind == "like":
            people["likers"].add(uid)
        elif kind == "product_click":
            people["clickers"].add(uid)
        elif kind == "order" and e.get("status") == "created":
            people["orderers"].add(uid)
        elif kind == "order" and e.get("status") == "paid":
            people["payers"].add(uid)


@dataclass
class _Share:
    """The numbers of a share of the show (all of it, or one segment): its room state,
    order ledger and distinct people."""

    state: RoomState = field(default_factory=RoomState)
    ledger: dict[str, int] = field(default_factory=dict)
    people: dict[str, set[str]] = field(default_factory=lambda: {kind: set() for kind in PEOPLE})

    def add(self, events: list[dict], tagger: Tagger | None) -> None:
        self.state.apply(events, self.ledger, tagger)
        _collect(self.people, events)

    def distinct(self) -> dict[str, int]:
        return {kind: len(ids) for kind, ids in self.people.items()}


class ReviewFold:
    """Everything a review is computed from, folded batch by batch as the recording
    grows: the show's numbers (the same RoomState code as live, so every number has the
    live definition), each segment's, and when each person was first seen. A running
    show's draft folds only what was recorded since the last draft; the final review
    folds the whole recording once."""

    def __init__(self, tagger: Tagger | None = None) -> None:
        self.tagger = tagger
        self.show = _Share()
        self.segments: dict[int, _Share] = {}
        self.first_seen: dict[str, int] = {}
        self.events = 0

    def add(self, events: Iterable[dict], spans: list[tuple[int, int, int]]) -> None:
        """`spans`: (segment index, start, end) of each actual run of a segment, as the
        run stands now (see `segment_spans`)."""
        events = sorted(events, key=lambda e: e["ts"])
        self.show.add(events, self.tagger)
        by_segment: dict[int, list[dict]] = {}
        for e in events:
            user = e.get("user")
            if user and e["ts"] < self.first_seen.get(user["id"], e["ts"] + 1):
                self.first_seen[user["id"]] = e["ts"]
            index = _segment_of(e["ts"], spans)
            if index is not None:
                by_segment.setdefault(index, []).append(e)
        for index, share in by_segment.items():
            self.segments.setdefault(index, _Share()).add(share, self.tagger)
        self.events += len(events)


def apply_events(events: list[dict], tagger: Tagger | None) -> RoomState:
    state = RoomState()
    state.apply(events, {}, tagger)
    return state


def headline(state: RoomState, distinct: dict[str, int], now_ms: int) -> dict[str, Any]:
    view = room_view(state, now_ms=now_ms, distinct=distinct)
    onlines = [row[M_ONLINE] for row in state.minutes.values()]
    numbers = {name: view.get(name) for name in HEADLINE}
    numbers["avg_online"] = fmean(onlines) if onlines else 0
    numbers["follows"] = state.follows
    return numbers


def segment_spans(run: RunState, now_ms: int) -> list[tuple[int, int, int]]:
    """(segment index, start, end) of each actual run of a segment, half-open."""
    return [(a.index, a.started_at, a.ended_at or now_ms) for a in run.actuals]


def _first_seen_by_segment(first_seen: Iterable[int], spans: list[tuple[int, int, int]]) -> Counter[int]:
    """How many people were first seen in each segment: one search among the spans per
    person (the spans of a run follow each other and never overlap)."""
    ordered = sorted(spans, key=lambda span: span[1])
    starts = [start for _, start, _ in ordered]
    counted: Counter[int] = Counter()
    for ts in first_seen:
        at = bisect_right(starts, ts) - 1
        if at >= 0 and ts < ordered[at][2]:
            counted[ordered[at][0]] += 1
    return counted


def _segment_of(ts: int, spans: list[tuple[int, int, int]]) -> int | None:
    for index, start, end in spans:
        if start <= ts < end:
            return index
    return None


def build_review(
    *, events: list[dict], script: Script, run: RunState, planned_start_ms: int, now_ms: int,
    targets: dict[str, Any] | None = None, alerts: list[dict] = (), playbook_runs: list[dict] = (),
    cues: list[dict] = (), messages: list[dict] = (), previous: list[dict] = (), tagger: Tagger | None = None,
) -> dict[str, Any]:
    """The review of a show's events, all at once. `previous`: headline numbers of the
    room's earlier shows, newest first."""
    fold = ReviewFold(tagger)
    fold.add(events, segment_spans(run, now_ms))
    return review_of(fold, script=script, run=run, planned_start_ms=planned_start_ms, now_ms=now_ms, targets=targets,
                     alerts=alerts, playbook_runs=playbook_runs, cues=cues, messages=messages, previous=previous)


def review_of(
    fold: ReviewFold, *, script: Script, run: RunState, planned_start_ms: int, now_ms: int,
    targets: dict[str, Any] | None = None, alerts: list[dict] = (), playbook_runs: list[dict] = (),
    cues: list[dict] = (), messages: list[dict] = (), previous: list[dict] = (),
) -> dict[str, Any]:
    """The review from what is folded so far: work in proportion to the show's minutes,
    segments and words, not to its events."""
    state = fold.show.state
    numbers = headline(state, fold.show.distinct(), now_ms)
    spans = segment_spans(run, now_ms)
    report = engine.planned_vs_actual(script, run, now_ms)
    first_seen_in = _first_seen_by_segment(fold.first_seen.values(), spans)
    segments = []
    for row in report:
        share = fold.segments.get(row.index) or _Share()
        seg_state = share.state
        seg_distinct = share.distinct()
        new_viewers = first_seen_in.get(row.index, 0)
        minutes = (row.actual_s or 0) / 60
        onlines = [r[M_ONLINE] for r in seg_state.minutes.values()]
        segments.append({
            **asdict(row),
            "kind": script.segments[row.index].kind, "sku": script.segments[row.index].sku,
            "avg_online": fmean(onlines) if onlines else None, "new_viewers": new_viewers,
            "comments": seg_state.comments, "orders_paid": seg_state.orders_paid, "gmv_cents": seg_state.gmv_cents,
            "gmv_per_min_cents": seg_state.gmv_cents / minutes if minutes else None,
            "conversion_rate": seg_distinct["payers"] / seg_distinct["viewers"] if seg_distinct["viewers"] else None,
            "hot_words": _top_words(seg_state, 5),
            "traffic": dict(seg_state.traffic),
        })
    ranked = sorted((s for s in segments if s["actual_s"]), key=lambda s: -(s["gmv_cents"] or 0))
    for rank, segment in enumerate(ranked, start=1):
        segment["rank"] = rank

    on_stage: dict[str, list[int]] = {}
    for index, segment in enumerate(script.segments):
        if segment.sku:
            on_stage.setdefault(segment.sku, []).append(index + 1)
    products = sorted(
        ({"sku": sku, "clicks": r[P_CLICKS], "orders": r[P_ORDERS], "gmv_cents": r[P_GMV], "refunds": r[P_REFUNDS],
          "on_stage": on_stage.get(sku, [])} for sku, r in state.products.items()),
        key=lambda p: (-p["gmv_cents"], -p["clicks"], p["sku"]),
    )
    minutes = sorted(state.minutes)
    series = {
        "x": [m // 1000 for m in minutes],
        "online": [state.minutes[m][M_ONLINE] for m in minutes],
        "comments": [state.minutes[m][M_COMMENTS] for m in minutes],
        "likes": [state.minutes[m][M_LIKES] for m in minutes],
        "gmv": [state.minutes[m][M_GMV] / 100 for m in minutes],
    }
    questions: dict[str, int] = {}
    for counts in state.question_minutes.values():
        for group, count in counts.items():
            questions[group] = questions.get(group, 0) + count

    incidents = [_incident(alert) for alert in alerts]
    review = {
        "headline": numbers,
        "targets": DEFAULT_TARGETS | (targets or {}),
        "previous": previous[0] if previous else None,
        "average": _average(previous),
        "series": series,
        "bands": [[start // 1000, end // 1000, script.segments[i].title] for i, start, end in spans],
        "segment_marks": [[start // 1000, script.segments[i].title] for i, start, _ in spans],
        "markers": (
            [{"x": a["fired_at"] // 1000, "kind": "alert", "level": a["level"], "text": a["name"]}
             for a in alerts if a.get("fired_at")]
            + [{"x": c["fired_at"] // 1000, "kind": "cue", "text": c["text"]} for c in cues]
            + [{"x": m["sent_at"] // 1000, "kind": "message", "text": m["text"]} for m in messages]
            + [{"x": p["started_at"] // 1000, "kind": "playbook", "text": p["name"]} for p in playbook_runs]
        ),
        "segments": segments,
        "products": products,
        "hot_words": _top_words(state, 20),
        "traffic": dict(state.traffic),
        "questions": sorted(questions.items(), key=lambda item: (-item[1], item[0])),
        "moderation": sorted(state.category_hits.items(), key=lambda item: (-item[1], item[0])),
        "incidents": incidents,
        "playbooks": list(playbook_runs),
        "planned_start": planned_start_ms,
        "final": run.status == engine.ENDED,
    }
    review["findings"] = findings(review, cues=cues)
    return review


def _top_words(state: RoomState, limit: int) -> list[tuple[str, int]]:
    totals: dict[str, int] = {}
    for counts in state.word_minutes.values():
        for word, count in counts.items():
            totals[word] = totals.get(word, 0) + count
    return sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]


def _incident(alert: dict) -> dict:
    fired = alert.get("fired_at")
    return {
        **alert,
        "ack_s": (alert["acked_at"] - fired) / 1000 if fired and alert.get("acked_at") else None,
        "resolve_s": (alert["resolved_at"] - fired) / 1000 if fired and alert.get("resolved_at") else None,
    }


def _average(previous: Iterable[dict]) -> dict[str, float] | None:
    previous = list(previous)
    if not previous:
        return None
    return {name: fmean(p[name] for p in previous if p.get(name) is not None)
            for name in HEADLINE if any(p.get(name) is not None for p in previous)}


def findings(review: dict, *, cues: list[dict]) -> list[dict]:
    """A few plain sentences worth discussing, computed from the numbers."""
    found = []
    played = [s for s in review["segments"] if s["actual_s"]]
    per_min = [s for s in played if s["gmv_per_min_cents"] is not None]
    if per_min:
        worst = min(per_min, key=lambda s: s["gmv_per_min_cents"])
        if worst["over_s"] and worst["over_s"] >= 60:
            found.append({"kind": "overrun_low_earner", "segment": worst["index"] + 1, "title": worst["title"],
                          "over_min": round(worst["over_s"] / 60)})
        best = max(per_min, key=lambda s: s["gmv_per_min_cents"])
        if best is not worst:
            found.append({"kind": "best_earner", "segment": best["index"] + 1, "title": best["title"],
                          "gmv_per_min_cents": round(best["gmv_per_min_cents"])})
    for s in played:
        if s["over_s"] is not None and s["over_s"] >= 120 and not any(
                f.get("segment") == s["index"] + 1 for f in found):
            found.append({"kind": "overrun", "segment": s["index"] + 1, "title": s["title"],
                          "over_min": round(s["over_s"] / 60)})
    dip = _biggest_dip(review["series"])
    if dip is not None:
        at, drop = dip
        later = [c for c in cues if c["fired_at"] // 1000 >= at and any(w in c["text"] for w in ("福袋", "秒杀", "抽奖"))]
        found.append({"kind": "dip", "at": at * 1000, "drop": drop,
                      "reaction_min": round((later[0]["fired_at"] // 1000 - at) / 60) if later else None,
                      "reaction": later[0]["text"] if later else None})
    late = sum(step["late"] for run in review["playbooks"] for step in run.get("steps", []))
    if late:
        found.append({"kind": "late_steps", "count": late})
    return found


def _biggest_dip(series: dict) -> tuple[int, float] | None:
    """(minute, drop) of the steepest fall of online within five minutes, if ≥ DIP."""
    best = None
    online, xs = series["online"], series["x"]
    for i in range(len(online)):
        for j in range(max(0, i - 5), i):
            if online[j] > 0:
                drop = (online[j] - online[i]) / online[j]
                if drop >= DIP and (best is None or drop > best[1]):
                    best = (xs[i], drop)
    return best


def engaged_audience(events: list[dict]) -> list[dict[str, Any]]:
    """People who commented, gifted or bought, with their counts, most engaged first."""
    people: dict[str, dict[str, Any]] = {}
    for e in events:
        user = e.get("user")
        kind = e["type"]
        if not user or kind not in ("comment", "gift", "order"):
            continue
        row = people.setdefault(user["id"], {"user_id": user["id"], "name": user.get("name") or "", "comments": 0,
                                             "gifts": 0, "gift_value_cents": 0, "orders_paid": 0, "paid_cents": 0})
        if user.get("name"):
            row["name"] = user["name"]
        if kind == "comment":
            row["comments"] += 1
        elif kind == "gift":
            row["gifts"] += e.get("count", 1)
            row["gift_value_cents"] += e.get("value_cents", 0)
        elif e.get("status") == "paid":
            row["orders_paid"] += 1
            row["paid_cents"] += e.get("amount_cents", 0)
    return sorted(people.values(), key=lambda r: (-r["paid_cents"], -r["gift_value_cents"], -r["comments"], r["user_id"]))
