"""Recordings of shows and their replay (彩排 against an earlier show).

A recording is gzip-compressed JSON lines, one canonical event a line, in the order the
room's stream holds them; controlroom/reports/recorder.py writes it while the show runs.
`replay` posts a recording through the public ingest API
with the original spacing scaled, fresh ids (a replay never collides with the original)
and times moved to now, so rules, cues and playbooks run exactly as live.
"""

from __future__ import annotations

import asyncio
import gzip
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

import httpx
import orjson
import structlog
from tqdm import tqdm


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


# --- where recordings live --------------------------------------------------------------------


def recording_path(data_dir: Path, room: str, show_id: int) -> Path:
    return data_dir / "recordings" / room / f"show-{show_id}.jsonl.gz"


def show_span(run: dict, planned_start_ms: int, now_ms: int) -> tuple[int, int | None]:
    """The stream span of a show: from its start (or planned start) to its end (or now)."""
    return run.get("started_at") or planned_start_ms, run.get("ended_at") or None


def prune_recordings(data_dir: Path, *, retention_days: int, now_s: float | None = None) -> int:
    """Delete recordings older than the retention; returns how many."""
    horizon = (now_s or time.time()) - retention_days * 86400
    removed = 0
    for path in (data_dir / "recordings").glob("*/*.jsonl.gz"):
        if path.stat().st_mtime < horizon:
            path.unlink()
            removed += 1
    return removed
