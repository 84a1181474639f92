"""Alerts while SQL is away: screens first, the record later.

The engine steps the room's alerts from their projection in Redis (which carries each
alert's whole snapshot), writes the new projection and wakes the screens at once, and
appends every change, with the moment it happened, to the room's outbox stream, all in
one MULTI. When SQL answers again the outbox is recorded in order (idempotently) and
emptied, and the projection is rebuilt from SQL, which gives the new alerts their ids
(and with them their acknowledge buttons)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Awaitable, Callable

import orjson
import redis.asyncio as aioredis
from sqlalchemy.orm import Session

from controlroom.alerts.lifecycle import FIRING, OPEN_STATES, AlertSnapshot, Change
from controlroom.alerts.notices import alert_notices
from controlroom.alerts.service import (
    ALERTS, NO_ALERTS, SilenceRule, Stepped, alert_row, arrange, fingerprint, record_outboxed, rule_facts, snapshot_of_row,
    step_rules, worst_level,
)
from controlroom.bus import keys
from controlroom.bus.notices import post_notices
from controlroom.rules.evaluator import Observation
from controlroom.rules.schemas import RuleDefinition
from controlroom.bus.pubsub import announce

# Far more than an outage of hours produces (one entry per alert change).
OUTBOX_MAXLEN = 100_000
RECORD_BATCH = 500
FACTS = ("rule_key", "level", "name", "name_en", "labels", "advice", "playbook", "cue")


@dataclass
class ProjectedStep:
    """A round of a room's alerts stepped from their projection in Redis."""
    projection: dict[str, Any]
    known: bool  # False: Redis had no projection (stepped from none; only SQL knows)
    open_rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    moved: list[Stepped] = field(default_factory=list)

    @property
    def measure_only(self) -> bool:
        """Only the measured value of open alerts moved: nothing SQL keeps the record of."""
        return self.known and all(
            not step.changes and step.fingerprint in self.open_rows
            and replace(step.alert, value=None, reference=None)
            == replace(snapshot_of_row(self.open_rows[step.fingerprint]), value=None, reference=None)
            for step in self.moved
        )


async def step_projected(
    redis: aioredis.Redis, *, room: str, rules: list[RuleDefinition], observations: dict[str, Observation],
    red_escalation_s: int, now_ms: int,
) -> ProjectedStep:
    """The round `step_rules` gives on the alerts as the screens have them."""
    raw = await redis.get(ALERTS.key(room))
    projection = orjson.loads(raw) if raw else {**NO_ALERTS, "alerts": [], "markers": []}
    rows: list[dict[str, Any]] = projection["alerts"]
    open_rows = {fingerprint(room, row["rule_key"], row["labels"]): row for row in rows if row["state"] in OPEN_STATES}
    moved = step_rules(
        slug=room, rules=rules, observations=observations,
        open_alerts={key: snapshot_of_row(row) for key, row in open_rows.items()},
        handled={key for key, row in open_rows.items() if row.get("playbook_running")},
        silences=[SilenceRule.from_row(s) for s in projection["silences"] if s["ends_at"] > now_ms],
        red_escalation_s=red_escalation_s, now_ms=now_ms,
    )
    return ProjectedStep(projection, bool(raw), open_rows, moved)


def _facts(stepped: ProjectedStep, step: Any) -> dict[str, Any]:
    before = stepped.open_rows.get(step.fingerprint)
    return {name: before[name] for name in FACTS} if before else rule_facts(step.rule)


def _apply(stepped: ProjectedStep, *, show_id: int | None, now_ms: int) -> list[dict[str, Any]]:
    """Move the projection on by the step; returns the outbox entries of the changes."""
    projection, open_rows = stepped.projection, stepped.open_rows
    rows: list[dict[str, Any]] = projection["alerts"]
    entries = []
    for step in stepped.moved:
        before = open_rows.get(step.fingerprint)
        facts = _facts(stepped, step)
        row = alert_row(facts, step.alert, alert_id=before["id"] if before else None,
                        acked_by=before["acked_by"] if before else "", resolved_by="")
        row["playbook_running"] = bool(before and before.get("playbook_running"))
        if before is not None:
            rows[rows.index(before)] = row
        else:
            rows.append(row)
        if any(change.event == FIRING for change in step.changes) and not step.alert.muted_reason:
            projection["markers"].append({"x": now_ms // 1000, "level": facts["level"], "name": facts["name"],
                                          "name_en": facts["name_en"]})
        entries.append({"fingerprint": step.fingerprint, "facts": facts, "show_id": show_id,
                        "alert": asdict(step.alert), "at": now_ms,
                        "changes": [[c.event, c.from_state, c.reason] for c in step.changes]})
    projection["alerts"] = arrange(rows)
    projection["worst_level"] = worst_level(projection["alerts"])
    return entries


