"""The alert outbox on real Redis and SQL: alerts stepped without SQL show at once and
are recorded later at the moments they happened, exactly once even if recording is
repeated (a crash between the SQL commit and emptying the outbox)."""

from __future__ import annotations

from datetime import timezone

import orjson
import redis.asyncio as aioredis
from sqlalchemy import select

from controlroom.alerts.models import Alert
from controlroom.alerts.outbox import record_outbox, step_without_sql
from controlroom.alerts.service import ALERTS
from controlroom.bus import keys
from controlroom.db.session import make_engine, run_in_transaction, session_factory
from controlroom.rooms.models import Room
from controlroom.rules.evaluator import Observation
from controlroom.rules.schemas import RuleDefinition

T0 = 1_790_000_000_000
RULE = RuleDefinition(key="stream-down", name="断流", name_en="Stream down", level="red", group="stream",
                      condition={"kind": "status", "status": "interrupted"}, clear_for_s=0, renotify_s=0)


async def test_alerts_shown_without_sql_are_recorded_once_at_their_times(room, redis_url, database_url):
    client = aioredis.Redis.from_url(redis_url)
    sessions = session_factory(make_engine(database_url))
    room_id = await run_in_transaction(sessions, lambda s: s.scalar(select(Room.id).where(Room.slug == room)))
    await client.delete(ALERTS.key(room), keys.alert_outbox(room))
    notices_before = (await client.xrevrange(keys.NOTICES, count=1) or [(b"0-0", None)])[0][0]

    async def round_at(ms: int, holds: bool):
        return await step_without_sql(client, room=room, show_id=None, rules=[RULE],
                                      observations={RULE.key: Observation(holds, 1.0 if holds else 0.0)},
                                      red_escalation_s=30, now_ms=ms)

    shown = await round_at(T0, True)
    assert [(row["rule_key"], row["state"], row["id"]) for row in shown] == [("stream-down", "firing", None)]
    assert await round_at(T0 + 1000, True) is None  # still firing: nothing new to show or record
    resolved = await round_at(T0 + 5000, False)
    assert resolved[0]["state"] == "resolved"
    entries = await client.xrange(keys.alert_outbox(room))
    assert len(entries) == 2
    # The chats hear of it while SQL is away: fired and resolved, linking to the room
    # (no alert id before SQL records it).
    told = [orjson.loads(fields[b"n"]) for _, fields in await client.xrange(keys.NOTICES, min=b"(" + notices_before)]
    told = [n for n in told if n["room"] == room]
    assert [(n["event"], n["rule"], n["alert_id"]) for n in told] == [("fired", "stream-down", None),
                                                                      ("resolved", "stream-down", None)]

    async def run(work):
        return await run_in_transaction(sessions, work)

    assert await record_outbox(client, run, room=room, room_id=room_id) == 2
    # Put the same entries back, as if the process died before emptying the outbox.
    for _, fields in entries:
        await client.xadd(keys.alert_outbox(room), fields)
    assert await record_outbox(client, run, room=room, room_id=room_id) == 2
    assert await client.xlen(keys.alert_outbox(room)) == 0

    def recorded(session):
        alerts = session.scalars(select(Alert).where(Alert.room_id == room_id, Alert.rule_key == "stream-down")).all()
        return [(a.state, a.started_at.astimezone(timezone.utc).timestamp(),
                 [(t.event, t.at.timestamp()) for t in a.transitions]) for a in alerts]

    assert await run_in_transaction(sessions, recorded) == [
        ("resolved", T0 / 1000, [("firing", T0 / 1000), ("resolved", (T0 + 5000) / 1000)]),
    ]
    await client.aclose()
