"""Starting and stopping the screens' fan-out for a process (the app's lifespan)."""

from __future__ import annotations

from fastapi import FastAPI

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
    revocations = Revocations(services.redis, on_announced=services.principals.forget_all)
    await revocations.start()
    app.state.revocations = revocations


async def stop_screens(app: FastAPI) -> None:
    await app.state.revocations.stop()
    await app.state.hub.stop()