async def show_measures(redis: aioredis.Redis, *, room: str, stepped: ProjectedStep, now_ms: int) -> list[dict[str, Any]]:
    """A measure-only round: the screens get the new values, SQL is not asked (its record
    keeps the value each alert had when it last changed)."""
    _apply(stepped, show_id=None, now_ms=now_ms)
    pipe = redis.pipeline(transaction=True)
    pipe.set(ALERTS.key(room), orjson.dumps(stepped.projection))
    await pipe.execute()
    await announce(redis, room, ALERTS.name.encode())
    return stepped.projection["alerts"]


async def step_without_sql(
    redis: aioredis.Redis, *, room: str, show_id: int | None, rules: list[RuleDefinition],
    observations: dict[str, Observation], red_escalation_s: int, now_ms: int,
) -> list[dict[str, Any]] | None:
    """One round of the room's alerts from Redis alone. Returns the alerts now shown, or
    None when nothing changed."""
    stepped = await step_projected(redis, room=room, rules=rules, observations=observations,
                                   red_escalation_s=red_escalation_s, now_ms=now_ms)
    if not stepped.moved:
        return None
    entries = _apply(stepped, show_id=show_id, now_ms=now_ms)
    # The team's chats hear of it now, not when SQL is back: a notice without an alert
    # id (SQL gives it) links to the room instead of the alert.
    notices = [notice for step in stepped.moved for notice in alert_notices(
        room=room, alert_id=(stepped.open_rows.get(step.fingerprint) or {}).get("id"),
        facts=_facts(stepped, step), changes=step.changes, value=step.alert.value, now_ms=now_ms)]
    pipe = redis.pipeline(transaction=True)
    pipe.set(ALERTS.key(room), orjson.dumps(stepped.projection))
    for entry in entries:
        pipe.xadd(keys.alert_outbox(room), {"e": orjson.dumps(entry)}, maxlen=OUTBOX_MAXLEN, approximate=True)
    await pipe.execute()
    await announce(redis, room, ALERTS.name.encode())  # (a cluster refuses it in a transaction)
    if notices:  # a key of its own (another slot in a cluster): after the room's step
        await post_notices(redis, notices)
    return stepped.projection["alerts"]


async def outbox_waiting(redis: aioredis.Redis, room: str) -> bool:
    return bool(await redis.xlen(keys.alert_outbox(room)))


async def record_outbox(redis: aioredis.Redis, run: Callable[[Callable[[Session], None]], Awaitable[None]], *,
                        room: str, room_id: int) -> int:
    """Record the room's outbox in SQL, oldest first, and empty it; returns how many
    changes were recorded. `run(work)` runs work in a transaction. Raises (and keeps
    the rest) if SQL fails midway."""
    recorded = 0
    while True:
        batch = await redis.xrange(keys.alert_outbox(room), count=RECORD_BATCH)
        if not batch:
            return recorded
        entries = [orjson.loads(fields[b"e"]) for _, fields in batch]

        def record(session: Session) -> None:
            for entry in entries:
                changes = [(Change(event, reason, from_state), entry["at"]) for event, from_state, reason in entry["changes"]]
                record_outboxed(session, room_id=room_id, show_id=entry["show_id"],
                                fingerprint_key=entry["fingerprint"], facts=entry["facts"],
                                alert=AlertSnapshot(**entry["alert"]), changes=changes)

        await run(record)
        await redis.xdel(keys.alert_outbox(room), *(entry_id for entry_id, _ in batch))
        recorded += len(entries)
