"""Many dashboards of one hot room: fan-out under load.

200 control-room websocket clients (signed in) watch one room while a realistic mix is
posted at 10,000 events/s. Printed:
  1. POST -> frame latency (p50/p99) seen by the clients (each batch carries a viewers
     reading equal to its sequence number, so a frame showing online = n reflects every
     batch up to n);
  2. frames/s delivered to all clients, against a bare `websockets` server broadcasting
     frames of the same size at the same 10 Hz per client, measured in the same run
     (and that bare server's unthrottled broadcast rate, for scale).
Nothing here is an assertion; read the figures.

    python bench/dashboard.py [--clients 200] [--rate 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import marked_batch, record_reflected  # noqa: E402
from controlroom.bus.embedded import EmbeddedRedis  # noqa: E402
from controlroom.db.session import upgrade  # noqa: E402
from tests.support import LiveServer, cookie_header, create_room, server_env  # noqa: E402


async def controlroom_run(server: LiveServer, room, clients: int, rate: int, seconds: float):
    headers = cookie_header(server.admin)
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    frames = 0
    frame_bytes: list[int] = []
    stop = asyncio.Event()

    async def watch(ws, record: bool) -> None:
        nonlocal frames
        confirmed = 0
        while not stop.is_set():
            try:
                frame = await asyncio.wait_for(ws.recv(), timeout=1)
            except asyncio.TimeoutError:
                continue
            frames += 1
            if len(frame_bytes) < 1000:
                frame_bytes.append(len(frame))
            if record:
                confirmed = record_reflected(frame, confirmed, sent_at, latencies)

    sockets = [
        await websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en", additional_headers=headers, max_size=None)
        for _ in range(clients)
    ]
    for ws in sockets:
        await ws.recv()  # the snapshot
    # Every client is timed: the latency is what any of the screens sees.
    watchers = [asyncio.create_task(watch(ws, record=True)) for ws in sockets]
    batch = max(10, rate // 100)
    interval = batch / rate
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=30) as http:
        seq = 0
        while time.perf_counter() - started < seconds:
            seq += 1
            events = marked_batch("dash", seq, batch)
            sent_at[seq] = time.perf_counter()
            await http.post(f"{server.url}/api/rooms/{room}/events", content=orjson.dumps(events),
                            headers={"content-type": "application/json", "x-api-key": room.api_key})
            await asyncio.sleep(max(0.0, started + seq * interval - time.perf_counter()))
    elapsed = time.perf_counter() - started
    await asyncio.sleep(1.0)
    stop.set()
    await asyncio.gather(*watchers)
    for ws in sockets:
        await ws.close()
    size = int(statistics.median(frame_bytes)) if frame_bytes else 1000
    return latencies, frames / (elapsed + 1.0), size


async def bare_broadcast(clients: int, frame_size: int, seconds: float, hz: float | None) -> float:
    """Frames/s received by `clients` from a bare websockets server broadcasting frames of
    `frame_size` bytes, at `hz` per client (None: as fast as it can)."""
    frame = "x" * frame_size
    received = 0
    server_connections: set = set()

    async def handler(connection) -> None:
        server_connections.add(connection)
        try:
            await connection.wait_closed()
        finally:
            server_connections.discard(connection)

    async with websockets.serve(handler, "127.0.0.1", 0, max_size=None) as server:
        port = server.sockets[0].getsockname()[1]
        sockets = [await websockets.connect(f"ws://127.0.0.1:{port}", max_size=None) for _ in range(clients)]
        stop = asyncio.Event()

        async def drain(ws) -> None:
            nonlocal received
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), timeout=0.5)
                    received += 1
                except asyncio.TimeoutError:
                    continue

        drains = [asyncio.create_task(drain(ws)) for ws in sockets]
        started = time.perf_counter()
        ticks = 0
        while time.perf_counter() - started < seconds:
            websockets.broadcast(server_connections, frame)
            ticks += 1
            if hz:
                await asyncio.sleep(max(0.0, started + ticks / hz - time.perf_counter()))
            else:
                await asyncio.sleep(0)
        await asyncio.sleep(0.5)
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*drains)
        for ws in sockets:
            await ws.close()
    return received / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="controlroom-bench-dash-"))
    embedded = EmbeddedRedis(work)
    redis_url = embedded.start()
    database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=work, CONTROLROOM_LOG_LEVEL="WARNING")
    server = LiveServer(env, work / "server.log")
    try:
        upgrade(database_url)
        server.start()
        room = create_room(database_url, redis_url, name="bench-dashboard")
        latencies, fps, frame_size = asyncio.run(controlroom_run(server, room, args.clients, args.rate, args.seconds))
    finally:
        server.terminate()
        embedded.stop()
    bare_paced = asyncio.run(bare_broadcast(args.clients, frame_size, args.seconds, hz=10))
    bare_max = asyncio.run(bare_broadcast(args.clients, frame_size, min(args.seconds, 5), hz=None))

    print(f"machine: {os.cpu_count()} cores; {args.clients} dashboard clients; {args.rate:,} events/s posted")
    if latencies:
        lat_ms = sorted(x * 1000 for x in latencies)
        p99 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))]
        print(f"POST -> frame, all clients: p50 {statistics.median(lat_ms):.0f} ms, p99 {p99:.0f} ms "
              f"({len(lat_ms):,} samples)")
    print(f"controlroom frames delivered     {fps:>10,.0f} frames/s (median frame {frame_size:,} bytes)")
    print(f"bare websockets broadcast, 10 Hz {bare_paced:>10,.0f} frames/s  "
          f"(controlroom at {fps / bare_paced:.0%} of it)")
    print(f"bare websockets broadcast, max   {bare_max:>10,.0f} frames/s  "
          f"(controlroom's 10 Hz-capped delivery is {fps / bare_max:.0%} of it)")


if __name__ == "__main__":
    main()
