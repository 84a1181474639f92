"""Running the web app: `serve` (the main server and, beside it, the ingest process),
`ingest` (the feed side alone) and `demo` (embedded Redis and SQLite, the demo room and
show seeded, a simulated show feeding it through the ingest port).

Why a process of its own for ingest: pushing frames to hundreds of screens and taking
events from the feeds shared one event loop, and the fan-out starved ingest (the
figures are in the README, from bench/isolation.py). The ingest process serves only the
feed side, so a feed's POST never waits behind a render or a slow screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
import sys
from typing import Awaitable, Callable

import httpx
import structlog
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from controlroom.auth.secrets import Signer
from controlroom.bus.embedded import EmbeddedRedis
from controlroom.clock import SystemClock, ms_to_datetime
from controlroom.db.session import Timeouts, make_engine, session_factory, transaction, upgrade
from controlroom.screens.sockets import RESET_EXTENSION
from controlroom.settings import Settings
from controlroom.sim.runner import run_simulation
from controlroom.sim.seed import DEMO_CYCLE_PHASE_MS, DEMO_ROOM, DemoAccess, seed_demo

log = structlog.get_logger(__name__)

# The ingest process: a death at start (its port taken, say) is retried ever more
# slowly; one that had been serving a while is restarted at once.
RESTART_FIRST_DELAY_S = 0.5
RESTART_MAX_DELAY_S = 30.0
RESTART_STABLE_S = 30.0
READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
# How often the ingest process looks whether the `serve` that started it is still there
# (a SIGKILLed parent runs no shutdown, so the child must notice by itself).
PARENT_CHECK_S = 0.5
# The kernel's send buffer of a websocket. Left to autotuning it grows to megabytes, and
# a screen that stopped reading would hold that much (and be noticed only once it is
# full); screens get small frames at most 10 times a second, which this carries easily.
WEBSOCKET_SEND_BUFFER_BYTES = 64 * 1024


class ResettableWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, offering the app a way to reset the
    connection (scope["extensions"][RESET_EXTENSION]["reset"]).

    A client that stopped reading cannot be closed politely: every send, the close
    frame included, waits for the paused transport to drain, and transport.close()
    waits for the write buffer to empty, which never happens. So the TCP connection
    (and its buffers) would outlive the screen. reset() drops the buffer and closes the
    socket with SO_LINGER 0, so the kernel answers with RST at once instead of keeping
    an orphaned socket probing a zero window."""

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def]
        super().connection_made(transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, WEBSOCKET_SEND_BUFFER_BYTES)

    def handle_connect(self, event) -> None:  # type: ignore[no-untyped-def]
        super().handle_connect(event)
        # The scope exists only for an accepted upgrade; the app's task has been created
        # but has not run yet, so it sees the extension.
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][RESET_EXTENSION] = {"reset": self.reset}

    def reset(self) -> None:
        if self.transport is None or self.disconnected:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


def _config(app: FastAPI, settings: Settings, *, port: int) -> uvicorn.Config:
    return uvicorn.Config(app, host=settings.host, port=port, log_config=None, ws=ResettableWebSocketProtocol,
                          ws_per_message_deflate=settings.ws_compression)


