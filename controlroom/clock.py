"""Clocks. Pure cores take a clock so tests can drive time by hand."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Protocol


class Clock(Protocol):
    def now_ms(self) -> int: ...


class SystemClock:
    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000


class FakeClock:
    def __init__(self, start_ms: int = 1_763_700_000_000) -> None:
        self._now = start_ms

    def now_ms(self) -> int:
        return self._now

    def advance(self, *, seconds: float = 0, ms: int = 0) -> None:
        self._now += int(seconds * 1000) + ms

    def set(self, now_ms: int) -> None:
        self._now = now_ms


def ms_to_datetime(ms: int) -> datetime:
    """A clock's Unix milliseconds as an aware UTC datetime (how SQL stores times)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
