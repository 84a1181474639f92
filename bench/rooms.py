"""Many rooms at once: processing lag and server CPU as rooms × rate grows.

For each configuration (rooms × events/s per room), every room is live (its stream says
so, so the default rules are evaluated every round) and fed by open-loop senders in
separate processes: each room's batches are due every 100 ms whether or not the server
kept up, several requests in flight. Printed per configuration:

  - the rate reached (accepted by ingest, applied by the worker) next to the rate aimed at;
  - processing lag: how long the oldest entry the worker has not applied yet has been
    waiting, sampled every 250 ms per room (p50 / p99 / max), and when it passed 1 s;
  - server CPU (user + system of `serve` and its ingest process) per 1,000 events applied;
  - the raw baseline measured in the same run: redis-py pipelined XADD of the same
    payloads, one room's stream per pipeline (events/s), and how many times its cost per
    event the server's CPU per event is.

Runs `controlroom serve` (worker inline) against CONTROLROOM_BENCH_REDIS_URL (e.g. a
`redis+cluster://` URL) or an embedded redis-server, on SQLite. Nothing here asserts: read
the figures and their ratios; the machine is shared.

    python bench/rooms.py [--configs 1x50,10x50,50x50,100x50] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import realistic_batch  # noqa: E402
from bench.services import cpu_seconds, redis_and_sqlite, wait_healthy, work_dir  # noqa: E402
from controlroom.bus import keys  # noqa: E402
from controlroom.bus.client import connect, ready, run_all  # noqa: E402
from tests.support import LiveServer, create_room, free_port, server_env  # noqa: E402

TICK_S = 0.1
SAMPLE_S = 0.25
SENDER_PROCESSES = 2
IN_FLIGHT = 8


def _sender(url: str, rooms: list[tuple[str, str]], rate: float, seconds: float, start_at: float, out) -> None:
    """One sender process: every room's batch is due every TICK_S from `start_at` (open
    loop); up to IN_FLIGHT requests at once; counts what was sent, accepted and refused."""
    async def run() -> tuple[int, int, int, int]:
        per_tick = max(1, round(rate * TICK_S))
        sent = accepted = refused = late = 0
        gate = asyncio.Semaphore(IN_FLIGHT)
        async with httpx.AsyncClient(timeout=30) as http:
            async def post(room: str, key: str, body: bytes) -> None:
                nonlocal accepted, refused
                async with gate:
                    try:
                        response = await http.post(f"{url}/api/rooms/{room}/events", content=body, headers={
                            "content-type": "application/json", "x-api-key": key})
                    except httpx.HTTPError:
                        refused += 1
                        return
                    if response.status_code == 200:
                        accepted += response.json()["accepted"]
                    else:
                        refused += 1

            tasks = []
            tick = 0
            while True:
                due = start_at + tick * TICK_S
                if due - start_at >= seconds:
                    break
                wait = due - time.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                elif wait < -TICK_S:
                    late += 1
                ts = int(time.time() * 1000)
                for room, key in rooms:
                    body = orjson.dumps(realistic_batch(f"{room}-{tick}", per_tick, ts))
                    sent += per_tick
                    tasks.append(asyncio.create_task(post(room, key, body)))
                tick += 1
            await asyncio.gather(*tasks)
        return sent, accepted, refused, late

    out.put(asyncio.run(run()))


async def _sample_lag(redis_url: str, rooms: list[str], seconds: float) -> list[tuple[float, float]]:
    """Lag samples (wall time, ms): how long the oldest entry the worker has not applied
    has been waiting (Redis time minus its arrival; 0 when all is applied)."""
    client = await ready(connect(redis_url))
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            applied = await run_all(client, [lambda c, room=room: c.hget(keys.checkpoint(room), "last_id")
                                             for room in rooms])
            answers = await run_all(client, [
                lambda c: c.time(),
                *(lambda c, room=room, last=last: c.xrange(keys.stream(room), min=f"({last.decode()}" if last else "-",
                                                          count=1)
                  for room, last in zip(rooms, applied)),
            ])
            (seconds_now, micros), waiting = answers[0], answers[1:]
            now_ms = int(seconds_now) * 1000 + int(micros) // 1000
            for entries in waiting:
                arrived = int(entries[0][0].split(b"-")[0]) if entries else now_ms
                samples.append((time.time(), max(0, now_ms - arrived)))
            await asyncio.sleep(SAMPLE_S)
    finally:
        await client.aclose()
    return samples


async def _applied(redis_url: str, rooms: list[str]) -> int:
    client = await ready(connect(redis_url))
    try:
        states = await run_all(client, [lambda c, room=room: c.hget(keys.checkpoint(room), "state") for room in rooms])
        return sum(orjson.loads(raw).get("events_applied", 0) for raw in states if raw)
    finally:
        await client.aclose()


def _cpu_s(pid: int) -> float:
    """User + system seconds of a process and its children (the ingest process)."""
    return sum(cpu_seconds(each) for each in [pid, *_children(pid)])


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def _raw_baseline(redis_url: str, rooms: int, per_room: int) -> float:
    """Pipelined XADD of the same mix, one stream per room, as fast as one client goes."""
    client = await ready(connect(redis_url))
    payloads = [orjson.dumps(e) for e in realistic_batch("raw", per_room, int(time.time() * 1000))]
    streams = [f"bench:{{raw{n}}}:events" for n in range(rooms)]
    started = time.perf_counter()
    for stream in streams:
        pipe = client.pipeline(transaction=False)
        for payload in payloads:
            pipe.xadd(stream, {"e": payload})
        await pipe.execute()
    elapsed = time.perf_counter() - started
    for stream in streams:
        await client.delete(stream)
    await client.aclose()
    return rooms * per_room / elapsed


def run_config(server: LiveServer, redis_url: str, database_url: str, rooms_n: int, rate: float,
               seconds: float, feed_url: str) -> dict:
    rooms = [create_room(database_url, redis_url, name=f"bench {n}") for n in range(rooms_n)]
    now = int(time.time() * 1000)
    for room in rooms:  # live: the default rules are evaluated every round
        server.post_events(room, [{"id": f"{room}-live", "type": "stream", "ts": now, "status": "live"}])
    time.sleep(2)
    start_at = time.time() + 1
    queue: multiprocessing.Queue = multiprocessing.Queue()
    shares = [[(str(r), r.api_key) for r in rooms[n::SENDER_PROCESSES]] for n in range(SENDER_PROCESSES)]
    senders = [multiprocessing.Process(target=_sender, args=(feed_url, share, rate, seconds, start_at, queue))
               for share in shares if share]
    applied_before = asyncio.run(_applied(redis_url, [str(r) for r in rooms]))
    cpu_before = _cpu_s(server.proc.pid)
    for sender in senders:
        sender.start()
    time.sleep(max(0.0, start_at - time.time()))
    lag = asyncio.run(_sample_lag(redis_url, [str(r) for r in rooms], seconds))
    results = [queue.get() for _ in senders]
    for sender in senders:
        sender.join()
    applied = asyncio.run(_applied(redis_url, [str(r) for r in rooms])) - applied_before
    cpu = _cpu_s(server.proc.pid) - cpu_before
    sent = sum(r[0] for r in results)
    accepted = sum(r[1] for r in results)
    lag_ms = sorted(ms for _, ms in lag) or [0]
    # When the worst lags were seen (wall clock), to tell a steady shortfall from stalls.
    worst = sorted(lag, key=lambda sample: -sample[1])
    stalls = sorted({time.strftime("%H:%M:%S", time.localtime(at)) for at, ms in worst[:50] if ms > 1000})
    return {
        "rooms": rooms_n, "rate": rate, "aimed": rooms_n * rate, "sent": sent / seconds,
        "accepted": accepted / seconds, "applied": applied / seconds,
        "refused": sum(r[2] for r in results), "late_ticks": sum(r[3] for r in results),
        "p50": statistics.median(lag_ms), "p99": lag_ms[min(len(lag_ms) - 1, int(len(lag_ms) * 0.99))],
        "max": lag_ms[-1], "cpu_ms_per_1000": 1000 * cpu / max(1, applied) * 1000,
        "load": os.getloadavg()[0], "cpu_s": cpu, "applied_n": applied, "stalls": stalls,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", default="1x50,10x50,50x50,100x50", help="rooms x events/s per room, comma-separated")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--ingest", choices=["process", "inline"], default="process",
                        help="feeds post to serve's own ingest process (as deployed; default) or to the main port")
    args = parser.parse_args()
    configs = [tuple(float(x) for x in each.split("x")) for each in args.configs.split(",")]

    with redis_and_sqlite("rooms") as (redis_url, database_url):
        run_all_configs(args, configs, redis_url, database_url)


def run_all_configs(args: argparse.Namespace, configs: list[tuple[float, ...]], redis_url: str,
                    database_url: str) -> list[dict]:
    work = work_dir(database_url)
    ingest_port = free_port() if args.ingest == "process" else 0
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=work, CONTROLROOM_LOG_LEVEL="WARNING",
                     CONTROLROOM_INGEST_PORT=str(ingest_port))
    server = LiveServer(env, work / "server.log", worker=True)
    rows = []
    try:
        server.start()
        feed_url = server.url
        if ingest_port:
            feed_url = f"http://127.0.0.1:{ingest_port}"
            wait_healthy(feed_url)
        for rooms_n, rate in configs:
            raw = asyncio.run(_raw_baseline(redis_url, int(rooms_n), int(rate * args.seconds)))
            row = run_config(server, redis_url, database_url, int(rooms_n), rate, args.seconds, feed_url)
            row["raw"] = raw
            rows.append(row)
            print(f"{int(rooms_n):>4} rooms × {rate:g}/s: aimed {row['aimed']:,.0f}/s, sent {row['sent']:,.0f}/s, "
                  f"accepted {row['accepted']:,.0f}/s, applied {row['applied']:,.0f}/s; lag p50 {row['p50']:,.0f} ms, "
                  f"p99 {row['p99']:,.0f} ms, max {row['max']:,.0f} ms; server CPU {row['cpu_ms_per_1000']:,.0f} ms "
                  f"per 1,000 events = {row['cpu_ms_per_1000'] / (1e6 / raw):,.0f}× the wall time of raw pipelined "
                  f"XADD ({1e6 / raw:,.0f} ms per 1,000 at {raw:,.0f}/s); refused {row['refused']}, "
                  f"late ticks {row['late_ticks']}; [{row['cpu_s']:.1f} CPU s, {row['applied_n']:,} events] "
                  f"load {row['load']:.2f}; lag over 1 s at {', '.join(row['stalls']) or 'no time'}", flush=True)
    finally:
        server.terminate()
    print(f"machine: {os.cpu_count()} cores; redis: {redis_url}; ingest: {args.ingest}; work dir {work}")
    return rows


if __name__ == "__main__":
    main()
