"""Opening a show's review: stored (computed once, served from SQL) against rebuilt from
the recording, for shows of 30k, 300k and 2M events (40 events/s: 12.5 minutes, 2.1 hours
and 13.9 hours, the 日不落 show).

For each size the simulator makes a show at 40 events/s on the hourly flash-sale script,
writes its recording, and this prints, for this machine and this run:

  1. raw: reading the recording back (gzip and JSON lines), the floor under any rebuild;
  2. rebuilt: ``compute_review`` on the recording, what the review process does once when
     a show ends and on every rebuild (the button, ``controlroom review rebuild``), with
     its ratio to the raw read;
  3. draft: what a running show's draft costs once its fold is up to date (the review
     built from the folded numbers: minutes, segments, words), the part that does not
     shrink with the few seconds of events folded on each draft;
  4. stored: what opening the review costs once it is stored: ``Reviews.review`` (the SQL
     read of the stored review) plus rendering the review page, as the route does; and
     the comparison of two such shows (``/reviews/compare``: two stored reads, one page).

Each figure is the best of ``--repeat`` passes (the machine is shared); the 2M rebuild
runs once. Aim (issue 18): a 14-hour show's review opens in under 1 s, a comparison too.

    python bench/review.py [--sizes 30000,300000,2000000] [--repeat 3] [--rate 40]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.services import redis_and_sqlite  # noqa: E402
from controlroom.auth.permissions import Role  # noqa: E402
from controlroom.auth.service import Principal  # noqa: E402
from controlroom.bus.client import connect  # noqa: E402
from controlroom.clock import SystemClock  # noqa: E402
from controlroom.db.session import make_engine, run_in_transaction, session_factory, transaction  # noqa: E402
from controlroom.moderation.lexicon import default_allow, default_terms  # noqa: E402
import controlroom.reports.compute as compute_module  # noqa: E402
from controlroom.reports.compute import ReviewJob, compute_review  # noqa: E402
from controlroom.reports.review import ReviewFold, segment_spans  # noqa: E402
from controlroom.reports.recording import read_recording, recording_path, write_recording  # noqa: E402
from controlroom.reports.service import Reviews, _store, show_context  # noqa: E402
from controlroom.rooms.service import get_or_create_room  # noqa: E402
from controlroom.shows import engine  # noqa: E402
from controlroom.shows.runs import save_script  # noqa: E402
from controlroom.shows.schedule import add_show  # noqa: E402
from controlroom.shows.script import Script  # noqa: E402
from controlroom.shows.templates import flash_sale_hourly  # noqa: E402
from controlroom.sim.generator import ShowSimulator  # noqa: E402
from controlroom.web.render import Renderer  # noqa: E402

START_MS = 1_767_261_600_000  # 2026-01-01 18:00 Asia/Shanghai


def best(passes: int, work) -> tuple[float, object]:
    result, times = None, []
    for _ in range(passes):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return min(times), result


def make_show(database_url: str, data_dir: Path, room: str, events: int, rate: float) -> int:
    """A show of `events` events at `rate`/s on back-to-back hourly scripts, ended, with
    its recording where an ended show's recording is."""
    seconds = int(events / rate)
    hour = flash_sale_hourly()
    segments = []
    while sum(s.planned_s for s in segments) < seconds:
        segments.extend(hour.segments)
    script = Script(tuple(segments), planned_total_s=seconds)
    run = engine.start(script, engine.RunState(), START_MS)
    clock = START_MS
    for segment in script.segments[:-1]:
        clock += segment.planned_s * 1000
        if clock >= START_MS + seconds * 1000:
            break
        run = engine.next_segment(script, run, clock)
    run = engine.end(script, run, START_MS + seconds * 1000)
    db = make_engine(database_url)
    with transaction(session_factory(db)) as session:
        room_row = get_or_create_room(session, slug=room, name=f"{events:,} 事件", timezone="Asia/Shanghai")
        show = add_show(session, room=room_row, title=f"{seconds / 3600:.1f} 小时直播",
                        planned_start=datetime.fromtimestamp(START_MS / 1000, tz=timezone.utc), status="ended")
        save_script(session, show, script)
        show.run = run.to_json()
        show_id = show.id
    db.dispose()
    simulator = ShowSimulator(seed=events, start_ms=START_MS, rate=rate)
    made = simulator.events_until(START_MS + seconds * 1000)
    target = recording_path(data_dir, room, show_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        write_recording(made, out)
    return show_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="30000,300000,2000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rate", type=float, default=40.0)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    renderer = Renderer(tz=ZoneInfo("Asia/Shanghai"))
    principal = Principal(name="bench", role=Role.ANALYST, room_slugs=None)
    data_dir = Path(tempfile.mkdtemp(prefix="controlroom-bench-review-"))
    # The built-in lexicon, as a server publishes it for the review process to match with.
    lexicon = orjson.dumps({"terms": [[t.text, t.category, t.severity] for t in default_terms()],
                            "allow": default_allow()})

    with redis_and_sqlite("review") as (redis_url, database_url):
        sessions = session_factory(make_engine(database_url))
        print(f"review bench: {args.rate:g} events/s shows; best of {args.repeat} (2M+ rebuilds: one pass)")
        print(f"{'events':>10} {'raw read':>10} {'rebuilt':>10} {'ratio':>7} {'draft':>8} {'stored+page':>12} "
              f"{'compare':>9}")
        stored_pairs: list[tuple[str, int]] = []
        for size in sizes:
            room = f"bench-{size}"
            show_id = make_show(database_url, data_dir, room, size, args.rate)
            path = recording_path(data_dir, room, show_id)
            passes = 1 if size >= 1_000_000 else args.repeat
            raw_s, events = best(passes, lambda: read_recording(path))
            now = datetime.now(timezone.utc)
            context = asyncio.run(run_in_transaction(sessions, lambda s: show_context(s, room, show_id, now)))
            job = ReviewJob(data_dir=data_dir, room=room, context=context, previous=[], now_ms=int(time.time() * 1000),
                            lexicon=lexicon)
            rebuilt_s, review = best(passes, lambda: compute_review(job))
            fold = ReviewFold(compute_module._tagger(lexicon))
            fold.add(events, segment_spans(context["run"], job.now_ms))
            draft_s, _ = best(args.repeat, lambda: compute_module._finish(job, fold))
            asyncio.run(run_in_transaction(sessions, lambda s: _store(s, show_id, review, now)))
            stored_pairs.append((room, show_id))

            async def open_stored(room: str = room, show_id: int = show_id) -> None:
                client = connect(redis_url)
                reviews = Reviews(client, sessions, data_dir=data_dir, clock=SystemClock())
                stored = await reviews.review(room, show_id)
                renderer.render("pages/review.html", locale="zh_CN", r=stored, items=[], categories={}, principal=principal,
                                csrf_token="x", path="/")
                await client.aclose()

            stored_s, _ = best(args.repeat, lambda: asyncio.run(open_stored()))

            async def compare(pairs=tuple(stored_pairs[-2:])) -> None:
                client = connect(redis_url)
                reviews = Reviews(client, sessions, data_dir=data_dir, clock=SystemClock())
                loaded = [await reviews.review(r, s) for r, s in pairs]
                renderer.render("pages/review_compare.html", locale="zh_CN", reviews=loaded, principal=principal,
                                csrf_token="x", path="/")
                await client.aclose()

            compare_s, _ = best(args.repeat, lambda: asyncio.run(compare()))
            print(f"{len(events):>10,} {raw_s:>9.2f}s {rebuilt_s:>9.2f}s {rebuilt_s / raw_s:>6.1f}x "
                  f"{draft_s * 1000:>6.0f}ms {stored_s * 1000:>10.0f}ms {compare_s * 1000:>7.0f}ms", flush=True)


if __name__ == "__main__":
    main()
