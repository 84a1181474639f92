"""What a connector test runs a connector with: a context whose emit and report keep
everything for the test to look at, and a wait for a condition."""

from __future__ import annotations

import asyncio
import time
from typing import Any


class Collected:
    """A ConnectorContext's emit and report: the batches emitted, and each report as
    (state, detail with its figures filled in)."""

    def __init__(self) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.reports: list[tuple[str, str]] = []

    @property
    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]

    async def emit(self, events: list[dict[str, Any]]) -> None:
        self.batches.append(events)

    def report(self, state: str, detail: str = "", **params: Any) -> None:
        self.reports.append((state, detail % params))


async def until(predicate, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {timeout} s")
        await asyncio.sleep(0.01)
