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
from controlroom.alerts.lifecycle import ACKNOWLEDGED, OPEN_STATES, PENDING, RESOLVED, AlertSnapshot, Change, Timing
from controlroom.alerts.notices import alert_notices
from controlroom.alerts.models import Alert, AlertTransition, Silence
from controlroom.i18n.refusal import Refusal
from controlroom.live.projections import declare
from controlroom.playbooks.service import running_alert_ids
from controlroom.rooms.models import Room
from controlroom.rules.evaluator import Observation, instance_key
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


@dataclass(frozen=True)
class SilenceRule:
    """What matching an alert against a silence needs: read from SQL, or from the
    projection in Redis while SQL is away."""

    id: int
    rule_key: str | None
    labels: dict[str, str]
    created_by: str
    ends_at_ms: int

    @classmethod
    def of(cls, silence: Silence) -> "SilenceRule":
        return cls(silence.id, silence.rule_key, dict(silence.labels or {}), silence.created_by, _ms(silence.ends_at))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "SilenceRule":
        return cls(row["id"], row["rule_key"], dict(row["labels"] or {}), row["created_by"], row["ends_at"])


def silence_matches(silence: SilenceRule | Silence, *, rule_key: str, labels: dict[str, str]) -> bool:
    if silence.rule_key and silence.rule_key != rule_key:
        return False
    return all(labels.get(name) == value for name, value in (silence.labels or {}).items())


@dataclass
class RoomContext:
    room_id: int
    slug: str
    show_id: int | None
    red_escalation_s: int


@dataclass(frozen=True)
class Stepped:
    """One alert moved on by a round: as it is now, and the changes to record."""

    rule: RuleDefinition
    fingerprint: str
    alert: AlertSnapshot
    changes: list[Change]


def step_rules(
    *,
    slug: str,
    rules: Iterable[RuleDefinition],
    observations: dict[str, Observation],
    open_alerts: dict[str, AlertSnapshot],
    handled: set[str],
    silences: list[SilenceRule],
    red_escalation_s: int,
    now_ms: int,
) -> list[Stepped]:
    """Move a room's open alerts (by fingerprint) on by what the rules observe now.
    Pure: the same round whether the alerts come from SQL or, while SQL is away, from
    the projection in Redis. Rules that mute others (inhibits) go first, so a stream
    outage mutes traffic alerts in the same round. `handled`: fingerprints of alerts
    a playbook is running for."""
    inhibited: dict[str, str] = {}  # group -> reason
    moved: list[Stepped] = []
    for rule in sorted(rules, key=lambda rule: not rule.inhibits):
        observation = observations.get(instance_key(rule))
        if observation is None:
            continue
        key = fingerprint(slug, rule.key, rule.labels)
        before = open_alerts.get(key)
        snapshot, changes = lifecycle.step(
            before, observation, now_ms=now_ms, timing=timing_of(rule, red_escalation_s=red_escalation_s),
            muted_reason=_muted_reason(rule, silences, inhibited), handled=key in handled,
        )
        if snapshot is not None and (changes or snapshot != before):
            moved.append(Stepped(rule, key, snapshot, changes))
        if rule.inhibits and snapshot is not None and snapshot.state in ("firing", "acknowledged"):
            for group in rule.inhibits:
                inhibited.setdefault(group, f"inhibited by {rule.key}")
    return moved


