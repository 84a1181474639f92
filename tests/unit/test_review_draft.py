"""A running show's draft folds only the parts recorded since the last draft, and comes
out as the review of the whole recording so far would."""

from __future__ import annotations

from pathlib import Path

from controlroom.reports import compute
from controlroom.reports.compute import ReviewJob, compute_draft, compute_review
from controlroom.reports.recorder import parts_dir, write_verified
from tests.unit.test_review import ALERT, EVENTS, SCRIPT, T0, run_of_show

COMPARED = ("headline", "series", "segments", "products", "hot_words", "questions", "moderation", "incidents")


def job(data_dir: Path) -> ReviewJob:
    context = {
        "show": {"id": 7, "title": "测试", "start": T0, "end": None, "rehearsal": False, "planned_start": T0,
                 "targets": {}},
        "room_name": "测试直播间", "script": SCRIPT, "run": run_of_show(), "alerts": [ALERT], "playbook_runs": [],
        "cues": [], "messages": [], "ended": False,
    }
    return ReviewJob(data_dir=data_dir, room="r1", context=context, previous=[], now_ms=T0 + 200_000)


def test_a_draft_folds_new_parts_only_and_matches_the_whole_recording_so_far(tmp_path: Path) -> None:
    compute._drafts.clear()
    folder = parts_dir(tmp_path, "r1", 7)
    write_verified(folder / "000000000000001-0000000000.jsonl.gz", EVENTS[:5])
    first = compute_draft(job(tmp_path))
    assert first["events"] == 5
    assert {k: first[k] for k in COMPARED} == {k: compute_review(job(tmp_path))[k] for k in COMPARED}

    write_verified(folder / "000000000000002-0000000000.jsonl.gz", EVENTS[5:])
    draft = compute.compute_draft(job(tmp_path))
    [(_, kept)] = compute._drafts.items()
    assert set(kept.parts) == {"000000000000001-0000000000.jsonl.gz", "000000000000002-0000000000.jsonl.gz"}
    assert kept.fold.events == len(EVENTS) == draft["events"]
    whole = compute_review(job(tmp_path))
    assert {k: draft[k] for k in COMPARED} == {k: whole[k] for k in COMPARED}
    assert draft["headline"]["gmv_cents"] == 2990 and draft["recorded_until"] == EVENTS[-1]["ts"]

    # A part written again (a recorder round repeated after a crash): folded from the start.
    write_verified(folder / "000000000000002-0000000000.jsonl.gz", EVENTS[5:-1])
    again = compute_draft(job(tmp_path))
    assert again["events"] == len(EVENTS) - 1 and again["headline"]["refund_cents"] == 0
