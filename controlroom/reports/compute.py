"""Computing a review from a show's events: the heavy part, run in a process of its own
(controlroom/reports/service.py), so no review or rebuild ever holds up the event loop
that serves screens and ingest. Everything here takes and returns plain, picklable data
and reads the recording from disk itself (only the few events the recorder has not
reached yet come along from Redis)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from controlroom.metrics.state import Tagger
from controlroom.reports.recorder import events_on_disk, parts_dir, unique_events
from controlroom.reports.recording import read_recording, recording_path
from controlroom.reports.review import ReviewFold, review_of, segment_spans

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


def ready(_job: object = None) -> bool:
    """Nothing: run once at start-up so the first review someone opens does not wait for
    the review process to start and import."""
    return True


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
    """The review from every event of the show, folded at once (an ended show's, stored)."""
    context = job.context
    fold = ReviewFold(_tagger(job.lexicon))
    fold.add(show_events(job), segment_spans(context["run"], job.now_ms))
    return _finish(job, fold)


@dataclass
class _Draft:
    fold: ReviewFold
    parts: dict[str, int]  # part file -> its size when folded
    lexicon: bytes | None


# The drafts of running shows this process keeps folding, the most recently asked last.
_drafts: OrderedDict[tuple[str, str, int], _Draft] = OrderedDict()
KEPT_DRAFTS = 8


def compute_draft(job: ReviewJob) -> dict[str, Any]:
    """A running show's draft: only the parts recorded since this process last folded
    the show are read, so a draft costs what was recorded meanwhile plus the review's
    own size (minutes, segments, words), not the whole show. It stands as of the last
    part; the few seconds beyond the recorder are left out (`recorded_until`)."""
    show = job.context["show"]
    folder = parts_dir(job.data_dir, job.room, show["id"])
    try:
        sizes = {part.name: part.stat().st_size for part in sorted(folder.glob("*.jsonl.gz"))}
    except FileNotFoundError:
        sizes = None  # merged meanwhile
    if sizes is None or recording_path(job.data_dir, job.room, show["id"]).exists():
        return compute_review(job)
    key = (str(job.data_dir), job.room, show["id"])
    draft = _drafts.pop(key, None)
    if draft is None or draft.lexicon != job.lexicon or any(
            sizes.get(name) != size for name, size in draft.parts.items()):
        # First ask, a new lexicon, or a part written again (a round repeated after a
        # crash): fold from the start.
        draft = _Draft(ReviewFold(_tagger(job.lexicon)), {}, job.lexicon)
    spans = segment_spans(job.context["run"], job.now_ms)
    for name, size in sizes.items():
        if name not in draft.parts:
            draft.fold.add(read_recording(folder / name), spans)
            draft.parts[name] = size
    _drafts[key] = draft
    while len(_drafts) > KEPT_DRAFTS:
        _drafts.popitem(last=False)
    return _finish(job, draft.fold)


def _finish(job: ReviewJob, fold: ReviewFold) -> dict[str, Any]:
    context = job.context
    show = context["show"]
    review = review_of(
        fold, script=context["script"], run=context["run"], planned_start_ms=show["planned_start"], now_ms=job.now_ms,
        targets=show["targets"], alerts=context["alerts"], playbook_runs=context["playbook_runs"],
        cues=context["cues"], messages=context["messages"], previous=job.previous,
    )
    review["show"] = show
    review["room"] = job.room
    review["room_name"] = context["room_name"]
    review["events"] = fold.events
    review["run_status"] = context["run"].status
    review["recorded_until"] = fold.show.state.last_event_ts or None
    # As JSON will store it, so a stored review and a fresh one read back alike.
    return orjson.loads(orjson.dumps(review, option=orjson.OPT_NON_STR_KEYS))


def compute_audience(job: ReviewJob) -> list[dict[str, Any]]:
    from controlroom.reports.review import engaged_audience

    return engaged_audience(show_events(job))
