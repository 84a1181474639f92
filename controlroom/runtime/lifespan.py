"""The lifespans of the process roles: `serve` (web, screens, chores and, by default,
processing), `ingest` (the feed side alone) and `worker` (processing alone)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from contextlib import asynccontextmanager
from typing import AsyncIterator

import structlog
from fastapi import FastAPI

from controlroom.auth.secrets import Signer
from controlroom.clock import Clock, SystemClock
from controlroom.db.health import DatabaseHealth, DatabaseWatch
from controlroom.db.session import run_in_transaction
from controlroom.moderation.service import install_default_lexicon
from controlroom.observability import configure_logging
from controlroom.notify.dispatcher import Dispatcher
from controlroom.notify.secrets import Sealer
from controlroom.playbooks.service import install_default_playbooks
from controlroom.reports.recorder import Recorder
from controlroom.reports.service import Reviews
from controlroom.rules.service import install_default_rules
from controlroom.runtime.chores import start_chores
from controlroom.runtime.processing import run_processing
from controlroom.runtime.resources import Resources, close_resources, open_resources
from controlroom.screens.lifecycle import start_screens, stop_screens
from controlroom.services import Services
from controlroom.settings import Settings
from controlroom.web.render import Renderer

log = structlog.get_logger(__name__)


async def install_defaults(resources: Resources) -> None:
    for install in (install_default_rules, install_default_lexicon, install_default_playbooks):
        await run_in_transaction(resources.sessions, install)


def serving_lifespan(settings: Settings, clock: Clock):
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(json=settings.log_json, level=settings.log_level)
        resources = await open_resources(settings, clock, migrate=settings.auto_migrate)
        await install_defaults(resources)
        await resources.projections.republish_all()
        reviews = Reviews(resources.redis, resources.sessions, data_dir=settings.data_dir, clock=clock,
                          retention_days=settings.recording_retention_days)
        recorder = Recorder(resources.redis, resources.sessions, data_dir=settings.data_dir,
                            stream_maxlen=settings.stream_maxlen, finished=reviews.recording_finished)
        chores = start_chores(resources, recorder)
        if settings.mode != "dev":
            # The review process starts now, not when the first person opens a review
            # (tests run in dev mode and rarely open one).
            chores.append(asyncio.create_task(reviews.warm(), name="reviews-warm"))
        # One view of SQL's health per process: pages, sockets, the alert engine and the
        # screens' "database unavailable" mark all follow this watch.
        database = DatabaseHealth(clock)
        chores.append(asyncio.create_task(DatabaseWatch(resources.sessions, resources.redis, database).run(),
                                          name="database-watch"))
        stop_processing = asyncio.Event()
        processing = (asyncio.create_task(run_processing(resources, stop_processing, database=database), name="worker")
                      if settings.run_worker else None)
        services = Services(
            settings=settings, redis=resources.redis, bus=resources.bus, projections=resources.projections,
            renderer=Renderer(tz=settings.tz), engine=resources.engine, sessions=resources.sessions, clock=clock,
            signer=Signer(settings.secret_key), worker_task=processing, database=database,
            show_ended=_finish_recording(recorder), reviews=reviews,
        )
        app.state.services = services
        services.notifier = _dispatcher(settings, resources, services.signer)
        notifying = asyncio.create_task(services.notifier.run(stop_processing), name="notify-dispatcher")
        await start_screens(app, services)
        log.info("controlroom.started", redis=resources.redis_url,
                 database=resources.engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            for chore in chores:
                chore.cancel()
            stop_processing.set()
            notifying.cancel()
            if processing is not None:
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(processing, timeout=10)
            await stop_screens(app)
            reviews.close()
            await close_resources(resources)
            log.info("controlroom.stopped")

    return lifespan


def ingest_lifespan(settings: Settings, clock: Clock):
    """`controlroom ingest`: Redis and nothing else that runs: no worker, no hub, no
    chores, no migrations. Every feed route answers from Redis (keys, bindings, dedup
    and the stream are all there); the SQL engine Services carries is made but never
    connected, since no route of this app reads SQL."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(json=settings.log_json, level=settings.log_level)
        resources = await open_resources(settings, clock, migrate=False)
        app.state.services = Services(
            settings=settings, redis=resources.redis, bus=resources.bus, projections=resources.projections,
            renderer=Renderer(tz=settings.tz), engine=resources.engine, sessions=resources.sessions, clock=clock,
            signer=Signer(settings.secret_key), show_ended=_shows_do_not_end_here,
        )
        log.info("controlroom.ingest_started", redis=resources.redis_url)
        try:
            yield
        finally:
            await close_resources(resources)
            log.info("controlroom.ingest_stopped")

    return lifespan


def _dispatcher(settings: Settings, resources: Resources, signer: Signer) -> Dispatcher:
    """Alert notices to the team's chats; links point where the team reaches this server."""
    base = (settings.public_url or f"http://{settings.host}:{settings.port}").rstrip("/")

    def link(notice: dict) -> str:
        room, alert_id = notice["room"], notice.get("alert_id")
        if alert_id is None:  # raised while SQL was away: no record (and no id) yet
            return f"{base}/rooms/{room}"
        return f"{base}/rooms/{room}/alerts/{alert_id}?s={signer.alert_link_token(room, alert_id)}"

    return Dispatcher(resources.redis, resources.sessions, sealer=Sealer(settings.secret_key), link=link,
                      locale=settings.default_locale, consumer=f"{socket.gethostname()}-{os.getpid()}")


def _finish_recording(recorder: Recorder):
    async def show_ended(room: str, now: object) -> None:
        recorder.show_ended(room)
    return show_ended


async def _shows_do_not_end_here(room: str, now: object) -> None:
    """Shows end in the processing role; the ingest process only stores events."""


def run_worker(settings: Settings) -> None:
    """`controlroom worker`: the processing role alone, until SIGTERM or SIGINT."""
    configure_logging(json=settings.log_json, level=settings.log_level)

    async def run() -> None:
        resources = await open_resources(settings, SystemClock(), migrate=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await run_processing(resources, stop)
        finally:
            await close_resources(resources)

    asyncio.run(run())
