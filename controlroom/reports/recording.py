"""Recordings of shows and their replay (彩排 against an earlier show).

A recording is gzip-compressed JSON lines, one canonical event a line, in the order the
room applied them. `export` reads a show's events back from the room's stream (between
the show's start and end); `replay` posts a recording through the public ingest API
with the original spacing scaled, fresh ids (a replay never collides with the original)
and times moved to now, so rules, cues and playbooks run exactly as live.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Iterable, Iterator

import httpx
import orjson
import redis.asyncio as aioredis
import structlog
from sqlalchemy.orm import Session, sessionmaker
from tqdm import tqdm

from controlroom.bus import keys
from controlroom.db.session import run_in_transaction
from controlroom.shows.runs import room_show

REPLAY_BATCH_MS = 100  # events due within this window go in one request
MAX_BATCH = 2000

log = structlog.get_logger(__name__)


def read_recording(path: Path | str) -> list[dict]:
    with gzip.open(path, "rb") as file:
        return [orjson.loads(line) for line in file if line.strip()]


def write_recording(events: Iterable[dict], out: IO[bytes]) -> int:
    count = 0
    with gzip.GzipFile(fileobj=out, mode="wb") as gz:
        for event in events:
            gz.write(orjson.dumps(event) + b"\n")
            count += 1
    return count


async def stream_events(client: aioredis.Redis, room: str, *, start_ms: int, end_ms: int | None) -> list[dict]:
    """The room's events of a time span, read back from its stream (entry ids carry the
    time they were accepted), in stream order, each once."""
    events, seen = [], set()
    cursor = f"{start_ms}-0"
    stop = f"{end_ms}-99999999" if end_ms else "+"
    while True:
        batch = await client.xrange(keys.stream(room), min=cursor, max=stop, count=5000)
        if not batch:
            break
        for entry_id, fields in batch:
            event = orjson.loads(fields[b"e"])
            if event["id"] not in seen:
                seen.add(event["id"])
                events.append(event)
        last = batch[-1][0].decode()
        ms, seq = last.split("-")
        cursor = f"{ms}-{int(seq) + 1}"
    return events


@dataclass
class ReplayResult:
    sent: int
    accepted: int
    duplicates: int
    rejected: int
    seconds: float


def _schedule(events: list[dict], *, speed: float, run_id: str, now_ms: int) -> Iterator[tuple[float, list[dict]]]:
    """(seconds after the start, batch) with fresh ids and times moved to now."""
    ordered = sorted(events, key=lambda e: e["ts"])
    if not ordered:
        return
    base = ordered[0]["ts"]
    batch: list[dict] = []
    batch_due = 0.0
    for event in ordered:
        offset_ms = (event["ts"] - base) / speed
        moved = {**event, "id": f"rp-{run_id}-{event['id']}", "ts": int(now_ms + offset_ms), "source": "replay",
                 "replayed_from": event["ts"]}
        due = offset_ms / 1000
        if batch and (due - batch_due > REPLAY_BATCH_MS / 1000 or len(batch) >= MAX_BATCH):
            yield batch_due, batch
            batch = []
        if not batch:
            batch_due = due
        batch.append(moved)
    if batch:
        yield batch_due, batch


async def replay(events: list[dict], *, url: str, room: str, api_key: str, speed: float = 1.0,
                 progress: bool = True) -> ReplayResult:
    run_id = uuid.uuid4().hex[:8]
    started = time.monotonic()
    result = ReplayResult(0, 0, 0, 0, 0.0)
    bar = tqdm(total=len(events), unit="ev", disable=not progress, desc=f"replay ×{speed:g} → {room}")
    async with httpx.AsyncClient(base_url=url, timeout=30, headers={"x-api-key": api_key}) as client:
        for due, batch in _schedule(events, speed=speed, run_id=run_id, now_ms=int(time.time() * 1000)):
            wait = due - (time.monotonic() - started)
            if wait > 0:
                await asyncio.sleep(wait)
            while True:
                response = await client.post(f"/api/rooms/{room}/events", content=orjson.dumps(batch),
                                             headers={"content-type": "application/json"})
                if response.status_code != 503:
                    break
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))  # the room is behind
            if response.status_code not in (200, 422):
                raise RuntimeError(f"ingest refused a batch: {response.status_code} {response.text[:300]}")
            body = response.json()
            result.sent += len(batch)
            result.accepted += body["accepted"]
            result.duplicates += body["duplicates"]
            result.rejected += body["rejected"]
            bar.update(len(batch))
    bar.close()
    result.seconds = time.monotonic() - started
    return result


# --- archive at the end of a show --------------------------------------------------------------


def recording_path(data_dir: Path, room: str, show_id: int) -> Path:
    return data_dir / "recordings" / room / f"show-{show_id}.jsonl.gz"


def show_span(run: dict, planned_start_ms: int, now_ms: int) -> tuple[int, int | None]:
    """The stream span of a show: from its start (or planned start) to its end (or now)."""
    return run.get("started_at") or planned_start_ms, run.get("ended_at") or None


async def archive_show(client: aioredis.Redis, *, data_dir: Path, room: str, show_id: int, start_ms: int,
                       end_ms: int | None) -> Path:
    """Write the show's events to its recording file (the stream is trimmed later)."""
    events = await stream_events(client, room, start_ms=start_ms, end_ms=end_ms)
    path = recording_path(data_dir, room, show_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        await asyncio.to_thread(write_recording, events, out)
    partial.replace(path)
    return path


def prune_recordings(data_dir: Path, *, retention_days: int, now_s: float | None = None) -> int:
    """Delete recordings older than the retention; returns how many."""
    horizon = (now_s or time.time()) - retention_days * 86400
    removed = 0
    for path in (data_dir / "recordings").glob("*/*.jsonl.gz"):
        if path.stat().st_mtime < horizon:
            path.unlink()
            removed += 1
    return removed


async def archive_ended_show(client: aioredis.Redis, sessions: sessionmaker[Session], *, data_dir: Path, room: str,
                             now: datetime) -> Path:
    """The just-ended show's events to its recording file, before the stream trims them
    away (called by the show's `end` action through Services.show_ended)."""
    def span(session: Session) -> tuple[int, int, int | None]:
        _, show = room_show(session, room, now)
        start, end = show_span(show.run or {}, int(show.planned_start.timestamp() * 1000), 0)
        return show.id, start, end

    show_id, start, end = await run_in_transaction(sessions, span)
    path = await archive_show(client, data_dir=data_dir, room=room, show_id=show_id, start_ms=start, end_ms=end)
    log.info("show.archived", room=room, show=show_id, path=str(path))
    return path
