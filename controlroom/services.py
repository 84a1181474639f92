"""What a running controlroom process holds, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Awaitable, Callable

import redis.asyncio as aioredis
from fastapi import Request, WebSocket
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus.client import Bus
from controlroom.clock import Clock
from controlroom.db.health import DatabaseHealth
from controlroom.db.recent import RecentAnswers
from controlroom.live.projections import Projections
from controlroom.live.view import RoomView, ViewOptions, read_room_view
from controlroom.settings import Settings

if TYPE_CHECKING:
    from controlroom.auth.secrets import Signer
    from controlroom.notify.dispatcher import Dispatcher
    from controlroom.reports.service import Reviews
    from controlroom.web.render import Renderer


@dataclass
class Services:
    settings: Settings
    redis: aioredis.Redis
    bus: Bus
    projections: Projections
    renderer: "Renderer"
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    signer: "Signer"
    # What happens when a show ends (its recording is written): reports/ provides it,
    # the lifespan wires it, so shows/ need not know reports/.
    show_ended: Callable[[str, datetime], Awaitable[object]]
    # The worker running inside this process, if any (readiness checks it is alive).
    worker_task: asyncio.Task[None] | None = None
    # Is SQL answering, as this process sees it (kept by a DatabaseWatch).
    database: DatabaseHealth | None = None
    # Reviews of shows (stored when ended, drafts while live), computed off the event loop.
    reviews: "Reviews | None" = None
    # Alert notices to the team's chats (this process's share of them).
    notifier: "Dispatcher | None" = None
    # Sessions and host links SQL confirmed lately: they still open screens while SQL is away.
    principals: RecentAnswers | None = None

    def __post_init__(self) -> None:
        self.database = self.database or DatabaseHealth(self.clock)
        self.principals = self.principals or RecentAnswers(self.clock, self.database)

    @property
    def view_options(self) -> ViewOptions:
        return ViewOptions(segment_warning_s=self.settings.segment_warning_s)

    async def room_view(self, room: str) -> RoomView:
        return await read_room_view(self.redis, room, self.clock, self.view_options)

    def now(self) -> datetime:
        """The injected clock's time, for routes and services (never the wall clock)."""
        return datetime.fromtimestamp(self.clock.now_ms() / 1000, tz=timezone.utc)


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_ws_services(websocket: WebSocket) -> Services:
    return websocket.app.state.services
