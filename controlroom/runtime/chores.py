"""Background chores a serving process runs every so often: keeping every projection
in Redis (the safety net for a Redis that lost its data or missed a publish), archiving the minutes to
SQL, recording the shows' streams, pruning old recordings. A failed round is logged and the next one tries again."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable

import structlog

from controlroom.live.archive import archive_minutes
from controlroom.live.projections import Projections
from controlroom.reports.recorder import Recorder
from controlroom.reports.recording import prune_recordings
from controlroom.runtime.resources import Resources

log = structlog.get_logger(__name__)

ARCHIVE_S = 15
LOSS_CHECK_S = 2.0
PRUNE_S = 3600


async def every(seconds: float, work: Callable[[], Awaitable[object]], *, name: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception as exc:  # noqa: BLE001 - retried on the next round
            log.warning(f"{name}.failed", error=str(exc))


async def keep_projections(projections: Projections, sweep_s: float) -> None:
    """Redis that lost its data gets every projection back within LOSS_CHECK_S; a
    publish that was missed is fixed by the next sweep, spread over half its period."""
    swept_at = time.monotonic()
    while True:
        await asyncio.sleep(min(LOSS_CHECK_S, sweep_s))
        try:
            if await projections.redis_lost_data():
                log.warning("projections.redis_lost_data")
                await projections.republish_all()
                swept_at = time.monotonic()
            elif time.monotonic() - swept_at >= sweep_s:
                swept_at = time.monotonic()
                await projections.sweep(spread_s=sweep_s / 2)
        except Exception as exc:  # noqa: BLE001 - retried on the next round
            log.warning("projections.keep_failed", error=str(exc))


def start_chores(resources: Resources, recorder: Recorder) -> list[asyncio.Task[None]]:
    settings = resources.settings
    return [
        # A Redis that restarted empty (no persistence) or was flushed gets its rooms,
        # keys, shows, alerts and messages back within one round, instead of every room
        # answering 401/404 until the next deploy.
        asyncio.create_task(keep_projections(resources.projections, settings.republish_s),
                            name="projections-keeper"),
        asyncio.create_task(every(ARCHIVE_S, lambda: archive_minutes(resources.redis, resources.sessions),
                                  name="minutes.archive"), name="minutes-archiver"),
        # Every serving process records; a room's lock lets one of them do it each round.
        asyncio.create_task(every(settings.recording_interval_s, recorder.round, name="recording"), name="recorder"),
        asyncio.create_task(every(PRUNE_S, lambda: asyncio.to_thread(
            prune_recordings, settings.data_dir, retention_days=settings.recording_retention_days,
        ), name="recordings.prune"), name="recordings-pruner"),
    ]
