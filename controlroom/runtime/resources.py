"""What every controlroom process opens and closes the same way: Redis (embedded unless
configured), the database (migrated at start unless told not to), and the projections
publisher over both."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus.client import Bus, connect_for, ready
from controlroom.bus.embedded import EmbeddedRedis, resolve_redis_url
from controlroom.clock import Clock
from controlroom.db.session import Timeouts, make_engine, session_factory, upgrade
from controlroom.live.projections import Projections
from controlroom.settings import Settings


@dataclass
class Resources:
    settings: Settings
    clock: Clock
    redis_url: str
    redis: aioredis.Redis
    bus: Bus
    engine: Engine
    sessions: sessionmaker[Session]
    projections: Projections
    embedded: EmbeddedRedis | None


async def open_resources(settings: Settings, clock: Clock, *, migrate: bool) -> Resources:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    redis_url, embedded = await asyncio.to_thread(resolve_redis_url, settings.redis_url, settings.data_dir)
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))
    if migrate:
        await asyncio.to_thread(upgrade, settings.sqlalchemy_url)
    client = await ready(connect_for(settings, redis_url, longest_block_ms=settings.worker_block_ms))
    sessions = session_factory(engine)
    bus = Bus.from_settings(client, settings)
    return Resources(settings, clock, redis_url, client, bus, engine, sessions, Projections(bus, sessions, clock),
                     embedded)


async def close_resources(resources: Resources) -> None:
    await resources.redis.aclose()
    resources.engine.dispose()
    if resources.embedded is not None:
        await asyncio.to_thread(resources.embedded.stop)
