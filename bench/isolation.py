"""Does fan-out make ingest wait? Ingest on the main port (one event loop with the
screens) against ingest on the ingest port (a process of its own), under the same load.

The load: N signed-in control-room screens (default 500) on one room, and a feed posting
2,000 events/s to that room. The measured party: a sequential sender (one POST of 10
events at a time, the next as soon as the answer is in, like a platform's push client),
for which POST latency p50/p99 and its achieved rate are printed, together with the
latency of GET /healthz on the main port (a trivial route, so mostly the main event
loop's lag) and the feed's achieved rate.

Four phases, in one run, against one `controlroom serve` (which starts the ingest
process beside it), each pair run A B B A so that drift weighs on both alike:
  baseline, main port     no screens; feed and sender post to the main port
  baseline, ingest port   no screens; feed and sender post to the ingest port
  (a) shared loop         N screens; feed and sender post to the main port
  (b) ingest process      N screens; feed and sender post to the ingest port
and each loaded figure's ratio to the baseline of its port. The screens, the feed and the
sender each run in a process of their own, so that reading 500 sockets does not delay
the sender's own measurements. Nothing here is an assertion; read the figures.

    python bench/isolation.py [--screens 500] [--rate 2000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import realistic_batch  # noqa: E402
from bench.services import cpu_seconds, wait_healthy  # noqa: E402
from controlroom.bus.embedded import EmbeddedRedis  # noqa: E402
from controlroom.db.session import upgrade  # noqa: E402
from tests.support import LiveServer, cookie_header, create_room, server_env  # noqa: E402

SENDER_BATCH = 10
FEED_TICK_S = 0.05
FEED_MAX_IN_FLIGHT = 32
PROBE_INTERVAL_S = 0.1


# --- the screens (a process of their own) ------------------------------------------------

def screens_process(ws_url: str, room: str, headers: dict, count: int, connected, stop, frames, closed) -> None:
    asyncio.run(_screens(ws_url, room, headers, count, connected, stop, frames, closed))


async def _screens(ws_url: str, room: str, headers: dict, count: int, connected, stop, frames, closed) -> None:
    gate = asyncio.Semaphore(20)
    sockets = []

    async def connect() -> None:
        async with gate:
            ws = await websockets.connect(f"{ws_url}/ws/rooms/{room}", additional_headers=headers,
                                          max_size=None, open_timeout=60)
            await ws.recv()  # the snapshot
            sockets.append(ws)
            with connected.get_lock():
                connected.value += 1

    await asyncio.gather(*(connect() for _ in range(count)))

    async def read(ws) -> None:
        # Like a browser: every frame is taken as it comes.
        while True:
            try:
                await ws.recv(decode=False)  # the bytes are enough: no UTF-8 decoding here
            except websockets.ConnectionClosed:
                if not stop.is_set():
                    with closed.get_lock():
                        closed.value += 1
                return
            with frames.get_lock():
                frames.value += 1

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    while not stop.is_set():
        await asyncio.sleep(0.2)
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


# --- the feed (a process of its own) -----------------------------------------------------

def feed_process(url: str, room: str, api_key: str, rate: int, seconds: float, prefix: str, results) -> None:
    results.put(asyncio.run(_feed(url, room, api_key, rate, seconds, prefix)))


async def _feed(url: str, room: str, api_key: str, rate: int, seconds: float, prefix: str) -> float:
    """Open loop: a batch every FEED_TICK_S whatever the answers take (a platform does
    not wait for us), with a bound on requests in flight. Returns events/s accepted."""
    per_tick = max(1, round(rate * FEED_TICK_S))
    ts = int(time.time() * 1000)
    bodies = [orjson.dumps(realistic_batch(f"{prefix}-{n}", per_tick, ts)) for n in range(int(seconds / FEED_TICK_S) + 1)]
    in_flight = asyncio.Semaphore(FEED_MAX_IN_FLIGHT)
    accepted = 0

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=FEED_MAX_IN_FLIGHT)) as http:
        async def post(body: bytes) -> None:
            nonlocal accepted
            try:
                response = await http.post(f"{url}/api/rooms/{room}/events", content=body,
                                           headers={"content-type": "application/json", "x-api-key": api_key})
                if response.status_code == 200:
                    accepted += response.json()["accepted"]
            finally:
                in_flight.release()

        started = time.perf_counter()
        posts = []
        for tick, body in enumerate(bodies):
            await in_flight.acquire()
            posts.append(asyncio.create_task(post(body)))
            await asyncio.sleep(max(0.0, started + (tick + 1) * FEED_TICK_S - time.perf_counter()))
        await asyncio.gather(*posts, return_exceptions=True)
        return accepted / (time.perf_counter() - started)


# --- where the CPU goes ----------------------------------------------------------------------

def ingest_pid(server_pid: int) -> int | None:
    """The ingest process `serve` started (it is given --parent-pid)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ingest" in cmdline and str(server_pid).encode() in cmdline:
                return int(entry.name)
    return None


