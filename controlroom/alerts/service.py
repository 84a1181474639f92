"""Alerts in SQL: applying the engine's observations, people's acks and resolves,
silences, and the projection the screens read from Redis. Keyword-only functions that
do not commit: the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from controlroom.alerts import lifecycle
from controlroom.alerts.lifecycle import OPEN_STATES, RESOLVED, AlertSnapshot, Change, Timing
from controlroom.alerts.models import Alert, AlertTransition, Silence
from controlroom.live.projections import declare
from controlroom.playbooks.service import running_alert_ids
from controlroom.rooms.models import Room
from controlroom.rules.evaluator import Observation
from controlroom.rules.schemas import LEVEL_RANK, RuleDefinition

# Resolved alerts stay on screen this long (greyed), so nobody wonders where one went.
RECENTLY_RESOLVED = timedelta(minutes=10)
# The charts mark alerts that fired within the span of the live state's minutes.
MARKERS_SPAN = timedelta(hours=24)
MAX_MARKERS = 200
MAX_SILENCE = timedelta(days=7)


def _ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def _dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc) if ms is not None else None


def fingerprint(room: str, rule_key: str, labels: dict[str, str]) -> str:
    return "|".join([room, rule_key, *(f"{k}={v}" for k, v in sorted(labels.items()))])


def snapshot_of(alert: Alert) -> AlertSnapshot:
    return AlertSnapshot(
        state=alert.state, started_at=_ms(alert.started_at), fired_at=_ms(alert.fired_at),
        acked_at=_ms(alert.acked_at), resolved_at=_ms(alert.resolved_at), clear_since=_ms(alert.clear_since),
        last_notified_at=_ms(alert.last_notified_at), loud_since=_ms(alert.loud_since),
        escalated_at=_ms(alert.escalated_at),
        muted_reason=alert.muted_reason, value=alert.value, reference=alert.reference,
    )


def _store(alert: Alert, snapshot: AlertSnapshot, changes: list[Change], *, now: datetime, actor: str = "") -> None:
    alert.state = snapshot.state
    for name in (
        "started_at", "fired_at", "acked_at", "resolved_at", "clear_since", "last_notified_at", "loud_since",
        "escalated_at",
    ):
        setattr(alert, name, _dt(getattr(snapshot, name)))
    alert.muted_reason = snapshot.muted_reason
    alert.value, alert.reference = snapshot.value, snapshot.reference
    for change in changes:
        alert.transitions.append(
            AlertTransition(at=now, event=change.event, from_state=change.from_state, reason=change.reason[:300], actor=actor)
        )


def timing_of(rule: RuleDefinition, *, red_escalation_s: int) -> Timing:
    escalate = rule.escalate_after_s if rule.escalate_after_s is not None else (
        red_escalation_s if rule.level == "red" else None
    )
    return Timing(for_s=rule.for_s, clear_for_s=rule.clear_for_s, renotify_s=rule.renotify_s, escalate_after_s=escalate)


def open_alerts(session: Session, *, room_id: int) -> list[Alert]:
    return list(session.scalars(select(Alert).where(Alert.room_id == room_id, Alert.state.in_(OPEN_STATES))))


def active_silences(session: Session, *, room_id: int, now: datetime) -> list[Silence]:
    return list(session.scalars(
        select(Silence)
        .where(or_(Silence.room_id == room_id, Silence.room_id.is_(None)))
        .where(Silence.cancelled_at.is_(None), Silence.starts_at <= now, Silence.ends_at > now)
        .order_by(Silence.ends_at)
    ))


def silence_matches(silence: Silence, *, rule_key: str, labels: dict[str, str]) -> bool:
    if silence.rule_key and silence.rule_key != rule_key:
        return False
    return all(labels.get(name) == value for name, value in (silence.labels or {}).items())


@dataclass
class RoomContext:
    room_id: int
    slug: str
    show_id: int | None
    red_escalation_s: int


def apply_observations(
    session: Session,
    *,
    context: RoomContext,
    rules: Iterable[RuleDefinition],
    observations: dict[str, Observation],
    now_ms: int,
) -> bool:
    """Move the room's alerts on by what the rules observe now. Rules that mute others
    (inhibits) go first, so a stream outage mutes traffic alerts in the same round.
    Returns whether anything changed."""
    now = _dt(now_ms)
    by_fingerprint = {alert.fingerprint: alert for alert in open_alerts(session, room_id=context.room_id)}
    handled = running_alert_ids(session, room_id=context.room_id)
    silences = active_silences(session, room_id=context.room_id, now=now)
    ordered = sorted(rules, key=lambda rule: not rule.inhibits)
    inhibited: dict[str, str] = {}  # group -> reason
    changed = False
    for rule in ordered:
        observation = observations.get(rule.key)
        if observation is None:
            continue
        key = fingerprint(context.slug, rule.key, rule.labels)
        alert = by_fingerprint.get(key)
        muted = _muted_reason(rule, silences, inhibited)
        snapshot, changes = lifecycle.step(
            snapshot_of(alert) if alert else None, observation, now_ms=now_ms,
            timing=timing_of(rule, red_escalation_s=context.red_escalation_s), muted_reason=muted,
            handled=alert is not None and alert.id in handled,
        )
        if alert is None and snapshot is not None:
            alert = _new_alert(context, rule, key, now)
            session.add(alert)
            by_fingerprint[key] = alert
        if alert is not None and snapshot is not None and (changes or snapshot != snapshot_of(alert)):
            _store(alert, snapshot, changes, now=now)
            changed = True
        if rule.inhibits and snapshot is not None and snapshot.state in ("firing", "acknowledged"):
            for group in rule.inhibits:
                inhibited.setdefault(group, f"inhibited by {rule.key}")
    session.flush()
    return changed


def _muted_reason(rule: RuleDefinition, silences: list[Silence], inhibited: dict[str, str]) -> str | None:
    for silence in silences:
        if silence_matches(silence, rule_key=rule.key, labels=rule.labels):
            return f"silenced by {silence.created_by} until {silence.ends_at:%Y-%m-%dT%H:%M}Z (#{silence.id})"
    return inhibited.get(rule.group)


def _new_alert(context: RoomContext, rule: RuleDefinition, key: str, now: datetime) -> Alert:
    return Alert(
        room_id=context.room_id, show_id=context.show_id, rule_key=rule.key, fingerprint=key, level=rule.level,
        name=rule.name, name_en=rule.name_en, group=rule.group, labels=dict(rule.labels), advice=rule.advice,
        playbook=rule.playbook, cue=rule.cue, state="pending", started_at=now,
    )


class AlertActionRefused(ValueError):
    pass


def _room_alert(session: Session, *, room: Room, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or alert.room_id != room.id:
        raise LookupError(f"no alert {alert_id} in room {room.slug}")
    return alert


def act_on_alert(session: Session, *, room: Room, alert_id: int, action: str, by: str, now: datetime) -> Alert:
    """A person acknowledges or resolves an alert; refused unless the lifecycle allows it."""
    alert = _room_alert(session, room=room, alert_id=alert_id)
    move = {"acknowledge": lifecycle.acknowledge, "resolve": lifecycle.resolve}[action]
    try:
        snapshot, changes = move(snapshot_of(alert), now_ms=_ms(now), by=by)
    except lifecycle.InvalidTransition as error:
        raise AlertActionRefused(str(error)) from None
    _store(alert, snapshot, changes, now=now, actor=by)
    if action == "acknowledge":
        alert.acked_by = by
    else:
        alert.resolved_by = by
    session.flush()
    return alert


def create_silence(
    session: Session, *, room: Room | None, rule_key: str | None, labels: dict[str, str], minutes: int,
    comment: str, by: str, now: datetime,
) -> Silence:
    duration = timedelta(minutes=minutes)
    if not timedelta(minutes=1) <= duration <= MAX_SILENCE:
        raise AlertActionRefused(f"a silence lasts 1 minute to {MAX_SILENCE.days} days, not {minutes} minutes")
    silence = Silence(
        room_id=room.id if room else None, rule_key=rule_key or None, labels=labels, starts_at=now,
        ends_at=now + duration, comment=comment[:300], created_by=by, created_at=now,
    )
    session.add(silence)
    session.flush()
    return silence


def cancel_silence(session: Session, *, room: Room, silence_id: int, by: str, now: datetime) -> Silence:
    silence = session.get(Silence, silence_id)
    if silence is None or silence.room_id not in (room.id, None):
        raise LookupError(f"no silence {silence_id} in room {room.slug}")
    silence.cancelled_at, silence.cancelled_by = now, by
    session.flush()
    return silence


def room_alerts_projection(session: Session, *, room_id: int, now: datetime) -> dict[str, Any]:
    """What every screen of the room shows of its alerts (kept in Redis, pushed live)."""
    alerts = list(session.scalars(
        select(Alert)
        .where(Alert.room_id == room_id)
        # A pending alert that cleared before firing was never anyone's business.
        .where(or_(
            Alert.state.in_(OPEN_STATES),
            and_(Alert.resolved_at >= now - RECENTLY_RESOLVED, Alert.fired_at.is_not(None)),
        ))
        .order_by(Alert.started_at.desc(), Alert.id.desc())
        .limit(50)
    ))
    handled = running_alert_ids(session, room_id=room_id)
    rows = [_alert_row(alert) | {"playbook_running": alert.id in handled} for alert in alerts]
    rows.sort(key=lambda row: (row["state"] == RESOLVED, row["muted"], -LEVEL_RANK[row["level"]], -row["started_at"]))
    loud = [row for row in rows if row["state"] in ("firing", "acknowledged") and not row["muted"]]
    fired = session.execute(
        select(Alert.fired_at, Alert.level, Alert.name, Alert.name_en)
        .where(Alert.room_id == room_id, Alert.fired_at >= now - MARKERS_SPAN, Alert.muted_reason.is_(None))
        .order_by(Alert.fired_at.desc()).limit(MAX_MARKERS)
    ).all()
    return {
        "alerts": rows,
        "markers": [
            {"x": int(at.timestamp()), "level": level, "name": name, "name_en": name_en}
            for at, level, name, name_en in reversed(fired)
        ],
        "worst_level": max((row["level"] for row in loud), key=LEVEL_RANK.get, default=None),
        "silences": [
            {"id": s.id, "rule_key": s.rule_key, "labels": s.labels, "comment": s.comment,
             "created_by": s.created_by, "ends_at": _ms(s.ends_at)}
            for s in active_silences(session, room_id=room_id, now=now)
        ],
    }


def _alert_row(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id, "rule_key": alert.rule_key, "level": alert.level, "name": alert.name,
        "name_en": alert.name_en, "state": alert.state, "labels": alert.labels, "advice": alert.advice,
        "playbook": alert.playbook, "cue": alert.cue, "started_at": _ms(alert.started_at),
        "fired_at": _ms(alert.fired_at), "acked_at": _ms(alert.acked_at), "acked_by": alert.acked_by,
        "resolved_at": _ms(alert.resolved_at), "resolved_by": alert.resolved_by,
        "escalated": alert.escalated_at is not None and alert.state == "firing",
        "last_notified_at": _ms(alert.last_notified_at), "muted": bool(alert.muted_reason),
        "clearing": alert.clear_since is not None and alert.state in ("firing", "acknowledged"),
        "muted_reason": alert.muted_reason, "value": alert.value, "reference": alert.reference,
    }


NO_ALERTS: dict[str, Any] = {"alerts": [], "markers": [], "worst_level": None, "silences": []}
ALERTS = declare(
    "alerts", default=NO_ALERTS,
    build=lambda session, room, now: room_alerts_projection(session, room_id=room.id, now=now),
)
