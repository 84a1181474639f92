"""What SQL answered lately, for the moments it cannot answer.

Sessions and host links live in SQL. While SQL is away, a page or a websocket that
presents a session (or link) SQL confirmed within the last `keep_s` is let in as what
SQL said then, so a screen that reconnects during a database blip gets its numbers and
alerts from Redis like any other. Anything SQL refused, and everything after a
revocation announcement, is forgotten: an outage never lets in what SQL turned away.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Generic, TypeVar

from controlroom.clock import Clock
from controlroom.db.health import DatabaseHealth, database_unavailable

T = TypeVar("T")
KEEP_S = 15 * 60
MAX_REMEMBERED = 10_000


class RecentAnswers(Generic[T]):
    def __init__(self, clock: Clock, health: DatabaseHealth, *, keep_s: float = KEEP_S) -> None:
        self.clock = clock
        self.health = health
        self.keep_ms = int(keep_s * 1000)
        self._answers: OrderedDict[str, tuple[T, int]] = OrderedDict()

    def _remembered(self, key: str) -> T | None:
        known = self._answers.get(key)
        if known is None or self.clock.now_ms() - known[1] > self.keep_ms:
            return None
        return known[0]

    def look_up(self, key: str, read: Callable[[], T | None]) -> T | None:
        """`read()` asks SQL; while SQL is away, what it answered lately answers."""
        if self.health.down and (known := self._remembered(key)) is not None:
            return known  # no need to wait for a connect timeout on every request
        try:
            answer = read()
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            self.health.failed(exc)
            known = self._remembered(key)
            if known is None:
                raise
            return known
        if answer is None:
            self._answers.pop(key, None)
        else:
            self._answers[key] = (answer, self.clock.now_ms())
            self._answers.move_to_end(key)
            while len(self._answers) > MAX_REMEMBERED:
                self._answers.popitem(last=False)
        return answer

    def forget_all(self) -> None:
        self._answers.clear()