def apply_observations(
    session: Session,
    *,
    context: RoomContext,
    rules: Iterable[RuleDefinition],
    observations: dict[str, Observation],
    now_ms: int,
) -> list[dict[str, Any]] | None:
    """Move the room's alerts in SQL on by what the rules observe now. Returns None when
    nothing changed, else the notices the changes make for the team's chats."""
    now = _dt(now_ms)
    by_fingerprint = {alert.fingerprint: alert for alert in open_alerts(session, room_id=context.room_id)}
    running = running_alert_ids(session, room_id=context.room_id)
    moved = step_rules(
        slug=context.slug, rules=rules, observations=observations,
        open_alerts={key: snapshot_of(alert) for key, alert in by_fingerprint.items()},
        handled={key for key, alert in by_fingerprint.items() if alert.id in running},
        silences=[SilenceRule.of(s) for s in active_silences(session, room_id=context.room_id, now=now)],
        red_escalation_s=context.red_escalation_s, now_ms=now_ms,
    )
    stored = []
    for step in moved:
        alert = by_fingerprint.get(step.fingerprint)
        if alert is None:
            alert = _new_alert(context.room_id, context.show_id, rule_facts(step.rule), step.fingerprint, now)
            session.add(alert)
        _store(alert, step.alert, step.changes, now=now)
        stored.append((alert, step))
    if not moved:
        return None
    session.flush()  # the new alerts' ids, for the notices' links
    return [notice for alert, step in stored for notice in alert_notices(
        room=context.slug, alert_id=alert.id, facts=rule_facts(step.rule), changes=step.changes,
        value=step.alert.value, now_ms=now_ms)]


def _muted_reason(rule: RuleDefinition, silences: list[SilenceRule], inhibited: dict[str, str]) -> str | None:
    for silence in silences:
        if silence_matches(silence, rule_key=rule.key, labels=rule.labels):
            return f"silenced by {silence.created_by} until {_dt(silence.ends_at_ms):%Y-%m-%dT%H:%M}Z (#{silence.id})"
    return inhibited.get(rule.group)


def rule_facts(rule: RuleDefinition) -> dict[str, Any]:
    """What an alert copies from its rule (so later edits of the rule rewrite nothing)."""
    return {"rule_key": rule.key, "level": rule.level, "name": rule.name, "name_en": rule.name_en,
            "group": rule.group, "labels": dict(rule.labels), "advice": rule.advice, "playbook": rule.playbook,
            "cue": rule.cue}


def _new_alert(room_id: int, show_id: int | None, facts: dict[str, Any], key: str, now: datetime) -> Alert:
    return Alert(room_id=room_id, show_id=show_id, fingerprint=key, state="pending", started_at=now, **facts)


def record_outboxed(session: Session, *, room_id: int, show_id: int | None, fingerprint_key: str,
                    facts: dict[str, Any], alert: AlertSnapshot, changes: list[tuple[Change, int]]) -> None:
    """Record in SQL one change shown on the screens while SQL was away, at the times it
    happened. Idempotent: an alert is its fingerprint and start, and a change already
    recorded (the same event at the same moment) is not recorded twice, so an outbox
    entry recorded again after a crash changes nothing."""
    started = _dt(alert.started_at)
    row = session.scalar(
        select(Alert).where(Alert.room_id == room_id, Alert.fingerprint == fingerprint_key,
                            Alert.started_at >= started - timedelta(milliseconds=1),
                            Alert.started_at <= started + timedelta(milliseconds=1))
        .order_by(Alert.id.desc()).limit(1)
    )
    if row is None:
        row = _new_alert(room_id, show_id, facts, fingerprint_key, started)
        session.add(row)
        session.flush()
    recorded = {(t.event, _ms(t.at)) for t in row.transitions}
    for change, at_ms in changes:
        if (change.event, at_ms) not in recorded:
            row.transitions.append(AlertTransition(at=_dt(at_ms), event=change.event, from_state=change.from_state,
                                                   reason=change.reason[:300], actor=""))
    _store(row, alert, [], now=_dt(alert.started_at))
    session.flush()


class AlertActionRefused(Refusal):
    """Why a person's action on an alert or a silence is refused (said in the reader's
    language)."""