class _Server(uvicorn.Server):
    """uvicorn's server, with what must live exactly as long as it serves: started once
    it listens, stopped before it finishes (uvicorn re-raises the stopping signal when
    serve() returns, so nothing after it is sure to run)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.on_started: list[Callable[[], None]] = []
        # Run first, in order, when shutting down; then `stopping` alongside uvicorn's own.
        self.before_shutdown: list[Callable[[], Awaitable[None]]] = []
        self.stopping: list[Callable[[], Awaitable[None]]] = []

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            for start in self.on_started:
                start()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for step in self.before_shutdown:
            with contextlib.suppress(Exception):
                await step()
        companions = [asyncio.ensure_future(stop()) for stop in self.stopping]
        try:
            await super().shutdown(sockets)
        finally:
            await asyncio.gather(*companions, return_exceptions=True)


def _local_url(host: str, port: int) -> str:
    # A server listening on every address is reached on loopback from here.
    reachable = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    return f"http://{'[' + reachable + ']' if ':' in reachable else reachable}:{port}"


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class IngestProcess:
    """`controlroom ingest` as a child of `serve`: started once the main server listens
    (an embedded Redis is up by then, and the child shares it), watched (a death is
    logged and the process restarted), stopped before the main server finishes."""

    def __init__(self, settings: Settings, port: int) -> None:
        self.settings = settings
        self.port = port
        self.url = _local_url(settings.host, port)
        self.ready = asyncio.Event()
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name="ingest-process")

    async def wait_ready(self, timeout_s: float = READY_TIMEOUT_S) -> bool:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.ready.wait(), timeout_s)
        return self.ready.is_set()

    async def stop(self) -> None:
        self._stop.set()
        await self._end_child()
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor

    def child_env(self) -> dict[str, str]:
        """The parent's settings as the child reads them (the parent may have been given
        some on the command line, not in its environment), with the Redis it uses."""
        env = {name: value for name, value in os.environ.items() if not name.startswith("CONTROLROOM_")}
        for name, value in self.settings.model_dump().items():
            if value is not None:
                env[f"CONTROLROOM_{name.upper()}"] = _env_value(value)
        env["CONTROLROOM_REDIS_URL"] = self.settings.redis_url or EmbeddedRedis(self.settings.data_dir).url
        env["CONTROLROOM_AUTO_MIGRATE"] = "false"
        env["CONTROLROOM_RUN_WORKER"] = "false"
        return env

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        delay_s = RESTART_FIRST_DELAY_S
        while not self._stop.is_set():
            started_at = loop.time()
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "controlroom.cli", "ingest", "--host", self.settings.host,
                "--port", str(self.port), "--parent-pid", str(os.getpid()),
                env=self.child_env(), stdin=asyncio.subprocess.DEVNULL,
                # Its own session: Ctrl-C in a terminal reaches `serve` alone, which then
                # stops the child in order (after the feeds it serves have been answered).
                start_new_session=True,
            )
            if self._stop.is_set():
                await self._end_child()
                return
            log.info("ingest.process_started", pid=self._process.pid, url=self.url)
            readiness = asyncio.create_task(self._watch_ready())
            returncode = await self._process.wait()
            readiness.cancel()
            self.ready.clear()
            if self._stop.is_set():
                return
            if loop.time() - started_at > RESTART_STABLE_S:
                delay_s = RESTART_FIRST_DELAY_S
            log.error("ingest.process_died", pid=self._process.pid, returncode=returncode, restart_in_s=delay_s,
                      detail="feeds posting to the ingest port get no answer until it is back; "
                             "the main port still takes ingest")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay_s)
            delay_s = min(RESTART_MAX_DELAY_S, delay_s * 2)

    async def _watch_ready(self) -> None:
        async with httpx.AsyncClient(timeout=1.0) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        self.ready.set()
                        return
                await asyncio.sleep(0.1)

    async def _end_child(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
        except asyncio.TimeoutError:
            log.warning("ingest.process_kill", pid=process.pid, detail=f"not stopped within {STOP_TIMEOUT_S:g} s")
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        log.info("ingest.process_stopped", pid=process.pid, returncode=process.returncode)


def _with_ingest_process(server: _Server, settings: Settings) -> IngestProcess | None:
    port = settings.effective_ingest_port
    if port is None:
        return None
    if port == settings.port:
        log.error("ingest.port_clash", port=port,
                  detail="CONTROLROOM_INGEST_PORT equals CONTROLROOM_PORT: no ingest process; ingest on the main port")
        return None
    ingest = IngestProcess(settings, port)
    server.on_started.append(ingest.start)
    server.stopping.append(ingest.stop)
    return ingest


def serve(app: FastAPI, settings: Settings) -> None:
    server = _Server(_config(app, settings, port=settings.port))
    _with_ingest_process(server, settings)
    server.run()


def serve_ingest(app: FastAPI, settings: Settings, *, port: int, parent_pid: int | None = None) -> None:
    """`controlroom ingest`: the feed side alone. Started by `serve`, it stops when that
    parent is gone, however it went."""
    # Its lines share the terminal (or the container's log) with the main server's.
    structlog.contextvars.bind_contextvars(process="ingest")
    server = _Server(_config(app, settings, port=port))
    if parent_pid is not None:
        def watch_parent() -> None:
            asyncio.create_task(_exit_when_orphaned(server, parent_pid), name="watch-parent")

        server.on_started.append(watch_parent)
    server.run()


async def _exit_when_orphaned(server: _Server, parent_pid: int) -> None:
    while not server.should_exit:
        if os.getppid() != parent_pid:
            log.warning("ingest.parent_gone", parent_pid=parent_pid)
            server.should_exit = True
            return
        await asyncio.sleep(PARENT_CHECK_S)


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
    base_url = _local_url(settings.host, settings.port)
    server = _Server(_config(app, settings, port=settings.port))
    ingest = _with_ingest_process(server, settings)

    async def run() -> None:
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                return
            await asyncio.sleep(0.05)
        feed_url = base_url
        if ingest is not None:
            if await ingest.wait_ready():
                feed_url = ingest.url
            else:
                log.warning("demo.ingest_not_ready", detail="the simulated feed posts to the main port")
        accounts = "\n".join(
            f"    {role:<11} {username:<11} {password}" for username, (role, password) in access.passwords.items()
        )
        print(
            f"\n  controlroom demo is live: open {base_url}/rooms/{DEMO_ROOM}\n\n"
            f"  Log in as any role (passwords are new on every start):\n"
            f"    {'role':<11} {'username':<11} password\n{accounts}\n\n"
            f"  Host screen (tablet beside the camera, no login): {base_url}/host/{access.host_token}\n"
            f"  Ingest (feeds post here): {feed_url}/api/rooms/{DEMO_ROOM}/events\n"
            f"  Ingest key of room '{DEMO_ROOM}': {access.api_key}\n\n"
            f"  (simulating {rate:g} events/s; data in {settings.data_dir.resolve()}; Ctrl-C stops)\n",
            flush=True,
        )
        stop = asyncio.Event()
        simulation = asyncio.create_task(
            run_simulation(base_url=feed_url, room=DEMO_ROOM, rate=rate, stop=stop, headers={"X-Api-Key": access.api_key},
                           phase_ms=DEMO_CYCLE_PHASE_MS)
        )

        async def stop_simulation() -> None:
            # Before the ingest process goes, so its last batch is answered.
            stop.set()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(simulation), STOP_TIMEOUT_S)

        server.before_shutdown.append(stop_simulation)
        await serving
        stop.set()
        await simulation

    asyncio.run(run())
