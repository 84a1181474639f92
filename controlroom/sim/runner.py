"""Feed a running controlroom with a simulated show: the I/O edge of the simulator.

Every TICK_S of wall time the simulated show advances by TICK_S × speed and its new
events are POSTed to the generic ingest API, exactly as an external feed would.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
from typing import Any, Callable

import httpx
import orjson
import structlog

from controlroom.sim.generator import ShowSimulator

log = structlog.get_logger(__name__)

TICK_S = 0.2
# Far below the ingest limit (5,000 events), so the catch-up batch after an outage fits.
MAX_EVENTS_PER_POST = 1_000
REQUEST_TIMEOUT_S = 10.0
FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
DETAIL_CHARS = 500

OnBatch = Callable[[list[dict[str, Any]], dict[str, int]], object]


async def run_simulation(
    *,
    base_url: str,
    room: str,
    rate: float,
    speed: float = 1.0,
    duration_s: float | None = None,
    seed: int | None = None,
    headers: dict[str, str] | None = None,
    stop: asyncio.Event | None = None,
    on_batch: OnBatch | None = None,
    phase_ms: int = 0,
) -> dict[str, int]:
    """Post a simulated show to `{base_url}/api/rooms/{room}/events` until `duration_s`
    seconds of wall time have passed or `stop` is set; return the totals.

    `rate` is events per second of show time, so the server receives rate × speed per
    second. `headers` are sent with every request (an API key, say). `on_batch(events,
    counts)` is called after each POST the server answered, with the events sent and
    the accepted / duplicates / rejected counts for them. `phase_ms`: where in its
    flash-sale cycle the simulated audience starts (to follow a script's flash sales).
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    stop = stop or asyncio.Event()
    if seed is None:
        seed = secrets.randbits(32)
    url = f"{base_url.rstrip('/')}/api/rooms/{room}/events"
    totals = dict.fromkeys(("posted", "accepted", "duplicates", "rejected", "batches"), 0)
    loop = asyncio.get_running_loop()
    started = loop.time()
    start_ms = time.time_ns() // 1_000_000
    simulator = ShowSimulator(seed=seed, start_ms=start_ms, rate=rate, phase_ms=phase_ms)
    # The seed is logged so that a run can be reproduced.
    log.info("simulation started", url=url, rate=rate, speed=speed, duration_s=duration_s, seed=seed)

    async with httpx.AsyncClient(
        headers={**(headers or {}), "Content-Type": "application/json"}, timeout=REQUEST_TIMEOUT_S
    ) as client:
        finished = False
        while not finished:
            elapsed = loop.time() - started
            next_tick = (math.floor(elapsed / TICK_S) + 1) * TICK_S
            if duration_s is not None:
                next_tick = min(next_tick, duration_s)
            finished = await _stopped_within(stop, next_tick - elapsed)
            elapsed = loop.time() - started
            if duration_s is not None and elapsed >= duration_s:
                elapsed, finished = duration_s, True
            # Show time drives the shape of the show (the audience curve, the flash
            # sales), but the events are stamped with wall time: ts = start + show
            # time / speed spreads each batch over the wall-clock interval it covers.
            # With speed > 1 the show's own ts would run ahead of the clock, and the
            # screens, which count per-minute rates against the wall clock, would be
            # wrong. With speed 1 the two are the same.
            show_now_ms = start_ms + round(elapsed * 1_000 * speed)
            events = [
                {**event, "ts": start_ms + round((event["ts"] - start_ms) / speed)}
                for event in simulator.events_until(show_now_ms)
            ]
            for first in range(0, len(events), MAX_EVENTS_PER_POST):
                chunk = events[first : first + MAX_EVENTS_PER_POST]
                response = await _deliver(client, url, chunk, stop)
                if response is None:
                    continue
                counts = _counts(response, len(chunk))
                totals["posted"] += len(chunk)
                totals["batches"] += 1
                for name, count in counts.items():
                    totals[name] += count
                if on_batch is not None:
                    on_batch(chunk, counts)

    log.info("simulation finished", url=url, seed=seed, **totals)
    return totals


async def _deliver(
    client: httpx.AsyncClient, url: str, events: list[dict[str, Any]], stop: asyncio.Event
) -> httpx.Response | None:
    """POST a batch until the server answers anything but 503; None if `stop` was set
    before it could be delivered.

    Retrying is safe: the server drops repeated ids, so a batch that was stored before
    a timeout is not counted twice.
    """
    body = orjson.dumps(events)
    backoff_s = FIRST_BACKOFF_S
    while True:
        try:
            response = await client.post(url, content=body)
        except httpx.TransportError as exc:
            reason, retry_after_s = f"{type(exc).__name__}: {exc}", None
        else:
            if response.status_code != 503:
                return response
            reason, retry_after_s = f"503 {_detail(response)}", _retry_after_s(response)
        if stop.is_set():
            log.error("simulation stopped with an undelivered batch", url=url, events=len(events), reason=reason)
            return None
        delay_s = min(MAX_BACKOFF_S, retry_after_s or backoff_s)
        log.warning("batch not delivered, retrying", url=url, events=len(events), reason=reason, retry_in_s=delay_s)
        # A stop during the wait still gets one last attempt.
        await _stopped_within(stop, delay_s)
        backoff_s = min(MAX_BACKOFF_S, backoff_s * 2)


def _counts(response: httpx.Response, sent: int) -> dict[str, int]:
    """The server's accepted / duplicates / rejected counts for a batch it answered."""
    if response.is_success:
        result = response.json()
        if result["rejected"]:
            log.warning("events rejected", url=str(response.url), rejections=result["rejections"][:5])
        return {name: result[name] for name in ("accepted", "duplicates", "rejected")}
    log.warning("batch refused", url=str(response.url), status=response.status_code, detail=_detail(response))
    return {"accepted": 0, "duplicates": 0, "rejected": sent}


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:DETAIL_CHARS]
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return response.text[:DETAIL_CHARS]


def _retry_after_s(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


async def _stopped_within(stop: asyncio.Event, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as `stop` is set."""
    try:
        await asyncio.wait_for(stop.wait(), max(0.0, seconds))
    except TimeoutError:
        pass
    return stop.is_set()
