"""A show's recording, written while the show runs.

Every few seconds the recorder reads each room's stream from where it left off
(`keys.recorded`), sorts the entries into the shows whose span holds them (by the time
ingest accepted them, the stream id) and appends each show's share as a part file:
gzip JSON lines written to a temporary file, fsynced, renamed, then read back and
counted. Only then does the cursor move, and only then may the stream be trimmed: to
`stream_maxlen` entries, never past an entry that is not both applied by the worker and
recorded. A 14-hour show therefore keeps every event however small the stream bound is.

When a show has ended and the recorder has passed its end, its parts are merged into
the show's recording (`recording_path`, the same temporary-file-fsync-rename) and the
parts removed. A show's recording is found by the show's own id, whatever show the room
has moved on to. A round that fails is logged, kept in `keys.recording_failure` for
tech staff, and tried again on the next round; nothing moves until it succeeds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable, Iterable, TypeVar

import orjson
import redis.asyncio as aioredis
import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from controlroom.bus import keys
from controlroom.db.session import run_in_transaction
from controlroom.reports.recording import read_recording, recording_path, write_recording
from controlroom.rooms.models import Room
from controlroom.shows.models import Show

log = structlog.get_logger(__name__)

# Entries younger than this wait for the next round: a show's start or end is committed
# within it, so no entry is sorted against a span that is about to change.
SETTLE_MS = 2_000
READ_COUNT = 10_000
# A round records at most this many entries of a room; a long backlog takes a few rounds.
ROUND_ENTRIES = 200_000
LOCK_MS = 60_000
# The spans looked at: a room's most recent started shows.
RECENT_SHOWS = 20

T = TypeVar("T")

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RecordingFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Span:
    show_id: int
    start_ms: int
    end_ms: int | None  # None: still running

    def holds(self, ms: int) -> bool:
        return self.start_ms <= ms and (self.end_ms is None or ms <= self.end_ms)


def entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: str) -> str:
    ms, seq = _id_key(entry_id)
    return f"{ms}-{seq + 1}"


def by_show(entries: Iterable[tuple[str, T]], spans: list[Span]) -> dict[int, list[tuple[str, T]]]:
    """Each show's entries (in stream order); entries outside every span are nobody's."""
    shares: dict[int, list[tuple[str, dict]]] = {}
    for entry_id, event in entries:
        ms = entry_ms(entry_id)
        for span in spans:
            if span.holds(ms):
                shares.setdefault(span.show_id, []).append((entry_id, event))
                break
    return shares


def parts_dir(data_dir: Path, room: str, show_id: int) -> Path:
    return recording_path(data_dir, room, show_id).with_name(f"show-{show_id}.parts")


def part_name(first_entry_id: str) -> str:
    ms, seq = _id_key(first_entry_id)
    return f"{ms:015d}-{seq:010d}.jsonl.gz"


def write_verified(path: Path, events: list[dict]) -> int:
    """Write `events` to `path` so that it is either the old file or all of them:
    temporary file, fsync, rename, fsync of the folder; then read back and counted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as out:
        write_recording(events, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    written = len(read_recording(path))
    if written != len(events):
        raise RecordingFailed(f"{path}: {written} events read back of {len(events)} written")
    return written


def _write_part(path: Path, payloads: list[bytes]) -> int:
    return write_verified(path, unique_events(orjson.loads(payload) for payload in payloads))


def read_parts(folder: Path, skip: Iterable[str] = ()) -> tuple[list[dict], list[str]]:
    """The events of a show's parts in order, each event id once, and the parts read."""
    skipped = set(skip)
    names = sorted(p.name for p in folder.glob("*.jsonl.gz")) if folder.is_dir() else []
    events, seen = [], set()
    for name in names:
        if name in skipped:
            continue
        for event in read_recording(folder / name):
            if event["id"] not in seen:
                seen.add(event["id"])
                events.append(event)
    return events, names


def unique_events(events: Iterable[dict]) -> list[dict]:
    seen: set[str] = set()
    kept = []
    for event in events:
        if event["id"] not in seen:
            seen.add(event["id"])
            kept.append(event)
    return kept


def merge_parts(data_dir: Path, room: str, show_id: int) -> int:
    """The show's parts become its recording; returns how many events it holds."""
    folder = parts_dir(data_dir, room, show_id)
    events, _ = read_parts(folder)
    target = recording_path(data_dir, room, show_id)
    if target.exists():
        # Merged before, and parts written since (a late entry): keep both.
        events = unique_events([*read_recording(target), *events])
    count = write_verified(target, events)
    shutil.rmtree(folder)
    return count


def show_spans(session: Session, room: str) -> list[Span]:
    rows = session.execute(
        select(Show.id, Show.run).join(Room).where(Room.slug == room, Show.status.in_(("live", "ended")))
        .order_by(Show.planned_start.desc()).limit(RECENT_SHOWS)
    )
    spans = []
    for show_id, run in rows:
        run = run or {}
        if run.get("started_at"):
            spans.append(Span(show_id, int(run["started_at"]), run.get("ended_at")))
    return spans


class Recorder:
    def __init__(self, redis: aioredis.Redis, sessions: sessionmaker[Session], *, data_dir: Path,
                 stream_maxlen: int, finished: Callable[[str, int], Awaitable[object]] | None = None) -> None:
        self.redis = redis
        # Told when a show's recording is finished (its review is computed and stored).
        self.finished = finished
        self.sessions = sessions
        self.data_dir = data_dir
        self.stream_maxlen = stream_maxlen
        self._release = redis.register_script(_RELEASE)
        self._pending: set[asyncio.Task[object]] = set()

    async def round(self) -> None:
        for room in sorted(member.decode() for member in await self.redis.smembers(keys.ROOMS)):
            await self.record_room(room)

    def show_ended(self, room: str) -> None:
        """Finish the ended show's recording as soon as its last entries have settled,
        without holding up the controller's request."""
        self._in_background(self._after_settling(room), f"recording-{room}")

    def _in_background(self, work: Awaitable[object], name: str) -> None:
        async def logged() -> None:
            try:
                await work
            except Exception as exc:  # noqa: BLE001 - the next round or an open retries
                log.error("recording.background_failed", task=name, error=str(exc), exc_info=exc)

        task = asyncio.create_task(logged(), name=name)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _after_settling(self, room: str) -> None:
        await asyncio.sleep(SETTLE_MS / 1000 + 0.2)
        await self.record_room(room)

    async def record_room(self, room: str) -> int | None:
        """Record what the room's stream holds beyond the cursor; None when another
        process holds the room's recording this round."""
        token = uuid.uuid4().hex
        if not await self.redis.set(keys.recorder_lock(room), token, nx=True, px=LOCK_MS):
            return None
        try:
            recorded = await self._record(room)
        except Exception as exc:  # noqa: BLE001 - kept for tech staff and retried next round
            await self._failed(room, exc)
            return 0
        else:
            await self.redis.delete(keys.recording_failure(room))
            return recorded
        finally:
            await self._release(keys=[keys.recorder_lock(room)], args=[token])

    async def _now_ms(self) -> int:
        seconds, micros = await self.redis.time()  # the clock stream ids are read on
        return int(seconds) * 1000 + int(micros) // 1000

    async def _record(self, room: str) -> int:
        stream = keys.stream(room)
        raw_cursor = await self.redis.get(keys.recorded(room))
        cursor = raw_cursor.decode() if raw_cursor else "0-0"
        settled = await self._now_ms() - SETTLE_MS
        entries: list[tuple[str, bytes]] = []
        complete = False
        while len(entries) < ROUND_ENTRIES:
            start = f"({entries[-1][0]}" if entries else f"({cursor}"
            batch = await self.redis.xrange(stream, min=start, max=str(settled), count=READ_COUNT)
            # Kept as the stream holds them: parsed in the writing thread, off the event loop.
            entries.extend((entry_id.decode(), fields[b"e"]) for entry_id, fields in batch)
            if len(batch) < READ_COUNT:
                complete = True
                break
        folders = list((self.data_dir / "recordings" / room).glob("show-*.parts"))
        if not entries and not folders:
            await self._trim(room, cursor)
            return 0
        spans = await run_in_transaction(self.sessions, lambda s: show_spans(s, room))
        shares = by_show(entries, spans)
        for show_id, share in shares.items():
            path = parts_dir(self.data_dir, room, show_id) / part_name(share[0][0])
            written = await asyncio.to_thread(_write_part, path, [payload for _, payload in share])
            log.info("recording.part", room=room, show=show_id, stream_entries=len(share), events=written,
                     part=path.name)
        if entries:
            cursor = entries[-1][0]
            await self.redis.set(keys.recorded(room), cursor)
        await self._trim(room, cursor)
        if complete:
            for span in spans:
                if span.end_ms is not None and span.end_ms <= settled \
                        and parts_dir(self.data_dir, room, span.show_id).is_dir():
                    count = await asyncio.to_thread(merge_parts, self.data_dir, room, span.show_id)
                    log.info("recording.finished", room=room, show=span.show_id, events=count)
                    if self.finished is not None:
                        self._in_background(self.finished(room, span.show_id), f"review-{room}-{span.show_id}")
        return len(entries)

    async def _trim(self, room: str, recorded: str) -> None:
        stream = keys.stream(room)
        overflow = await self.redis.xlen(stream) - self.stream_maxlen
        if overflow <= 0:
            return
        applied = await self.redis.hget(keys.checkpoint(room), "last_id")
        if not applied:
            return
        oldest = await self.redis.xrange(stream, min="-", max="+", count=min(overflow, ROUND_ENTRIES))
        bounds = [oldest[-1][0].decode(), recorded, applied.decode()]
        bound = min(bounds, key=_id_key)
        if bound != "0-0":
            await self.redis.xtrim(stream, minid=_next_id(bound), approximate=False)

    async def _failed(self, room: str, exc: Exception) -> None:
        log.error("recording.failed", room=room, error=str(exc), exc_info=exc)
        raw = await self.redis.get(keys.recording_failure(room))
        since = orjson.loads(raw)["since"] if raw else await self._now_ms()
        await self.redis.set(keys.recording_failure(room), orjson.dumps({"since": since, "error": str(exc)[:300]}))


def events_on_disk(data_dir: Path, room: str, show_id: int) -> list[dict]:
    """What is recorded of a show: its recording once finished, else its parts so far."""
    final = recording_path(data_dir, room, show_id)
    for _ in range(3):
        if final.exists():
            return read_recording(final)
        try:
            events, _ = read_parts(parts_dir(data_dir, room, show_id))
            return events
        except FileNotFoundError:
            continue  # merged meanwhile: the recording is there now
    raise RecordingFailed(f"{final}: neither the recording nor its parts could be read")


async def unrecorded_events(client: aioredis.Redis, room: str, *, start_ms: int, end_ms: int | None) -> list[dict]:
    """A show's events the recorder has not reached yet, from the stream. Read before
    the disk: whatever trimming takes after this is in a part written before it."""
    raw_cursor = await client.get(keys.recorded(room))
    cursor = raw_cursor.decode() if raw_cursor else "0-0"
    start = f"({cursor}" if _id_key(cursor) >= (start_ms, 0) else f"{start_ms}-0"
    stop = str(end_ms) if end_ms else "+"
    tail: list[dict] = []
    while True:
        batch = await client.xrange(keys.stream(room), min=start, max=stop, count=READ_COUNT)
        tail.extend(orjson.loads(fields[b"e"]) for _, fields in batch)
        if len(batch) < READ_COUNT:
            return tail
        start = f"({batch[-1][0].decode()}"


async def show_events(client: aioredis.Redis, data_dir: Path, room: str, *, show_id: int, start_ms: int,
                      end_ms: int | None) -> list[dict]:
    """Every event of a show: the stream beyond the recorder, then what is on disk."""
    tail = await unrecorded_events(client, room, start_ms=start_ms, end_ms=end_ms)
    recorded = await asyncio.to_thread(events_on_disk, data_dir, room, show_id)
    return unique_events([*recorded, *tail])