# --- the sender and the probe (this process) ---------------------------------------------

@dataclass
class Phase:
    name: str
    port: str
    screens: int
    latencies_ms: list[float]
    sender_seconds: float
    probe_ms: list[float]
    feed_rate: float
    frames_per_s: float
    # Share of one core used during the phase, per process.
    cpu: dict[str, float]

    @property
    def requests_per_s(self) -> float:
        return len(self.latencies_ms) / self.sender_seconds

    def p(self, values: list[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def _send_and_probe(url: str, main_url: str, room: str, api_key: str, seconds: float, prefix: str):
    latencies: list[float] = []
    probes: list[float] = []
    deadline = time.perf_counter() + seconds

    async def probe() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                await http.get(f"{main_url}/healthz")
                probes.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(PROBE_INTERVAL_S)

    probing = asyncio.create_task(probe())
    ts = int(time.time() * 1000)
    async with httpx.AsyncClient(timeout=60) as http:
        started = time.perf_counter()
        n = 0
        while time.perf_counter() < deadline:
            body = orjson.dumps(realistic_batch(f"{prefix}-{n}", SENDER_BATCH, ts))
            n += 1
            sent = time.perf_counter()
            response = await http.post(f"{url}/api/rooms/{room}/events", content=body,
                                       headers={"content-type": "application/json", "x-api-key": api_key})
            response.raise_for_status()
            latencies.append((time.perf_counter() - sent) * 1000)
        elapsed = time.perf_counter() - started
    await probing
    return latencies, elapsed, probes


def run_phase(name: str, port_name: str, url: str, server: LiveServer, room, args, screens: int, frames,
              watched: dict[str, int | None], seconds: float) -> Phase:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    prefix = f"{name}-{port_name}".replace(" ", "")
    prefix += f"-{time.monotonic_ns()}"  # the same phase runs twice: ids of its own each time
    feed = context.Process(target=feed_process, args=(url, str(room), room.api_key, args.rate, seconds + 1,
                                                       f"feed-{prefix}", results))
    feed.start()
    time.sleep(1.0)  # the feed settles before the sender measures
    frames_before = frames.value
    cpu_before = {process: cpu_seconds(pid) for process, pid in watched.items()}
    latencies, elapsed, probes = asyncio.run(
        _send_and_probe(url, server.url, str(room), room.api_key, seconds, f"send-{prefix}"))
    cpu = {process: (cpu_seconds(pid) - cpu_before[process]) / elapsed for process, pid in watched.items()}
    frames_per_s = (frames.value - frames_before) / elapsed
    feed_rate = results.get()
    feed.join()
    return Phase(name, port_name, screens, latencies, elapsed, probes, feed_rate, frames_per_s, cpu)


def merged(halves: list[Phase]) -> Phase:
    """One phase from its runs: latencies pooled, rates and CPU shares weighted by time."""
    total = sum(h.sender_seconds for h in halves)

    def weighted(value) -> float:
        return sum(value(h) * h.sender_seconds for h in halves) / total

    first = halves[0]
    return Phase(first.name, first.port, first.screens, [x for h in halves for x in h.latencies_ms], total,
                 [x for h in halves for x in h.probe_ms], weighted(lambda h: h.feed_rate),
                 weighted(lambda h: h.frames_per_s), {k: weighted(lambda h, k=k: h.cpu[k]) for k in first.cpu})


def run_abba(first: tuple[str, str], second: tuple[str, str], ports: dict[str, str], run) -> list[Phase]:
    """A, B, B, A, half the time each: drift over the run (a room whose state grows, a
    neighbour on the machine) weighs on both alike."""
    halves: dict[tuple[str, str], list[Phase]] = {first: [], second: []}
    for name, port_name in (first, second, second, first):
        halves[(name, port_name)].append(run(name, port_name, ports[port_name]))
    return [merged(halves[first]), merged(halves[second])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, default=500)
    parser.add_argument("--rate", type=int, default=2000, help="the feed's events/s")
    parser.add_argument("--seconds", type=float, default=16, help="per phase (run as two halves, A B B A)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="controlroom-bench-isolation-"))
    embedded = EmbeddedRedis(work)
    redis_url = embedded.start()
    database_url = f"sqlite:///{work / 'bench.sqlite3'}"
    env = server_env(redis_url=redis_url, database_url=database_url, data_dir=work, CONTROLROOM_LOG_LEVEL="WARNING")
    server = LiveServer(env, work / "server.log")
    context = multiprocessing.get_context("spawn")
    connected, frames, closed, stop = context.Value("i", 0), context.Value("q", 0), context.Value("i", 0), context.Event()
    screens = None
    phases: list[Phase] = []
    try:
        upgrade(database_url)
        server.start()
        ingest_url = f"http://127.0.0.1:{server.port + 1}"
        wait_healthy(ingest_url)
        room = create_room(database_url, redis_url, name="bench-isolation")
        ports = {"main": server.url, "ingest": ingest_url}
        watched = {"main": server.proc.pid, "ingest": ingest_pid(server.proc.pid), "screens": None}

        def run(screen_count: int):
            return lambda name, port_name, url: run_phase(name, port_name, url, server, room, args, screen_count,
                                                          frames, watched, args.seconds / 2)

        phases += run_abba(("baseline", "main"), ("baseline", "ingest"), ports, run(0))

        screens = context.Process(target=screens_process, args=(server.ws_url, str(room), cookie_header(server.admin),
                                                                args.screens, connected, stop, frames, closed))
        screens.start()
        watched["screens"] = screens.pid
        while connected.value < args.screens:
            if not screens.is_alive():
                raise RuntimeError(f"the screens process died with {connected.value} connected")
            time.sleep(0.2)
        phases += run_abba(("(a) shared loop", "main"), ("(b) ingest process", "ingest"), ports, run(args.screens))
    finally:
        stop.set()
        if screens is not None:
            screens.join(timeout=30)
            if screens.is_alive():
                screens.kill()
        server.terminate()
        embedded.stop()

    print(f"machine: {os.cpu_count()} cores; {args.screens} control-room screens on one room; "
          f"feed {args.rate:,} events/s; sender: sequential POSTs of {SENDER_BATCH} events; {args.seconds:g} s a phase")
    header = (f"{'phase':<22}{'port':<8}{'screens':>8}{'sender req/s':>14}{'POST p50':>10}{'POST p99':>10}"
              f"{'feed ev/s':>11}{'main /healthz p99':>19}{'frames/s':>10}   CPU (share of a core)")
    print(header)
    print("-" * len(header))
    for phase in phases:
        print(f"{phase.name:<22}{phase.port:<8}{phase.screens:>8}{phase.requests_per_s:>14,.0f}"
              f"{statistics.median(phase.latencies_ms):>8.1f}ms{phase.p(phase.latencies_ms, 0.99):>8.1f}ms"
              f"{phase.feed_rate:>11,.0f}{phase.p(phase.probe_ms, 0.99):>17.1f}ms{phase.frames_per_s:>10,.0f}   "
              + " ".join(f"{process} {share:.0%}" for process, share in phase.cpu.items() if share))
    if closed.value:
        print(f"({closed.value} screens were disconnected during the run)")
    baselines = {phase.port: phase for phase in phases if phase.screens == 0}
    print("\nratios to the baseline of the same port (no screens):")
    for phase in phases:
        if phase.screens == 0:
            continue
        base = baselines[phase.port]
        print(f"  {phase.name:<20} sender rate {phase.requests_per_s / base.requests_per_s:>5.2f}x   "
              f"POST p50 {statistics.median(phase.latencies_ms) / statistics.median(base.latencies_ms):>5.1f}x   "
              f"POST p99 {phase.p(phase.latencies_ms, 0.99) / base.p(base.latencies_ms, 0.99):>5.1f}x")


if __name__ == "__main__":
    main()
