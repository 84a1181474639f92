"""Computing a review from a show's events: the heavy part, run in a process of its own
(controlroom/reports/service.py), so no review or rebuild ever holds up the event loop
that serves screens and ingest. Everything here takes and returns plain, picklable data
and reads the recording from disk itself (only the few events the recorder has not
reached yet come along from Redis)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from controlroom.metrics.state import Tagger
from controlroom.reports.recorder import events_on_disk, unique_events
from controlroom.reports.review import build_review

_taggers: dict[str, Tagger] = {}


@dataclass(frozen=True)
class ReviewJob:
    data_dir: Path
    room: str
    # controlroom/reports/service.py show_context: the show, its script and run, alerts,
    # playbook runs, cues and messages, all read from SQL.
    context: dict[str, Any]
    # Headline numbers of the room's earlier shows (stored reviews), newest first.
    previous: list[dict[str, Any]]
    now_ms: int
    # Events accepted beyond what the recorder has written (a running show).
    tail: list[dict[str, Any]] = field(default_factory=list)
    # The published lexicon (its JSON), for the comments' categories and hot words.
    lexicon: bytes | None = None


def _tagger(lexicon: bytes | None) -> Tagger | None:
    if lexicon is None:
        return None
    digest = hashlib.sha256(lexicon).hexdigest()
    if digest not in _taggers:
        from controlroom.moderation.live import tagger_of
        from controlroom.moderation.service import matcher_of

        _taggers.clear()
        _taggers[digest] = tagger_of(matcher_of(orjson.loads(lexicon)))
    return _taggers[digest]


def show_events(job: ReviewJob) -> list[dict[str, Any]]:
    show = job.context["show"]
    return unique_events([*events_on_disk(job.data_dir, job.room, show["id"]), *job.tail])


def compute_review(job: ReviewJob) -> dict[str, Any]:
    context = job.context
    show = context["show"]
    events = show_events(job)
    review = build_review(
        events=events, script=context["script"], run=context["run"], planned_start_ms=show["planned_start"],
        now_ms=job.now_ms, targets=show["targets"], alerts=context["alerts"], playbook_runs=context["playbook_runs"],
        cues=context["cues"], messages=context["messages"], previous=job.previous, tagger=_tagger(job.lexicon),
    )
    review["show"] = show
    review["room"] = job.room
    review["room_name"] = context["room_name"]
    review["events"] = len(events)
    review["run_status"] = context["run"].status
    # As JSON will store it, so a stored review and a fresh one read back alike.
    return orjson.loads(orjson.dumps(review, option=orjson.OPT_NON_STR_KEYS))


def compute_audience(job: ReviewJob) -> list[dict[str, Any]]:
    from controlroom.reports.review import engaged_audience

    return engaged_audience(show_events(job))
