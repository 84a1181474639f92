"""Stream processing as one role: the worker applies batches (tagging comments with the
live lexicon), the alert engine evaluates rules and the cue ticker fires the run-of-show's
cues for the rooms the worker holds. `serve` runs it inline by default; `controlroom
worker` runs it alone."""

from __future__ import annotations

import asyncio

import structlog

from controlroom.alerts.engine import AlertEngine
from controlroom.connectors.runner import ConnectorRunner
from controlroom.db.health import DatabaseHealth
from controlroom.ingest.worker import Worker
from controlroom.moderation.live import LiveLexicon
from controlroom.playbooks.lateness import LateSteps
from controlroom.runtime.resources import Resources
from controlroom.shows.ticker import CueTicker

log = structlog.get_logger(__name__)


async def run_processing(resources: Resources, stop: asyncio.Event, *, database: DatabaseHealth | None = None) -> None:
    """`database`: the process's view of SQL (None: the alert engine watches SQL itself)."""
    settings, clock = resources.settings, resources.clock
    lexicon = LiveLexicon(resources.redis)
    await lexicon.refresh()
    worker = Worker(
        resources.redis,
        batch=settings.worker_batch,
        block_ms=settings.worker_block_ms,
        lease_ttl_ms=settings.lease_ttl_ms,
        clock=clock,
        tagger=lexicon.tagger,
        dead_maxlen=settings.dead_letter_maxlen,
    )
    engine = AlertEngine(
        resources.projections, clock=clock, rooms=lambda: list(worker.rooms),
        red_escalation_s=settings.red_escalation_s, tick_s=settings.alert_tick_s,
        min_interval_s=settings.alert_min_interval_s, database=database,
    )
    worker.on_applied = engine.batch_applied
    cues = CueTicker(resources.projections, clock=clock, rooms=lambda: list(worker.rooms))
    # Encoders and platform sockets of the rooms this worker holds (its leases guard them).
    connectors = ConnectorRunner(resources.bus, clock=clock, rooms=lambda: list(worker.rooms))
    late_steps = LateSteps(resources.bus, clock=clock, rooms=lambda: list(worker.rooms))

    def use(tagger) -> None:
        worker.tagger = tagger

    parts = {"worker": worker.run(stop), "alerts": engine.run(stop), "lexicon": lexicon.run(stop, use),
             "cues": cues.run(stop), "connectors": connectors.run(stop),
             "late-steps": late_steps.run(stop)}
    results = await asyncio.gather(*parts.values(), return_exceptions=True)
    for name, result in zip(parts, results):
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            log.error("processing.part_failed", part=name, error=repr(result), exc_info=result)
