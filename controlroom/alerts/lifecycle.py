"""An alert's life: pending -> firing -> acknowledged -> resolved. Pure, clock-injected.

`step` takes the alert as it is (or None), what the rule observes now and whether the
alert is muted (silenced, inhibited); it returns the alert as it should be and the
changes to store, each a row with its reason. People act through `acknowledge` and
`resolve`; anything not in TRANSITIONS is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from controlroom.i18n.refusal import Refusal
from controlroom.rules.evaluator import Observation

PENDING, FIRING, ACKNOWLEDGED, RESOLVED = "pending", "firing", "acknowledged", "resolved"
OPEN_STATES = (PENDING, FIRING, ACKNOWLEDGED)
# Moves between states; None is "no alert yet".
TRANSITIONS = frozenset({
    (None, PENDING), (None, FIRING),
    (PENDING, FIRING), (PENDING, RESOLVED),
    (FIRING, ACKNOWLEDGED), (FIRING, RESOLVED),
    (ACKNOWLEDGED, RESOLVED),
})
# Things that happen to an open alert without changing its state, stored alike.
RENOTIFIED, ESCALATED, MUTED, UNMUTED = "renotified", "escalated", "muted", "unmuted"


class InvalidTransition(Refusal):
    """A move not in TRANSITIONS. People are told why in their language by the service
    (AlertActionRefused); this says which move it was."""


@dataclass(frozen=True)
class Timing:
    for_s: int = 0
    clear_for_s: int = 30
    renotify_s: int = 120  # 0: never
    escalate_after_s: int | None = None  # None: never


@dataclass(frozen=True)
class AlertSnapshot:
    state: str
    started_at: int  # ms; when the condition began to hold
    fired_at: int | None = None
    acked_at: int | None = None
    resolved_at: int | None = None
    clear_since: int | None = None  # when the condition stopped holding (firing alerts)
    last_notified_at: int | None = None
    # Since when people could hear it (fired, or unmuted): escalation counts from here.
    loud_since: int | None = None
    escalated_at: int | None = None
    muted_reason: str | None = None
    value: float | None = None
    reference: float | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


@dataclass(frozen=True)
class Change:
    event: str  # a state it moved to, or RENOTIFIED / ESCALATED / MUTED / UNMUTED
    reason: str
    from_state: str | None = None


def _move(alert: AlertSnapshot | None, to: str, reason: str, changes: list[Change], **fields) -> AlertSnapshot:
    source = alert.state if alert else None
    if (source, to) not in TRANSITIONS:
        raise InvalidTransition("an alert cannot go from %(source)s to %(target)s", source=source or "nothing",
                                target=to)
    changes.append(Change(to, reason, source))
    if alert is None:
        return AlertSnapshot(state=to, **fields)
    return replace(alert, state=to, **fields)


def step(
    alert: AlertSnapshot | None, observation: Observation, *, now_ms: int, timing: Timing,
    muted_reason: str | None = None, handled: bool = False,
) -> tuple[AlertSnapshot | None, list[Change]]:
    """`handled`: a playbook is running for this alert, so it stops calling for attention
    (no re-notification, no escalation)."""
    changes: list[Change] = []
    measured = {"value": observation.value, "reference": observation.reference}
    if alert is None or not alert.is_open:
        if not observation.holds:
            return alert, changes
        if timing.for_s == 0:
            alert = _move(None, FIRING, "condition holds", changes, started_at=now_ms, fired_at=now_ms, **measured)
            alert = _notify_on_fire(alert, muted_reason, now_ms, changes)
        else:
            alert = _move(None, PENDING, "condition holds", changes, started_at=now_ms, **measured)
        if alert.state == FIRING:
            return _follow_up(alert, now_ms, timing, changes)
        return alert, changes

    if observation.holds:
        alert = replace(alert, clear_since=None, **measured)
    elif observation.value is not None:
        alert = replace(alert, **measured)

    if alert.state == PENDING:
        if not observation.holds:
            return _move(alert, RESOLVED, "cleared before firing", changes, resolved_at=now_ms), changes
        if now_ms - alert.started_at >= timing.for_s * 1000:
            alert = _move(alert, FIRING, f"held for {timing.for_s} s", changes, fired_at=now_ms)
            alert = _notify_on_fire(alert, muted_reason, now_ms, changes)
        return alert, changes

    if not observation.holds:
        clear_since = alert.clear_since or now_ms
        if now_ms - clear_since >= timing.clear_for_s * 1000:
            reason = f"condition false for {timing.clear_for_s} s"
            return _move(alert, RESOLVED, reason, changes, resolved_at=now_ms, clear_since=clear_since), changes
        alert = replace(alert, clear_since=clear_since)

    if muted_reason != alert.muted_reason:
        if muted_reason:
            changes.append(Change(MUTED, muted_reason, alert.state))
            alert = replace(alert, muted_reason=muted_reason)
        else:
            changes.append(Change(UNMUTED, f"no longer {alert.muted_reason}", alert.state))
            # Muted while it fired: nobody has heard of it yet.
            if alert.state == FIRING:
                alert = replace(alert, muted_reason=None, last_notified_at=now_ms, loud_since=now_ms)
            else:
                alert = replace(alert, muted_reason=None)
    if handled:
        return alert, changes
    return _follow_up(alert, now_ms, timing, changes)


def _notify_on_fire(alert: AlertSnapshot, muted_reason: str | None, now_ms: int, changes: list[Change]) -> AlertSnapshot:
    if muted_reason:
        changes.append(Change(MUTED, muted_reason, alert.state))
        return replace(alert, muted_reason=muted_reason)
    return replace(alert, last_notified_at=now_ms, loud_since=now_ms)


def _follow_up(alert: AlertSnapshot, now_ms: int, timing: Timing, changes: list[Change]) -> tuple[AlertSnapshot, list[Change]]:
    """Nobody acknowledged a firing alert: escalate it once, re-notify now and then."""
    if alert.state != FIRING or alert.muted_reason or alert.loud_since is None:
        return alert, changes
    if timing.escalate_after_s is not None and alert.escalated_at is None:
        if now_ms - alert.loud_since >= timing.escalate_after_s * 1000:
            changes.append(Change(ESCALATED, f"not acknowledged within {timing.escalate_after_s} s", FIRING))
            alert = replace(alert, escalated_at=now_ms, last_notified_at=now_ms)
    if timing.renotify_s and alert.last_notified_at is not None:
        if now_ms - alert.last_notified_at >= timing.renotify_s * 1000:
            changes.append(Change(RENOTIFIED, f"still firing, unacknowledged after {timing.renotify_s} s", FIRING))
            alert = replace(alert, last_notified_at=now_ms)
    return alert, changes


def acknowledge(alert: AlertSnapshot, *, now_ms: int, by: str) -> tuple[AlertSnapshot, list[Change]]:
    changes: list[Change] = []
    return _move(alert, ACKNOWLEDGED, f"acknowledged by {by}", changes, acked_at=now_ms), changes


def resolve(alert: AlertSnapshot, *, now_ms: int, by: str) -> tuple[AlertSnapshot, list[Change]]:
    changes: list[Change] = []
    return _move(alert, RESOLVED, f"resolved by {by}", changes, resolved_at=now_ms), changes
