"""A controller's action conflicting with a write to the show is applied again when that
write was only the cue ticker marking cues fired, and refused when the show moved."""

from __future__ import annotations

from controlroom.shows.models import Show
from controlroom.shows.routes import _position

RUN = {"status": "live", "index": 1, "segment_started_at": 1_000, "extension_s": 0, "fired": ["a"],
       "actuals": [[0, "开场", 300, 0, 1_000, 0, 0, False]]}


def test_cues_fired_meanwhile_leave_the_position_as_it_was():
    assert _position(Show(run=RUN)) == _position(Show(run={**RUN, "fired": ["a", "b"]}))


def test_a_move_extension_or_hold_by_someone_else_changes_the_position():
    for moved in ({"index": 2}, {"extension_s": 60}, {"held_at": 5_000}, {"status": "ended"}):
        assert _position(Show(run=RUN)) != _position(Show(run={**RUN, **moved}))
