"""Many screens on one hot room: websocket fan-out under an open-loop load.

`--clients` control-room screens (signed in, `/ws/rooms/{room}?lang=en`) watch one room.
They are held by `--listener-processes` processes of their own, and every screen keeps
listening for the whole run. Meanwhile one sender process posts a realistic mix at
`--rate` events/s. A batch is due every `--tick` seconds whether or not the server kept
up (open loop), with up to 8 requests in flight. Each batch carries a viewers reading
equal to its sequence number, so a frame whose online tile shows n reflects every batch
up to n. Printed:

  - the rate reached (events accepted by ingest) next to the rate aimed at;
  - POST -> frame latency for every (screen, accepted batch) pair, p50 / p99 / max. It
    runs from the moment the batch was handed to the HTTP client (before it waited for
    one of the slots in flight) to the first frame on that screen reflecting it. The
    pairs never shown by the end (2 s after the last answer) are counted, not dropped;
  - frames per second per screen and in total during the sending phase, and bytes per
    frame (median and mean; the message's text, before the connection compresses it);
  - the server's CPU seconds (`serve` and its children) and the load average;
  - a baseline measured in the same run, after the server stopped: a bare `websockets`
    server sends, in turn, the frames controlroom delivered (up to 200 of them) to as
    many screens, held by as many listener processes of the same kind. It runs once at
    controlroom's frame rate per screen (rounded up) and once as fast as it can.
    Controlroom's frames/s is printed as a share of each.

Runs `controlroom serve` (worker inline) against an embedded redis-server (or the Redis
at CONTROLROOM_BENCH_REDIS_URL), on SQLite. Nothing here asserts: read the figures. The
machine is shared, and the screens and the sender run on it too.

    python bench/dashboard.py [--clients 1000] [--rate 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import multiprocessing
import os
import re
import resource
import statistics
import sys
import time
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import websockets
from websockets.asyncio.client import connect
from websockets.asyncio.server import broadcast, serve

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import ONLINE_TILE, marked_batch  # noqa: E402
from bench.services import cpu_seconds, redis_and_sqlite, work_dir  # noqa: E402
from tests.support import LiveServer, cookie_header, create_room, free_port, server_env  # noqa: E402

# Frames are read as bytes (never decoded): the online tile is looked for in the bytes.
ONLINE = re.compile(ONLINE_TILE.pattern.encode())
IN_FLIGHT = 8
CONNECT_AT_ONCE = 16
KEEP_FRAMES = 200  # real frames brought back for the bare broadcast to send
DRAIN_S = 2.0  # how long frames are still awaited after the last batch was answered
BARE_HIGH_WATER = 256 * 1024  # unthrottled bare broadcast: wait while a buffer holds more


@dataclass
class Screen:
    """What one screen saw: each frame's arrival (wall clock) and size, and when its
    online tile first showed each new highest value (so when each batch was reflected)."""

    arrivals: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    shown: list[int] = field(default_factory=list)
    shown_at: list[float] = field(default_factory=list)
    closed: bool = False

    def saw(self, frame: bytes, at: float) -> None:
        self.arrivals.append(at)
        self.sizes.append(len(frame))
        match = ONLINE.search(frame)
        if match is None:
            return
        try:
            value = int(match.group(1).replace(b",", b""))
        except ValueError:  # "–": no reading yet
            return
        if not self.shown or value > self.shown[-1]:
            self.shown.append(value)
            self.shown_at.append(at)

    def reflected_at(self, seq: int) -> float | None:
        """When a frame first showed online >= seq (None: never)."""
        index = bisect_left(self.shown, seq)
        return self.shown_at[index] if index < len(self.shown) else None


def _allow_open_files(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        resource.setrlimit(resource.RLIMIT_NOFILE, (count if hard == resource.RLIM_INFINITY else min(count, hard), hard))


def _listen(index: int, url: str, headers: dict[str, str], clients: int, keep: int, control, out) -> None:
    """One listener process: opens `clients` screens, reports ("ready", ...), records every
    frame until a stop message arrives on `control`, then reports ("done", index, figures)."""
    _allow_open_files(clients + 64)
    asyncio.run(_listen_async(index, url, headers, clients, keep, control, out))


async def _listen_async(index: int, url: str, headers: dict[str, str], clients: int, keep: int, control, out) -> None:
    sockets, screens = [], []
    failed: Counter[str] = Counter()
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)

    async def open_one() -> None:
        async with gate:
            try:
                ws = await connect(url, additional_headers=headers, max_size=None, open_timeout=60,
                                   ping_interval=None, close_timeout=2)
                screen = Screen()
                screen.saw(await ws.recv(decode=False), time.time())  # the snapshot
            except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as exc:
                failed[type(exc).__name__] += 1
                return
        sockets.append(ws)
        screens.append(screen)

    await asyncio.gather(*(open_one() for _ in range(clients)))
    kept: list[tuple[float, bytes]] | None = [] if keep else None
    watchers = [asyncio.create_task(_watch(ws, screen, kept if n == 0 else None))
                for n, (ws, screen) in enumerate(zip(sockets, screens))]
    cpu_before = time.process_time()
    out.put(("ready", index, len(sockets), dict(failed)))
    stop = await asyncio.get_running_loop().run_in_executor(None, control.get)
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(*watchers, return_exceptions=True)
    figures = _figures(screens, stop["window"], stop["sent_at"], kept or [], keep)
    figures["cpu_s"] = time.process_time() - cpu_before
    out.put(("done", index, figures))
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def _watch(ws, screen: Screen, kept: list[tuple[float, bytes]] | None) -> None:
    try:
        while True:
            frame = await ws.recv(decode=False)
            at = time.time()
            screen.saw(frame, at)
            if kept is not None:
                kept.append((at, frame))
    except websockets.ConnectionClosed:
        screen.closed = True


def _figures(screens: list[Screen], window: tuple[float, float], sent_at: dict[int, float],
             kept: list[tuple[float, bytes]], keep: int) -> dict:
    """One process's share, aggregated: frames per screen and their sizes within the
    window, latency samples (s) for every (screen, seq in sent_at), pairs never shown."""
    start, end = window
    frames, sizes, latencies, never = [], [], [], 0
    for screen in screens:
        inside = [size for at, size in zip(screen.arrivals, screen.sizes) if start <= at < end]
        frames.append(len(inside))
        sizes.extend(inside)
        for seq, sent in sent_at.items():
            reflected = screen.reflected_at(seq)
            if reflected is None:
                never += 1
            else:
                latencies.append(reflected - sent)
    real = [frame for at, frame in kept if start <= at < end]
    return {"frames": frames, "sizes": sizes, "latencies": latencies, "never": never,
            "dropped": sum(screen.closed for screen in screens),
            "kept": real[:: max(1, math.ceil(len(real) / keep))] if keep else []}


def _start_listeners(ctx, url: str, headers: dict[str, str], clients: int, processes: int, keep: int):
    """Listener processes holding `clients` screens between them, once all are connected:
    (processes, control queue, report queue, screens opened, failures)."""
    control, out = ctx.Queue(), ctx.Queue()
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    listeners = [ctx.Process(target=_listen, args=(n, url, headers, share, keep if n == 0 else 0, control, out))
                 for n, share in enumerate(shares) if share]
    for listener in listeners:
        listener.start()
    opened, failed = 0, Counter()
    for _ in listeners:
        _, _, count, failures = out.get(timeout=600)
        opened += count
        failed.update(failures)
    return listeners, control, out, opened, failed


def _stop_listeners(listeners, control, out, window: tuple[float, float], sent_at: dict[int, float]) -> dict:
    """Stop every listener; their figures merged."""
    for _ in listeners:
        control.put({"window": window, "sent_at": sent_at})
    merged = {"frames": [], "sizes": [], "latencies": [], "never": 0, "dropped": 0, "kept": [], "cpu_s": 0.0}
    for _ in listeners:
        _, _, figures = out.get(timeout=600)
        for key, value in figures.items():
            merged[key] += value
    for listener in listeners:
        listener.join()
    return merged


def _send(url: str, room: str, key: str, rate: float, tick: float, seconds: float, start_at: float, out) -> None:
    """The sender process: a marked batch due every `tick` from `start_at` (open loop), up
    to IN_FLIGHT requests at once; reports when each seq was sent and which were accepted."""
    out.put(asyncio.run(_send_async(url, room, key, rate, tick, seconds, start_at)))


async def _send_async(url: str, room: str, key: str, rate: float, tick: float, seconds: float,
                      start_at: float) -> dict:
    per_batch = max(2, round(rate * tick))  # the mix and the viewers reading
    sent_at: dict[int, float] = {}
    accepted_seqs: list[int] = []
    refused: Counter[str] = Counter()
    accepted = late = 0
    cpu_before = time.process_time()
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=IN_FLIGHT)) as http:
        async def post(seq: int, body: bytes) -> None:
            nonlocal accepted
            async with gate:
                try:
                    response = await http.post(f"{url}/api/rooms/{room}/events", content=body, headers={
                        "content-type": "application/json", "x-api-key": key})
                except httpx.HTTPError as exc:
                    refused[type(exc).__name__] += 1
                    return
            if response.status_code == 200:
                accepted += response.json()["accepted"]
                accepted_seqs.append(seq)
            else:
                refused[str(response.status_code)] += 1

        tasks = []
        for seq in range(1, round(seconds / tick) + 1):
            wait = start_at + (seq - 1) * tick - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            elif wait < -tick:
                late += 1
            body = orjson.dumps(marked_batch("dash", seq, per_batch))
            sent_at[seq] = time.time()
            tasks.append(asyncio.create_task(post(seq, body)))
        await asyncio.gather(*tasks)
    return {"sent_at": sent_at, "accepted_seqs": accepted_seqs, "accepted": accepted, "refused": dict(refused),
            "batches": len(sent_at), "per_batch": per_batch, "late": late, "cpu_s": time.process_time() - cpu_before}


def _server_cpu_s(pid: int) -> float:
    """User + system seconds of `serve` and its children (as bench/rooms.py counts them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(cpu_seconds(each) for each in [pid, *map(int, children)])


def controlroom_run(ctx, server: LiveServer, room, args: argparse.Namespace) -> dict:
    """Screens connected, the sender run, frames awaited DRAIN_S more: the merged figures."""
    server.post_events(room, [{"id": "warm", "type": "like", "ts": int(time.time() * 1000), "user": {"id": "w"}}])
    server.wait_for_state(room, lambda state: state["events_applied"] >= 1)  # the worker took the room
    listeners, control, out, opened, failed = _start_listeners(
        ctx, f"{server.ws_url}/ws/rooms/{room}?lang=en", cookie_header(server.admin), args.clients,
        args.listener_processes, KEEP_FRAMES)
    start_at = time.time() + 1
    answers = ctx.Queue()
    sender = ctx.Process(target=_send, args=(server.url, str(room), room.api_key, args.rate, args.tick,
                                             args.seconds, start_at, answers))
    sender.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = _server_cpu_s(server.proc.pid)
    sent = answers.get()
    sender.join()
    time.sleep(DRAIN_S)
    elapsed = time.time() - start_at
    cpu = _server_cpu_s(server.proc.pid) - cpu_before
    load = os.getloadavg()[0]
    accepted_at = {seq: sent["sent_at"][seq] for seq in sent["accepted_seqs"]}
    seen = _stop_listeners(listeners, control, out, (start_at, start_at + args.seconds), accepted_at)
    return {**seen, "sent": sent, "opened": opened, "failed": failed, "server_cpu_s": cpu, "elapsed": elapsed,
            "load": load}


def _bare_server(port: int, frames: list[bytes], hz: float | None, seconds: float, control, out) -> None:
    """The bare broadcast process: each connection gets frames[0] (its "snapshot"); once
    told when to start, every connection gets the frames in turn, `hz` a second (None: as
    fast as the write buffers drain) for `seconds`; then reports how many were broadcast."""
    _allow_open_files(4096)
    asyncio.run(_bare_serve(port, frames, hz, seconds, control, out))


async def _bare_serve(port: int, frames: list[bytes], hz: float | None, seconds: float, control, out) -> None:
    loop = asyncio.get_running_loop()

    async def handler(connection) -> None:
        try:
            await connection.send(frames[0], text=True)
            await connection.wait_closed()
        except websockets.ConnectionClosed:
            pass

    async with serve(handler, "127.0.0.1", port, max_size=None, ping_interval=None) as server:
        out.put("listening")
        start_at = await loop.run_in_executor(None, control.get)
        await asyncio.sleep(max(0.0, start_at - time.time()))
        ticks = 0
        while time.time() < start_at + seconds:
            broadcast(server.connections, frames[ticks % len(frames)], text=True)
            ticks += 1
            if hz:
                await asyncio.sleep(max(0.0, start_at + ticks / hz - time.time()))
                continue
            await asyncio.sleep(0)
            while (time.time() < start_at + seconds and any(
                    c.transport.get_write_buffer_size() > BARE_HIGH_WATER for c in server.connections)):
                await asyncio.sleep(0.001)
        out.put(ticks)
        await loop.run_in_executor(None, control.get)  # until the screens have stopped


def bare_run(ctx, frames: list[bytes], clients: int, processes: int, hz: float | None, seconds: float) -> dict:
    """A bare websockets broadcast of `frames` to `clients` screens held like controlroom's."""
    port = free_port()
    control, out = ctx.Queue(), ctx.Queue()
    server = ctx.Process(target=_bare_server, args=(port, frames, hz, seconds, control, out))
    server.start()
    out.get(timeout=60)
    listeners, screens_control, screens_out, opened, failed = _start_listeners(
        ctx, f"ws://127.0.0.1:{port}/", {}, clients, processes, 0)
    start_at = time.time() + 0.5
    control.put(start_at)
    ticks = out.get()
    time.sleep(0.5)
    seen = _stop_listeners(listeners, screens_control, screens_out, (start_at, start_at + seconds), {})
    control.put(None)
    server.join()
    return {**seen, "ticks": ticks, "opened": opened, "failed": failed,
            "fps": sum(seen["frames"]) / seconds}


def _ms(samples: list[float], share: float) -> float:
    return 1000 * samples[min(len(samples) - 1, int(len(samples) * share))]


def report(args: argparse.Namespace, run: dict, paced: dict | None, fastest: dict | None, hz: int) -> None:
    sent = run["sent"]
    accepted_batches = len(sent["accepted_seqs"])
    print(f"screens: {run['opened']:,} of {args.clients:,} connected"
          f"{' (failed: ' + str(dict(run['failed'])) + ')' if run['failed'] else ''}; "
          f"{run['dropped']} disconnected during the run")
    print(f"rate: aimed {args.rate:,} events/s, reached {sent['accepted'] / args.seconds:,.0f} events/s accepted "
          f"({accepted_batches} of {sent['batches']} batches of {sent['per_batch']}; refused {sent['refused'] or 0}; "
          f"{sent['late']} batches sent over a tick late)")
    latencies = sorted(run["latencies"])
    pairs = len(latencies) + run["never"]
    if latencies:
        print(f"POST -> frame, every screen: p50 {_ms(latencies, 0.5):,.0f} ms, p99 {_ms(latencies, 0.99):,.0f} ms, "
              f"max {1000 * latencies[-1]:,.0f} ms ({len(latencies):,} samples)")
    else:
        print("POST -> frame: no frame reflected any batch")
    print(f"batches never shown: {run['never']:,} of {pairs:,} (screen, accepted batch) pairs "
          f"({run['never'] / max(1, pairs):.2%})")
    frames = run["frames"]
    fps = sum(frames) / args.seconds
    per_screen = [n / args.seconds for n in frames] or [0]
    sizes = run["sizes"] or [0]
    print(f"frames: {statistics.mean(per_screen):.1f}/s per screen (min {min(per_screen):.1f}, "
          f"max {max(per_screen):.1f}), {fps:,.0f}/s in total; bytes per frame: median "
          f"{statistics.median(sizes):,.0f}, mean {statistics.mean(sizes):,.0f}")
    print(f"server CPU: {run['server_cpu_s']:.1f} s over {run['elapsed']:.1f} s "
          f"({run['server_cpu_s'] / run['elapsed']:.2f} cores); listeners {run['cpu_s']:.1f} s, sender "
          f"{sent['cpu_s']:.1f} s; load average {run['load']:.2f}")
    for name, bare in ((f"paced at {hz} Hz per screen", paced), (f"unthrottled, {args.bare_max_seconds:g} s", fastest)):
        if bare is None:
            print(f"bare websockets broadcast, {name}: not run (controlroom delivered no frame to send)")
            continue
        bare_sizes = bare["sizes"] or [0]
        print(f"bare websockets broadcast, {name}: {bare['fps']:,.0f} frames/s to {bare['opened']:,} screens "
              f"(median {statistics.median(bare_sizes):,.0f} bytes, mean {statistics.mean(bare_sizes):,.0f}; "
              f"{bare['ticks']:,} broadcasts; {bare['dropped']} disconnected) -> controlroom's {fps:,.0f}/s is "
              f"{fps / max(bare['fps'], 1e-9):.0%} of it" + (" (aim: at least 80%)" if bare is paced else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--listener-processes", type=int, default=4)
    parser.add_argument("--rate", type=int, default=2000, help="events/s aimed at")
    parser.add_argument("--tick", type=float, default=0.05, help="a batch is due every tick (s)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--bare-max-seconds", type=float, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.clients:,} screens in {args.listener_processes} listener "
          f"processes; aiming at {args.rate:,} events/s (a batch every {args.tick:g} s) for {args.seconds:g} s",
          flush=True)
    _allow_open_files(args.clients + 1024)  # the server inherits it
    ctx = multiprocessing.get_context("fork")

    with redis_and_sqlite("dashboard") as (redis_url, database_url):
        work = work_dir(database_url)
        env = server_env(redis_url=redis_url, database_url=database_url, data_dir=work,
                         CONTROLROOM_LOG_LEVEL="WARNING")
        server = LiveServer(env, work / "server.log")
        try:
            server.start()
            room = create_room(database_url, redis_url, name="bench-dashboard")
            run = controlroom_run(ctx, server, room, args)
        finally:
            server.terminate()

    frames = run["kept"]
    hz = max(1, math.ceil(sum(run["frames"]) / max(1, len(run["frames"])) / args.seconds))
    paced = fastest = None
    if frames:
        paced = bare_run(ctx, frames, args.clients, args.listener_processes, hz, args.seconds)
        fastest = bare_run(ctx, frames, args.clients, args.listener_processes, None, args.bare_max_seconds)
    report(args, run, paced, fastest, hz)
    log = work / "server.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    print(f"server log: {log} ({len(lines)} lines at WARNING or above)")


if __name__ == "__main__":
    main()