def _not_now(state: str) -> AlertActionRefused:
    """Why the lifecycle refuses to acknowledge or resolve an alert in `state`."""
    if state == RESOLVED:
        return AlertActionRefused("The alert is resolved already")
    if state == ACKNOWLEDGED:
        return AlertActionRefused("The alert is acknowledged already")
    if state == PENDING:
        return AlertActionRefused("The alert has not fired yet: there is nothing to acknowledge")
    return AlertActionRefused("The alert cannot be changed now (it is %(state)s)", state=state)


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
    except lifecycle.InvalidTransition:
        raise _not_now(alert.state) from None
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
        raise AlertActionRefused("minutes: a silence lasts 1 minute to %(days)s days, not %(minutes)s minutes",
                                 days=MAX_SILENCE.days, minutes=minutes)
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
    rows = arrange([_alert_row(alert) | {"playbook_running": alert.id in handled} for alert in alerts])
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
        "worst_level": worst_level(rows),
        "silences": [
            {"id": s.id, "rule_key": s.rule_key, "labels": s.labels, "comment": s.comment,
             "created_by": s.created_by, "ends_at": _ms(s.ends_at)}
            for s in active_silences(session, room_id=room_id, now=now)
        ],
    }


def arrange(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Worst first: open before resolved, loud before muted, red before yellow, newest first."""
    return sorted(rows, key=lambda row: (row["state"] == RESOLVED, row["muted"], -LEVEL_RANK[row["level"]],
                                         -row["started_at"]))


def worst_level(rows: list[dict[str, Any]]) -> str | None:
    loud = [row for row in rows if row["state"] in ("firing", "acknowledged") and not row["muted"]]
    return max((row["level"] for row in loud), key=LEVEL_RANK.get, default=None)


def alert_row(facts: dict[str, Any], snapshot: AlertSnapshot, *, alert_id: int | None, acked_by: str = "",
              resolved_by: str = "") -> dict[str, Any]:
    """One alert as the screens show it; every field of its snapshot is kept, so that the
    engine can step it from here while SQL is away (alert_id None: not recorded yet)."""
    return {
        "id": alert_id, **{name: facts[name] for name in ("rule_key", "level", "name", "name_en", "labels",
                                                           "advice", "playbook", "cue")},
        "state": snapshot.state, "started_at": snapshot.started_at, "fired_at": snapshot.fired_at,
        "acked_at": snapshot.acked_at, "acked_by": acked_by, "resolved_at": snapshot.resolved_at,
        "resolved_by": resolved_by, "escalated": snapshot.escalated_at is not None and snapshot.state == "firing",
        "escalated_at": snapshot.escalated_at, "last_notified_at": snapshot.last_notified_at,
        "loud_since": snapshot.loud_since, "clear_since": snapshot.clear_since,
        "muted": bool(snapshot.muted_reason),
        "clearing": snapshot.clear_since is not None and snapshot.state in ("firing", "acknowledged"),
        "muted_reason": snapshot.muted_reason, "value": snapshot.value, "reference": snapshot.reference,
    }


def snapshot_of_row(row: dict[str, Any]) -> AlertSnapshot:
    return AlertSnapshot(
        state=row["state"], started_at=row["started_at"], fired_at=row["fired_at"], acked_at=row["acked_at"],
        resolved_at=row["resolved_at"], clear_since=row.get("clear_since"),
        last_notified_at=row["last_notified_at"], loud_since=row.get("loud_since"),
        escalated_at=row.get("escalated_at"), muted_reason=row["muted_reason"], value=row["value"],
        reference=row["reference"],
    )


def _alert_row(alert: Alert) -> dict[str, Any]:
    facts = {"rule_key": alert.rule_key, "level": alert.level, "name": alert.name, "name_en": alert.name_en,
             "labels": alert.labels, "advice": alert.advice, "playbook": alert.playbook, "cue": alert.cue}
    return alert_row(facts, snapshot_of(alert), alert_id=alert.id, acked_by=alert.acked_by,
                     resolved_by=alert.resolved_by)


NO_ALERTS: dict[str, Any] = {"alerts": [], "markers": [], "worst_level": None, "silences": []}
ALERTS = declare(
    "alerts", default=NO_ALERTS,
    build=lambda session, room, now: room_alerts_projection(session, room_id=room.id, now=now),
)
