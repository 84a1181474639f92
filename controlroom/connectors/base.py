"""What a connector is given and must do (the contract between a connector and the runner).

A connector kind is a module exposing `KIND` (the binding's platform name) and

    async def run(ctx: ConnectorContext, stop: asyncio.Event) -> None

which holds one connection for one binding of one room until `stop` is set, turning what
it hears into canonical events (`controlroom.events`, as plain JSON-ready dicts, each
validated with `controlroom.ingest.adapters.base.validated`) passed to `ctx.emit`. It
reports how the connection is doing with `ctx.report(state, detail)` — shown on the tech
screen — and raises when the connection fails: the runner logs it, reports it and starts
it again after a backoff (1, 2, 4 … 30 s). A connector never sleeps on the wall clock for
its schedule without also watching `stop` (use `wait_or_stop`).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal

from controlroom.clock import Clock

State = Literal["connecting", "ok", "failing", "stopped"]


@dataclass
class ConnectorContext:
    room: str
    # The binding: the platform's id of what to connect to (OBS "host:port", a Bilibili
    # 主播身份码, a 视频号 export id) and its secret (as the binding form documents it).
    external_id: str
    secret: str
    clock: Clock
    # Canonical events into the room's stream (same dedup, dead letters and backpressure
    # as any ingest). Raises on a Redis failure or a full backlog: let it propagate.
    emit: Callable[[list[dict[str, Any]]], Awaitable[None]]
    # (state, detail in plain words for tech staff, extra figures) — cheap, never raises.
    report: Callable[..., None]


class ConnectorError(Exception):
    """A failure with its reason for tech staff: `detail` is the English message id
    (marked with N_, translated where it is shown) and `figures` fill it in. Any other
    exception is shown as its text."""

    def __init__(self, detail: str, **figures: Any) -> None:
        self.detail = detail
        self.figures = figures
        super().__init__(detail % figures)


async def wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` is set first; True when stopping."""
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(0.0, seconds))
    return stop.is_set()
