"""Background chores that run every so often inside a process (republishing rooms,
archiving minutes). A failed round is logged and the next one tries again."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

import structlog

log = structlog.get_logger(__name__)


async def every(seconds: float, work: Callable[[], Awaitable[object]], *, name: str) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await work()
        except Exception as exc:  # noqa: BLE001 - retried on the next round
            log.warning(f"{name}.failed", error=str(exc))
