"""Stream processing as one unit: the worker applies batches (tagging comments with the
live lexicon), the alert engine evaluates rules and the cue ticker fires the run-of-show's
cues for the rooms the worker holds. `serve` runs it inline by default;
`controlroom worker` runs it alone."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from sqlalchemy.orm import Session, sessionmaker

from controlroom.alerts.engine import AlertEngine
from controlroom.clock import Clock
from controlroom.ingest.worker import Worker
from controlroom.moderation.live import LiveLexicon
from controlroom.settings import Settings
from controlroom.shows.ticker import CueTicker


async def run_processing(
    client: aioredis.Redis, sessions: sessionmaker[Session], settings: Settings, clock: Clock, stop: asyncio.Event
) -> None:
    lexicon = LiveLexicon(client)
    await lexicon.refresh()
    worker = Worker(
        client,
        batch=settings.worker_batch,
        block_ms=settings.worker_block_ms,
        lease_ttl_ms=settings.lease_ttl_ms,
        clock=clock,
        tagger=lexicon.tagger,
    )
    engine = AlertEngine(
        client, sessions, clock=clock, rooms=lambda: list(worker.rooms),
        red_escalation_s=settings.red_escalation_s, tick_s=settings.alert_tick_s,
        min_interval_s=settings.alert_min_interval_s,
    )
    worker.on_applied = engine.batch_applied
    cues = CueTicker(client, sessions, clock=clock, rooms=lambda: list(worker.rooms))


    def use(tagger) -> None:
        worker.tagger = tagger

    await asyncio.gather(worker.run(stop), engine.run(stop), lexicon.run(stop, use), cues.run(stop))
