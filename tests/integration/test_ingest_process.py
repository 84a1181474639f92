"""`controlroom serve` runs the feed side in a process of its own, on the ingest port
(CONTROLROOM_INGEST_PORT; CONTROLROOM_PORT + 1 by default): what is posted there reaches the room's screens like
anything posted to the main port; the ingest port serves feeds only; the process lives
and dies with the `serve` that started it, and comes back if it dies alone."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest
import websockets

from controlroom.bus.embedded import EmbeddedRedis
from tests.support import LiveServer, comment, create_room, free_port, server_env

STARTS_WITHIN_S = 30.0
# The child looks for its parent twice a second; the rest is a loaded machine.
STOPS_WITHIN_S = 5.0


@pytest.fixture(scope="module")
def redis_of_module(tmp_path_factory):
    """A Redis of these tests' own: their servers run workers, which must not take the
    rooms of the session's server."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("ingest-redis"))
    yield server.start()
    server.stop()


@pytest.fixture
def served(tmp_path, redis_of_module, database_url):
    # Named rather than left to the default (PORT + 1): a free port, whatever the
    # environment of the test run says.
    ingest_port = free_port()
    env = server_env(redis_url=redis_of_module, database_url=database_url, data_dir=tmp_path,
                     CONTROLROOM_INGEST_PORT=str(ingest_port))
    live = LiveServer(env, tmp_path / "server.log").start()
    ingest_url = f"http://127.0.0.1:{ingest_port}"
    wait_until(lambda: answers(f"{ingest_url}/healthz"), STARTS_WITHIN_S, "the ingest port never answered")
    yield live, ingest_url
    live.terminate()


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(condition, timeout_s: float, failure: str) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, failure
        time.sleep(0.05)
    return time.monotonic() - started


def ingest_pids(live: LiveServer) -> list[int]:
    return [int(pid) for pid in re.findall(r"ingest\.process_started\s+pid=(\d+)", live.log_text())]


def is_gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def post(url: str, room, events: list[dict]) -> httpx.Response:
    return httpx.post(f"{url}/api/rooms/{room}/events", content=orjson.dumps(events),
                      headers={"content-type": "application/json", "x-api-key": room.api_key}, timeout=30)


def test_events_posted_to_the_ingest_port_reach_the_room(served, database_url, redis_of_module):
    live, ingest_url = served
    room = create_room(database_url, redis_of_module)
    answer = post(ingest_url, room, [comment("c1", "从采集端口来的"), comment("c2", "第二条")])
    assert answer.status_code == 200 and answer.json()["accepted"] == 2
    # The same contract as the main port: a repeat is counted and dropped, a bad key refused.
    assert post(ingest_url, room, [comment("c1", "从采集端口来的")]).json()["duplicates"] == 1
    refused = httpx.post(f"{ingest_url}/api/rooms/{room}/events", json=[comment("c3", "x")],
                         headers={"x-api-key": "crk_wrong"}, timeout=10)
    assert refused.status_code == 401

    async def over_the_ingest_websocket() -> dict:
        ws_url = ingest_url.replace("http://", "ws://")
        async with websockets.connect(f"{ws_url}/ws/ingest/{room}?key={room.api_key}") as ws:
            await ws.send(orjson.dumps([comment("c4", "长连接来的")]).decode())
            return orjson.loads(await ws.recv())

    assert asyncio.run(over_the_ingest_websocket())["accepted"] == 1
    live.wait_for_state(room, lambda state: state["comments"] == 3)


def test_the_ingest_port_serves_feeds_only(served):
    live, ingest_url = served
    assert httpx.get(f"{ingest_url}/rooms/x", timeout=10).status_code == 404
    assert httpx.get(f"{ingest_url}/login", timeout=10).status_code == 404
    assert httpx.get(f"{ingest_url}/static/css/app.css", timeout=10).status_code == 404
    assert httpx.get(f"{ingest_url}/readyz", timeout=10).json() == {"ready": True, "checks": {"redis": "ok"}}
    assert httpx.get(f"{live.url}/login", timeout=10).status_code == 200  # the pages stay on the main port


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_the_ingest_process_ends_with_serve(served, signal_name):
    live, ingest_url = served
    [child] = ingest_pids(live)
    if signal_name == "SIGTERM":
        assert live.terminate() is not None  # a clean stop: the child is stopped on the way
    else:
        live.kill()  # no shutdown at all: the child notices its parent is gone
    wait_until(lambda: is_gone(child), STOPS_WITHIN_S, f"the ingest process outlived serve ({signal_name})")
    assert not answers(f"{ingest_url}/healthz")


def test_a_dead_ingest_process_is_noticed_and_restarted(served):
    live, ingest_url = served
    [child] = ingest_pids(live)
    os.kill(child, signal.SIGKILL)
    wait_until(lambda: len(ingest_pids(live)) == 2, STARTS_WITHIN_S, "no new ingest process")
    assert "ingest.process_died" in live.log_text()
    wait_until(lambda: answers(f"{ingest_url}/healthz"), STARTS_WITHIN_S, "the new ingest process never answered")
    assert answers(f"{live.url}/healthz")
