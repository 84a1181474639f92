"""What a running controlroom process holds, built once in the app's lifespan."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis
from fastapi import Request, WebSocket
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlroom.auth.secrets import Signer
from controlroom.bus.client import Bus
from controlroom.bus.hub import Hub
from controlroom.clock import Clock
from controlroom.settings import Settings
from controlroom.web.render import Renderer


@dataclass
class Services:
    settings: Settings
    redis: aioredis.Redis
    bus: Bus
    hub: Hub
    renderer: Renderer
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Clock
    signer: Signer
    # The worker running inside this process, if any (readiness checks it is alive).
    worker_task: asyncio.Task[None] | None = None


def get_services(request: Request) -> Services:
    return request.app.state.services


def get_ws_services(websocket: WebSocket) -> Services:
    return websocket.app.state.services
