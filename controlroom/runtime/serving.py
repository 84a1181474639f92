"""Running the web app: `serve` on its own, and `demo` (embedded Redis and SQLite, the
demo room and show seeded, a simulated show feeding it through the public API)."""

from __future__ import annotations

import asyncio

import uvicorn
from fastapi import FastAPI

from controlroom.auth.secrets import Signer
from controlroom.clock import SystemClock, ms_to_datetime
from controlroom.db.session import Timeouts, make_engine, session_factory, transaction, upgrade
from controlroom.settings import Settings
from controlroom.sim.runner import run_simulation
from controlroom.sim.seed import DEMO_ROOM, DemoAccess, seed_demo


def _server(app: FastAPI, settings: Settings) -> uvicorn.Server:
    return uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None,
                                         ws="websockets-sansio"))


def serve(app: FastAPI, settings: Settings) -> None:
    _server(app, settings).run()


def seed(settings: Settings) -> DemoAccess:
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url, Timeouts.from_settings(settings))
    with transaction(session_factory(engine)) as session:
        access = seed_demo(session, timezone_name=settings.timezone, now=ms_to_datetime(SystemClock().now_ms()),
                           signer=Signer(settings.secret_key))
    engine.dispose()
    return access


def run_demo(app: FastAPI, settings: Settings, *, rate: float) -> None:
    access = seed(settings)
    base_url = f"http://{settings.host}:{settings.port}"
    server = _server(app, settings)

    async def run() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                return
            await asyncio.sleep(0.05)
        accounts = "\n".join(
            f"    {role:<11} {username:<11} {password}" for username, (role, password) in access.passwords.items()
        )
        print(
            f"\n  controlroom demo is live: open {base_url}/rooms/{DEMO_ROOM}\n\n"
            f"  Log in as any role (passwords are new on every start):\n"
            f"    {'role':<11} {'username':<11} password\n{accounts}\n\n"
            f"  Host screen (tablet beside the camera, no login): {base_url}/host/{access.host_token}\n"
            f"  Ingest key of room '{DEMO_ROOM}': {access.api_key}\n\n"
            f"  (simulating {rate:g} events/s; data in {settings.data_dir.resolve()}; Ctrl-C stops)\n",
            flush=True,
        )
        stop = asyncio.Event()
        simulation = asyncio.create_task(
            run_simulation(base_url=base_url, room=DEMO_ROOM, rate=rate, stop=stop, headers={"X-Api-Key": access.api_key})
        )
        await serving
        stop.set()
        await simulation

    asyncio.run(run())
