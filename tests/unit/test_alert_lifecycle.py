"""The alert lifecycle with a fake clock: pending -> firing -> acknowledged -> resolved."""

from __future__ import annotations

import pytest

from controlroom.alerts import lifecycle
from controlroom.alerts.lifecycle import (
    ACKNOWLEDGED,
    ESCALATED,
    FIRING,
    MUTED,
    PENDING,
    RENOTIFIED,
    RESOLVED,
    TRANSITIONS,
    UNMUTED,
    InvalidTransition,
    Timing,
)
from controlroom.clock import FakeClock
from controlroom.rules.evaluator import Observation

HOLDS, CLEAR = Observation(True, 1.0), Observation(False, 0.0)


class Drive:
    """Step one alert through time, collecting every change."""

    def __init__(self, timing: Timing, muted: str | None = None) -> None:
        self.timing = timing
        self.clock = FakeClock()
        self.alert = None
        self.changes: list[lifecycle.Change] = []
        self.muted = muted

    def tick(self, observation: Observation, *, seconds: float = 1, times: int = 1) -> "Drive":
        for _ in range(times):
            self.alert, changes = lifecycle.step(
                self.alert, observation, now_ms=self.clock.now_ms(), timing=self.timing, muted_reason=self.muted
            )
            self.changes += changes
            self.clock.advance(seconds=seconds)
        return self

    def events(self) -> list[str]:
        return [change.event for change in self.changes]


def test_the_transition_table() -> None:
    assert (PENDING, FIRING) in TRANSITIONS
    assert (FIRING, ACKNOWLEDGED) in TRANSITIONS
    assert (ACKNOWLEDGED, RESOLVED) in TRANSITIONS
    for forbidden in [(RESOLVED, FIRING), (ACKNOWLEDGED, FIRING), (PENDING, ACKNOWLEDGED), (None, RESOLVED)]:
        assert forbidden not in TRANSITIONS


def test_pending_until_it_held_for_the_pending_period() -> None:
    drive = Drive(Timing(for_s=10)).tick(HOLDS, times=10)
    assert drive.alert.state == PENDING
    drive.tick(HOLDS)
    assert drive.alert.state == FIRING
    assert drive.events() == [PENDING, FIRING]


def test_a_pending_alert_that_clears_never_fires() -> None:
    drive = Drive(Timing(for_s=10)).tick(HOLDS, times=5).tick(CLEAR)
    assert drive.alert.state == RESOLVED
    assert drive.alert.fired_at is None


def test_a_firing_alert_that_stays_true_is_not_raised_again() -> None:
    drive = Drive(Timing(renotify_s=0)).tick(HOLDS, times=600)
    assert drive.events() == [FIRING]


def test_it_clears_only_after_being_false_for_the_clear_period() -> None:
    drive = Drive(Timing(clear_for_s=30)).tick(HOLDS).tick(CLEAR, times=30)
    assert drive.alert.state == FIRING
    drive.tick(HOLDS)  # true again: the clear period starts over
    drive.tick(CLEAR, times=30)
    assert drive.alert.state == FIRING
    drive.tick(CLEAR)
    assert drive.alert.state == RESOLVED
    assert drive.events() == [FIRING, RESOLVED]


def test_after_resolving_a_new_alert_starts() -> None:
    drive = Drive(Timing(clear_for_s=0)).tick(HOLDS).tick(CLEAR).tick(HOLDS)
    assert drive.events() == [FIRING, RESOLVED, FIRING]
    assert drive.alert.state == FIRING


def test_re_notifies_while_nobody_acknowledges() -> None:
    drive = Drive(Timing(renotify_s=120)).tick(HOLDS, times=121)
    assert drive.events() == [FIRING, RENOTIFIED]
    drive.tick(HOLDS, times=120)
    assert drive.events() == [FIRING, RENOTIFIED, RENOTIFIED]


def test_no_re_notification_once_acknowledged() -> None:
    drive = Drive(Timing(renotify_s=60)).tick(HOLDS, times=10)
    drive.alert, changes = lifecycle.acknowledge(drive.alert, now_ms=drive.clock.now_ms(), by="alice")
    assert [c.reason for c in changes] == ["acknowledged by alice"]
    drive.tick(HOLDS, times=300)
    assert drive.alert.state == ACKNOWLEDGED
    assert RENOTIFIED not in drive.events()


def test_a_red_alert_unacknowledged_for_30_seconds_escalates_once() -> None:
    drive = Drive(Timing(escalate_after_s=30, renotify_s=0)).tick(HOLDS, times=30)
    assert ESCALATED not in drive.events()
    drive.tick(HOLDS, times=100)
    assert drive.events() == [FIRING, ESCALATED]
    assert drive.alert.escalated_at == FakeClock().now_ms() + 30_000


def test_acknowledged_in_time_never_escalates() -> None:
    drive = Drive(Timing(escalate_after_s=30)).tick(HOLDS, times=29)
    drive.alert, _ = lifecycle.acknowledge(drive.alert, now_ms=drive.clock.now_ms(), by="bob")
    drive.tick(HOLDS, times=100)
    assert ESCALATED not in drive.events()


def test_a_muted_alert_fires_silently_and_speaks_when_unmuted() -> None:
    drive = Drive(Timing(escalate_after_s=30, renotify_s=60), muted="inhibited by stream-interrupted")
    drive.tick(HOLDS, times=200)
    assert drive.events() == [FIRING, MUTED]
    assert drive.alert.last_notified_at is None
    drive.muted = None
    drive.tick(HOLDS)
    assert drive.events()[-1] == UNMUTED
    assert drive.alert.last_notified_at is not None


def test_people_cannot_acknowledge_what_is_not_firing() -> None:
    drive = Drive(Timing(for_s=10)).tick(HOLDS)
    with pytest.raises(InvalidTransition):
        lifecycle.acknowledge(drive.alert, now_ms=drive.clock.now_ms(), by="alice")
    drive.tick(HOLDS, times=11)
    resolved, _ = lifecycle.resolve(drive.alert, now_ms=drive.clock.now_ms(), by="alice")
    with pytest.raises(InvalidTransition):
        lifecycle.acknowledge(resolved, now_ms=drive.clock.now_ms(), by="alice")
