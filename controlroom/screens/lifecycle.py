"""Starting and stopping the screens' fan-out for a process (the app's lifespan)."""

from __future__ import annotations

from fastapi import FastAPI

from controlroom.auth.service import Principal, still_valid_many
from controlroom.db.health import database_unavailable
from controlroom.db.session import run_in_transaction
from controlroom.screens.hub import Hub
from controlroom.screens.panels import render_panels
from controlroom.screens.revocations import Revocations
from controlroom.services import Services


async def start_screens(app: FastAPI, services: Services) -> None:
    settings = services.settings
    hub = Hub(
        services.redis,
        load_view=services.room_view,
        render_panels=lambda view, locale, since: render_panels(
            services.renderer, view, locale, oob=True, appending=True, since=since
        ),
        max_hz=settings.panel_max_hz,
        queue_frames=settings.client_queue_frames,
        idle_refresh_s=settings.panel_idle_refresh_s,
    )
    await hub.start()
    app.state.hub = hub
    async def check_all(principals: list[Principal]) -> dict[Principal, bool]:
        try:
            return await run_in_transaction(
                services.sessions, lambda session: still_valid_many(session, principals, now=services.now()))
        except Exception as exc:
            if database_unavailable(exc):
                services.database.failed(exc)  # logged once per outage; the watch sees it end
            raise

    revocations = Revocations(services.redis, on_announced=services.principals.forget_all, check_all=check_all,
                              recheck_s=settings.auth_recheck_s)
    await revocations.start()
    app.state.revocations = revocations


async def stop_screens(app: FastAPI) -> None:
    await app.state.revocations.stop()
    await app.state.hub.stop()
